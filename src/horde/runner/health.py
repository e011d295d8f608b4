"""Numbers that check themselves: was horde itself the bottleneck of what it measured?

horde times a request from sending it to reading its answer. While its own event loop is busy,
an answer that has arrived waits in the socket until the loop gets to it, and that wait is
counted as the target's latency; while its CPU is spent, the throughput it reports is its own
ceiling, not the target's. So every process that makes load samples itself, once a second:

- its **CPU**, as a share of one core (``horde.runner.cpu.CpuMeter``);
- its event loop's **lag**: 50 times a second the blocked-loop watch's thread
  (``horde.runner.blockwatch``) reads how long the loop is overdue on its 20 ms heartbeat, which
  is how long an answer arriving at that moment waits, at least, before horde reads it. Sampled
  from the thread, so a stalled loop is measured for as long as it stalls (time-weighted), not
  once when it comes back.

A second is **hot** when the CPU was at least ``CPU_LIMIT`` (90%) of a core, or when more than
``LAG_SHARE`` (1%) of its lag samples were above ``LAG_LIMIT`` (20 ms), that is its lag's p99
above 20 ms. A hot second is **saturated** when at least ``HOT_SECONDS`` (3) of the ``WINDOW``
(5) seconds up to it were hot: one garbage collection or one burst of user starts makes a hot
second, not a saturated generator. The saturated seconds of a run are the hot seconds of its
saturated windows. Why these limits: docs/generator-health.md.

``LoopSampler`` makes the samples of this process; ``GeneratorHealth`` (``environment.health``)
holds those of every process that makes load (this one, or a master's workers, whose samples
arrive in their reports) and answers the questions: now (``latest``, ``live``), over a capacity
step (``span``), over the run (``summary``, the JSON's ``meta.generator_health``).
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from horde.runner.cpu import CpuMeter, RunQueueMeter
from horde.stats.histogram import BUCKETS, Histogram, bucket_index

log = logging.getLogger("horde.health")

__all__ = [
    "CPU_LIMIT",
    "HOT_SECONDS",
    "LAG_LIMIT",
    "LAG_SHARE",
    "LOCAL",
    "WINDOW",
    "GeneratorHealth",
    "HealthSample",
    "LoopSampler",
    "ProcessHealth",
    "SpanHealth",
    "is_hot",
]

CPU_LIMIT = 90.0  # % of one core
LAG_LIMIT = 0.020  # seconds the loop may be behind...
LAG_SHARE = 0.01  # ...in at most this share of the samples (the lag's p99)
WINDOW = 5  # seconds judged together
HOT_SECONDS = 3  # hot seconds in a window that make it saturated
LOCAL = "local"  # the name of this process's series
RECENT = 3600  # samples kept per process (a capacity step, the charts' last hour)
STRETCHES_KEPT = 100
CLOSE_EARLY = 0.03  # a second is closed just before it ends, for the runner's tick to find it


def is_hot(cpu: float, cpu_wait: float, lag_samples: int, late: int) -> bool:
    """A hot second (or span): the CPU it used and waited for at the limit, or the loop late in
    more than 1% of samples."""
    return cpu + cpu_wait >= CPU_LIMIT or late > LAG_SHARE * lag_samples


@dataclass(frozen=True, slots=True)
class HealthSample:
    """One second of one process. Lags are milliseconds; ``timestamp`` is the whole second
    (Unix time) it ends at."""

    timestamp: float
    cpu: float  # % of one core
    cpu_wait: float  # % of one core the loop's thread waited for a CPU, ready to run
    lag_p50: float
    lag_p99: float
    lag_max: float
    lag_samples: int  # lag readings taken in the second
    late: int  # of which above LAG_LIMIT
    hot: bool
    saturated: bool  # the window that ends with this second was saturated
    # The second's lag readings, µs, as a sparse HDR histogram (Histogram.merge_sparse): the
    # run's lag percentiles are those of every reading, added up exactly over seconds.
    lag_histogram: dict[str, Any] | None = None

    @property
    def cpu_hot(self) -> bool:
        """It used (or waited for) a whole core: more work than the CPU it got."""
        return self.cpu + self.cpu_wait >= CPU_LIMIT

    @property
    def lag_hot(self) -> bool:
        return self.late > LAG_SHARE * self.lag_samples

    def to_wire(self) -> dict[str, Any]:
        """A map for a worker's report (maps let a newer master read an older worker)."""
        return asdict(self)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> HealthSample:
        """The sample a report carried; ``ValueError`` for anything else."""
        try:
            return cls(
                timestamp=float(data["timestamp"]),
                cpu=float(data["cpu"]),
                cpu_wait=float(data.get("cpu_wait", 0.0)),
                lag_p50=float(data["lag_p50"]),
                lag_p99=float(data["lag_p99"]),
                lag_max=float(data["lag_max"]),
                lag_samples=int(data["lag_samples"]),
                late=int(data["late"]),
                hot=bool(data["hot"]),
                saturated=bool(data["saturated"]),
                lag_histogram=_sparse(data.get("lag_histogram")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a health sample: {exc}") from None


def _sparse(data: object) -> dict[str, Any] | None:
    """A sparse histogram from the wire, checked enough to merge safely; None otherwise."""
    if not isinstance(data, dict):
        return None
    buckets = data.get("buckets")
    if not isinstance(buckets, dict) or not all(
        isinstance(data.get(k), int) for k in ("count", "total", "min", "max")
    ):
        return None
    try:
        cleaned = {int(i): int(n) for i, n in buckets.items()}
    except (TypeError, ValueError):
        return None
    if not all(0 <= i < BUCKETS and n >= 0 for i, n in cleaned.items()):
        return None
    return {**data, "buckets": cleaned}


def _sparse_histogram(ordered: list[int]) -> dict[str, Any]:
    """The sparse form ``Histogram.merge_sparse`` adds, of sorted values, without the 2,048
    buckets of a Histogram."""
    buckets: dict[int, int] = {}
    for value in ordered:
        index = bucket_index(value)
        buckets[index] = buckets.get(index, 0) + 1
    return {
        "buckets": buckets,
        "count": len(ordered),
        "total": sum(ordered),
        "min": ordered[0] if ordered else 0,
        "max": ordered[-1] if ordered else 0,
    }


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of a sorted list (0 when empty)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class LoopSampler:
    """This process's sampler, driven by the blocked-loop watch's thread: ``observe(lag)`` at
    every wake (50 times a second), ``tick(now)`` right after, which closes a second when one
    has ended and records it into ``health``.

    Read it from any thread: ``latest`` (the last whole second), ``cpu_percent()`` and
    ``loop_lag()``.
    """

    def __init__(
        self, health: GeneratorHealth | None = None, name: str = LOCAL, makes_load: bool = True
    ) -> None:
        self.health = health
        self.name = name
        self.makes_load = makes_load
        self.latest: HealthSample | None = None
        self._window: deque[HealthSample] = deque(maxlen=WINDOW)
        self._lags: list[float] = []
        self._cpu = CpuMeter()
        self._wait: RunQueueMeter | None = None
        self._next_close: float | None = None

    def set_loop_thread(self, native_id: int) -> None:
        """The loop's thread (``threading.get_native_id()`` in it): its waits for a CPU count."""
        self._wait = RunQueueMeter(native_id)

    # Read API ---------------------------------------------------------------------------------
    def cpu_percent(self) -> float:
        """The CPU of the last whole second, % of one core (0 before the first)."""
        latest = self.latest
        return latest.cpu if latest is not None else 0.0

    def loop_lag(self) -> tuple[float, float, float]:
        """The loop's lag over the last whole second, ms: (p50, p99, max)."""
        latest = self.latest
        if latest is None:
            return 0.0, 0.0, 0.0
        return latest.lag_p50, latest.lag_p99, latest.lag_max

    # Watch-thread side ------------------------------------------------------------------------
    def observe(self, lag: float) -> None:
        """One reading of how far behind its heartbeat the loop is now, in seconds."""
        self._lags.append(lag)

    def tick(self, now: float) -> HealthSample | None:
        """Close the second if it has ended (``now``: Unix time); the sample made, if any."""
        if self._next_close is None:  # the first call: a second from here, and whole
            self._next_close = self._close_after(now, minimum=0.95)
            self._cpu = CpuMeter()
            if self._wait is not None:
                self._wait = RunQueueMeter(self._wait.native_thread_id)
            self._lags = []
            return None
        if now < self._next_close:
            return None
        ends = round(self._next_close + CLOSE_EARLY)
        self._next_close = self._close_after(now, minimum=0.0)  # seconds missed are skipped
        return self.close(ends)

    @staticmethod
    def _close_after(now: float, minimum: float) -> float:
        close = math.floor(now) + 1 - CLOSE_EARLY
        while close - now < minimum or close <= now:
            close += 1
        return close

    def close(self, timestamp: float) -> HealthSample:
        """Make the sample of the second ending at ``timestamp`` from the readings so far."""
        lags, self._lags = self._lags, []
        lags.sort()
        count = len(lags)
        late = count - bisect.bisect_right(lags, LAG_LIMIT)
        cpu = self._cpu.percent()
        cpu_wait = self._wait.percent() if self._wait is not None else 0.0
        hot = is_hot(cpu, cpu_wait, count, late)
        recent = [*self._window][1 - WINDOW :] if WINDOW > 1 else []
        saturated = hot and sum(s.hot for s in recent) + 1 >= HOT_SECONDS
        readings = _sparse_histogram([int(lag * 1e6) for lag in lags])
        sample = HealthSample(
            timestamp=float(timestamp),
            cpu=cpu,
            cpu_wait=cpu_wait,
            lag_p50=round(1000 * _quantile(lags, 0.5), 2),
            lag_p99=round(1000 * _quantile(lags, 0.99), 2),
            lag_max=round(1000 * (lags[-1] if lags else 0.0), 2),
            lag_samples=count,
            late=late,
            hot=hot,
            saturated=saturated,
            lag_histogram=readings,
        )
        self._window.append(sample)
        self.latest = sample
        if self.health is not None:
            self.health.record(self.name, sample, makes_load=self.makes_load)
        return sample


@dataclass(frozen=True)
class SpanHealth:
    """The load generator over a span of time (a capacity step): its worst process."""

    process: str
    seconds: int
    hot_seconds: int
    cpu_mean: float
    cpu_wait_mean: float
    lag_samples: int
    late: int
    lag_p99: float  # ms, over every lag reading of the span

    @property
    def saturated(self) -> bool:
        """Hot for most of the span, and for a few seconds at least (as a run's window): the
        span's figures are horde's as much as the target's."""
        return self.hot_seconds >= HOT_SECONDS and self.hot_seconds * 2 > self.seconds

    @property
    def cpu_bound(self) -> bool:
        """It used, or waited for, a whole core: it could not have made more load."""
        return self.cpu_mean + self.cpu_wait_mean >= CPU_LIMIT

    @property
    def late_share(self) -> float:
        return self.late / self.lag_samples if self.lag_samples else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "seconds": self.seconds,
            "hot_seconds": self.hot_seconds,
            "cpu_percent_mean": round(self.cpu_mean, 1),
            "cpu_wait_percent_mean": round(self.cpu_wait_mean, 1),
            "late_share": round(self.late_share, 4),
            "loop_lag_p99_ms": round(self.lag_p99, 2),
            "saturated": self.saturated,
            "cpu_bound": self.cpu_bound,
        }


class ProcessHealth:
    """One process's samples: the recent ones, and the run's figures (from ``reset``)."""

    def __init__(self, name: str, makes_load: bool = True) -> None:
        self.name = name
        self.makes_load = makes_load
        self.recent: deque[HealthSample] = deque(maxlen=RECENT)
        self.latest: HealthSample | None = None
        self._lock = threading.Lock()
        self.reset(time.time())

    def reset(self, since: float) -> None:
        """Count the run's figures afresh from ``since`` (Unix time)."""
        self.since = since
        self.seconds = 0
        self.hot_seconds = 0
        self.saturated_seconds = 0
        self.cpu_total = 0.0
        self.cpu_max = 0.0
        self.wait_total = 0.0
        self.demand_max = 0.0  # CPU used plus waited for, in one second
        self.hot_cpu_total = 0.0  # CPU used in hot seconds
        self.hot_wait_total = 0.0  # and waited for
        self.lag_max = 0.0
        self.lag_samples = 0
        self.late = 0
        self.lags = Histogram()  # every lag reading of the run, µs
        self.stretches: list[list[float]] = []
        self._marked_until = since

    def add(self, sample: HealthSample, counted: bool) -> None:
        """Keep ``sample``; count it in the run's figures when ``counted``."""
        with self._lock:
            self.recent.append(sample)
            self.latest = sample
            if not counted:
                return
            self.seconds += 1
            self.hot_seconds += sample.hot
            self.cpu_total += sample.cpu
            self.cpu_max = max(self.cpu_max, sample.cpu)
            self.wait_total += sample.cpu_wait
            self.demand_max = max(self.demand_max, sample.cpu + sample.cpu_wait)
            if sample.hot:
                self.hot_cpu_total += sample.cpu
                self.hot_wait_total += sample.cpu_wait
            self.lag_max = max(self.lag_max, sample.lag_max)
            self.lag_samples += sample.lag_samples
            self.late += sample.late
            if sample.lag_histogram is not None:
                self.lags.merge_sparse(sample.lag_histogram)
            if sample.saturated:
                self._mark_window(sample)

    def _mark_window(self, last: HealthSample) -> None:
        """The hot seconds of the saturated window that ends with ``last`` (and were not
        marked yet) are saturated seconds; they extend the last stretch or start one."""
        floor = max(last.timestamp - WINDOW, self._marked_until, self.since)
        newly = [s for s in self.recent if floor < s.timestamp <= last.timestamp and s.hot]
        self._marked_until = last.timestamp
        if not newly:
            return
        self.saturated_seconds += len(newly)
        start = newly[0].timestamp - 1
        if self.stretches and self.stretches[-1][1] >= start - WINDOW:
            self.stretches[-1][1] = last.timestamp
        elif len(self.stretches) < STRETCHES_KEPT:
            self.stretches.append([start, last.timestamp])

    def samples_between(self, start: float, end: float) -> list[HealthSample]:
        """The seconds whose middle falls between ``start`` and ``end`` (Unix time)."""
        with self._lock:
            return [s for s in self.recent if start <= s.timestamp - 0.5 <= end]

    def samples_after(self, timestamp: float) -> list[HealthSample]:
        with self._lock:
            return [s for s in self.recent if s.timestamp > timestamp]

    @property
    def saturated(self) -> bool:
        return self.saturated_seconds > 0

    def summary(self) -> dict[str, Any]:
        with self._lock:
            p50, p99 = (v / 1000 for v in self.lags.percentiles([50, 99]))
            seconds, hot = self.seconds or 1, self.hot_seconds or 1
            return {
                "name": self.name,
                "makes_load": self.makes_load,
                "saturated": self.saturated,
                "seconds": self.seconds,
                "hot_seconds": self.hot_seconds,
                "seconds_saturated": self.saturated_seconds,
                "cpu_percent": {"mean": round(self.cpu_total / seconds, 1),
                                "max": round(self.cpu_max, 1),
                                "in_hot_seconds": round(self.hot_cpu_total / hot, 1)},
                "cpu_wait_percent": {
                    "mean": round(self.wait_total / seconds, 1),
                    "in_hot_seconds": round(self.hot_wait_total / hot, 1),
                },
                "cpu_demand_max": round(self.demand_max, 1),
                "loop_lag_ms": {"p50": round(p50, 2), "p99": round(p99, 2),
                                "max": round(self.lag_max, 2)},
                "late_share": round(self.late / self.lag_samples, 4) if self.lag_samples else 0.0,
                "stretches": [list(s) for s in self.stretches],
            }  # fmt: skip


class GeneratorHealth:
    """The health of every process that makes the load of a run (``environment.health``).

    Fed by this process's ``LoopSampler`` (``LOCAL``) and, on a distributed master, by workers'
    reports (named by worker id). ``begin()`` and ``end()`` bound the test the run's figures
    cover (the runner calls them as the test starts and once its load has drained).
    """

    def __init__(self, announce: bool = True) -> None:
        self.announce = announce  # log a warning when a process becomes saturated
        self.active = False
        self.began_at: float | None = None
        self.ended_at: float | None = None
        self._processes: dict[str, ProcessHealth] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    # Writing ------------------------------------------------------------------------------------
    def begin(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            for process in self._processes.values():
                process.reset(now)
            self.active, self.began_at, self.ended_at = True, now, None
            self._warned.clear()

    def end(self, now: float | None = None) -> None:
        self.active = False
        self.ended_at = time.time() if now is None else now

    def record(self, name: str, sample: HealthSample, makes_load: bool = True) -> None:
        with self._lock:
            process = self._processes.get(name)
            if process is None:
                process = self._processes[name] = ProcessHealth(name, makes_load)
                process.reset(self.began_at or sample.timestamp - 1)
        counted = self.active and sample.timestamp > process.since
        process.add(sample, counted)
        if counted and sample.saturated and makes_load and name not in self._warned:
            self._warned.add(name)  # once per process and test: the summary says the rest
            if self.announce:
                log.warning("%s", saturation_warning(name, sample, self.distributed))

    # Reading ------------------------------------------------------------------------------------
    @property
    def processes(self) -> list[ProcessHealth]:
        with self._lock:
            return list(self._processes.values())

    def process(self, name: str) -> ProcessHealth | None:
        return self._processes.get(name)

    @property
    def load_processes(self) -> list[ProcessHealth]:
        return [p for p in self.processes if p.makes_load]

    @property
    def distributed(self) -> bool:
        """The load comes from other processes (workers) than this one."""
        return any(p.name != LOCAL for p in self.load_processes)

    @property
    def sampled(self) -> bool:
        return any(p.latest is not None for p in self.load_processes)

    @property
    def saturated(self) -> bool:
        """A load-making process was saturated during the test."""
        return any(p.saturated for p in self.load_processes)

    def latest(self) -> dict[str, HealthSample]:
        """Each load-making process's last whole second (the read API for exporters)."""
        return {p.name: p.latest for p in self.load_processes if p.latest is not None}

    def at(self, timestamp: float) -> dict[str, Any] | None:
        """The worst of the processes' seconds that end at ``timestamp`` (a history row's):
        its CPU (used and waited for), lag p99 and whether any was saturated; None when none
        was sampled then."""
        seconds = [s for s in self.latest().values() if abs(s.timestamp - timestamp) <= 1.5]
        if not seconds:
            return None
        return {
            "generator_cpu": max(s.cpu + s.cpu_wait for s in seconds),
            "loop_lag": max(s.lag_p99 for s in seconds),
            "generator_saturated": any(s.saturated for s in seconds),
        }

    def span(self, start: float, end: float) -> SpanHealth | None:
        """The worst load-making process between ``start`` and ``end`` (Unix time): the one
        hot for the most seconds; None when nothing was sampled then."""
        worst: SpanHealth | None = None
        for process in self.load_processes:
            samples = process.samples_between(start, end)
            if not samples:
                continue
            lags = Histogram()
            for s in samples:
                if s.lag_histogram is not None:
                    lags.merge_sparse(s.lag_histogram)
            figures = SpanHealth(
                process=process.name,
                seconds=len(samples),
                hot_seconds=sum(s.hot for s in samples),
                cpu_mean=sum(s.cpu for s in samples) / len(samples),
                cpu_wait_mean=sum(s.cpu_wait for s in samples) / len(samples),
                lag_samples=sum(s.lag_samples for s in samples),
                late=sum(s.late for s in samples),
                lag_p99=lags.percentile(99) / 1000,
            )
            rank = (figures.hot_seconds, figures.cpu_mean + figures.cpu_wait_mean)
            if worst is None or rank > (worst.hot_seconds, worst.cpu_mean + worst.cpu_wait_mean):
                worst = figures
        return worst

    def live(self) -> dict[str, Any]:
        """For the web UI and the console: now (the worst last second), and the test so far."""
        latest = self.latest()
        saturated = self.saturated  # the full summary (percentiles) only when it has news
        return {
            "sampled": bool(latest),
            "saturated_now": any(s.saturated for s in latest.values()),
            "saturated": saturated,
            "cpu_percent": max((s.cpu for s in latest.values()), default=None),
            "cpu_wait_percent": max((s.cpu_wait for s in latest.values()), default=None),
            "loop_lag_ms": max((s.lag_p99 for s in latest.values()), default=None),
            "message": self.summary()["message"] if saturated else "",
            "distributed": self.distributed,
        }

    def summary(self) -> dict[str, Any]:
        """The run's verdict and figures: the JSON's ``meta.generator_health``."""
        processes = [p.summary() for p in self.processes]
        load = [p for p in processes if p["makes_load"]]
        if not any(p["seconds"] for p in load):
            return {
                "sampled": False,
                "saturated": False,
                "message": "horde's own CPU and event-loop lag were not sampled in this run",
                "limits": limits(),
                "processes": processes,
            }
        worst = max(load, key=lambda p: (p["seconds_saturated"], p["hot_seconds"],
                                          p["cpu_demand_max"]))  # fmt: skip
        saturated = [p for p in load if p["saturated"]]
        return {
            "sampled": True,
            "saturated": bool(saturated),
            "seconds": max(p["seconds"] for p in load),
            "seconds_saturated": worst["seconds_saturated"],
            "processes_saturated": [p["name"] for p in saturated],
            "worst_process": worst["name"],
            "cpu_percent": {
                "mean": worst["cpu_percent"]["mean"],
                "max": max(p["cpu_percent"]["max"] for p in load),
                "in_hot_seconds": worst["cpu_percent"]["in_hot_seconds"],
            },
            "cpu_wait_percent": worst["cpu_wait_percent"],
            "cpu_demand_max": max(p["cpu_demand_max"] for p in load),
            "loop_lag_ms": {
                "p50": worst["loop_lag_ms"]["p50"],
                "p99": max(p["loop_lag_ms"]["p99"] for p in load),
                "max": max(p["loop_lag_ms"]["max"] for p in load),
            },
            "late_share": max(p["late_share"] for p in load),
            "stretches": worst["stretches"],
            "message": verdict(worst, len(saturated), len(load), self.distributed),
            "limits": limits(),
            "processes": processes,
        }


def limits() -> dict[str, Any]:
    return {
        "cpu_percent": CPU_LIMIT,
        "loop_lag_ms": LAG_LIMIT * 1000,
        "late_share": LAG_SHARE,
        "window_seconds": WINDOW,
        "hot_seconds": HOT_SECONDS,
    }


# Words ------------------------------------------------------------------------------------------
STARVED = 25.0  # % of a core waited for a CPU, on average in hot seconds: the machine is full


def _who(name: str) -> str:
    return "horde" if name == LOCAL else f"worker {name}"


def cpus_here() -> int:
    """The CPUs this process may be scheduled on (its affinity), for the advice (the cgroup
    quota is --processes auto's business)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def advice(distributed: bool, cause: str) -> str:
    """What to do about a saturated generator, in one sentence. ``cause``: ``cpu`` (it used a
    whole core), ``starved`` (it waited for a CPU: the machine's are busy) or ``loop`` (its
    loop fell behind with CPU to spare)."""
    if cause == "loop":
        return (
            "its event loop fell behind while its CPU had room: look for code that blocks it "
            "(a blocking call in the scenario; see the warnings above), or a CPU quota below one "
            "core (a container's limit throttles it)"
        )
    if cause == "starved":
        return (
            "it waited for a CPU: this machine's CPUs are busy (other processes, or more horde "
            "processes than CPUs); free them, or run workers on other machines"
        )
    if distributed:
        return "spread the load over more workers (--processes N, or --worker on more machines)"
    machine = os.cpu_count() or 1
    if machine == 1:
        return "this machine has one CPU: add workers on other machines (--master, --worker)"
    if cpus_here() == 1:
        return (
            "horde may only run on one CPU here (its CPU affinity, e.g. taskset or a cpuset): "
            "allow it more and use --processes auto, or add workers on other machines"
        )
    # --processes auto counts the cores this process may use (affinity and cgroup quota).
    return (
        "spread the load over more processes: --processes auto (one per core horde may use "
        "here), or workers on other machines"
    )


def cause_of(cpu: float, cpu_wait: float) -> str:
    """Why a hot process was hot, from the CPU it used and waited for (% of a core): all of a
    core (``cpu``); a CPU it waited for, the machine's being busy (``starved``); or neither,
    its loop held by something (``loop``)."""
    if cpu + cpu_wait >= CPU_LIMIT:
        return "starved" if cpu_wait >= STARVED else "cpu"
    if cpu_wait >= 5 and cpu_wait >= cpu:  # it waited for a CPU longer than it ran
        return "starved"
    return "loop"


def _cpu_words(cpu: float, cpu_wait: float) -> str:
    text = f"CPU {cpu:.0f}% of one core"
    if cpu_wait >= 1:
        text += f" and {cpu_wait:.0f}% more waiting for one"
    return text


def saturation_warning(name: str, sample: HealthSample, distributed: bool) -> str:
    """The warning logged when a process becomes saturated."""
    return (
        f"{_who(name)} is saturated ({_cpu_words(sample.cpu, sample.cpu_wait)}, event-loop lag "
        f"p99 {sample.lag_p99:.0f} ms): latencies now include horde's own queueing; "
        + advice(distributed or name != LOCAL, cause_of(sample.cpu, sample.cpu_wait))
    )


def verdict(worst: dict[str, Any], saturated: int, processes: int, distributed: bool) -> str:
    """The run's health in a sentence or two, for the summary, the report and the UI."""
    cpu, wait, lag = worst["cpu_percent"], worst["cpu_wait_percent"], worst["loop_lag_ms"]
    if not worst["saturated"]:
        return (
            f"horde was not saturated: CPU at most {cpu['max']:.0f}% of one core, event-loop "
            f"lag p99 {lag['p99']:.1f} ms"
            + (f" (worst of {processes} workers)" if distributed else "")
            + "."
        )
    who = _who(worst["name"])
    if distributed and saturated > 1:
        who = f"{saturated} of {processes} workers (worst: {worst['name']})"
    cause = cause_of(cpu["in_hot_seconds"], wait["in_hot_seconds"])
    figures = f"CPU up to {cpu['max']:.0f}% of one core"
    if wait["in_hot_seconds"] >= 1:
        figures += f", waiting for one {wait['in_hot_seconds']:.0f}% of the time besides"
    sentence = advice(distributed, cause)
    return (
        f"{who} {'were' if saturated > 1 else 'was'} saturated for "
        f"{worst['seconds_saturated']} of {worst['seconds']} s ({figures}; event-loop lag p99 "
        f"{lag['p99']:.0f} ms): latencies include horde's own queueing, and the throughput may "
        f"be horde's limit rather than the target's. {sentence[0].upper()}{sentence[1:]}."
    )


def annotate_row(row: dict[str, Any], health: GeneratorHealth) -> None:
    """Add the generator's figures for the second a history row covers (for the charts)."""
    figures = health.at(float(row["timestamp"]))
    if figures is not None:
        row.update(figures)
