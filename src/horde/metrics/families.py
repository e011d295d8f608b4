"""What horde exports, read from the run's stats when asked: the one list both exporters render.

A family is named the Prometheus way (``horde_requests``, counters get ``_total`` when rendered)
and carries its OpenTelemetry name and unit beside. ``collect`` reads what the run already keeps:
each row's histogram and counters, the runner's users or iterations, the generator's health
sampler (``environment.health``). It costs a pass over each row's buckets per call, at scrape or
export time, and nothing per request.

Response times are exported as histograms whose bounds are edges of horde's own buckets
(``BOUNDS_US``), so each bucket's count is an exact sum of horde's counts, not an estimate.
The request rows are exported by (method, name); the aggregated row is not (a dashboard's
``sum()`` makes it, and exporting it too would count every request twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from horde.metrics.run_info import RunInfo
from horde.runner.lifecycle import RunnerState
from horde.stats.histogram import bucket_index, bucket_low

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.interface import Runner
    from horde.stats.entries import StatsEntry

__all__ = [
    "BOUNDS_SECONDS",
    "BOUNDS_US",
    "Family",
    "HistogramSeries",
    "Labels",
    "Series",
    "collect",
    "histogram_series",
]

Labels = tuple[tuple[str, str], ...]
Kind = Literal["counter", "gauge", "histogram"]

# 125 µs to 65.5 s, doubling: 125 µs x 2**k is the first value of one of horde's buckets for
# every k (125 < 128 has a bucket of its own; above, 125 x 2**k is bucket 125 of its power of
# two), so "faster than the bound" is a whole number of horde's buckets, counted exactly.
# Round decimal bounds (5 ms, 100 ms) fall inside a bucket and could only be estimated.
BOUNDS_US: tuple[int, ...] = tuple(125 << k for k in range(20))
BOUNDS_SECONDS: tuple[float, ...] = tuple(b / 1e6 for b in BOUNDS_US)
_BOUND_INDEXES: tuple[int, ...] = tuple(bucket_index(b) for b in BOUNDS_US)
assert all(bucket_low(i) == b for i, b in zip(_BOUND_INDEXES, BOUNDS_US, strict=True))

_RUNNING = (RunnerState.SPAWNING, RunnerState.RUNNING, RunnerState.STOPPING)


@dataclass(frozen=True)
class Series:
    """One value of a counter or a gauge."""

    labels: Labels
    value: float


@dataclass(frozen=True)
class HistogramSeries:
    """One histogram: ``counts[i]`` requests took less than ``BOUNDS_SECONDS[i]`` and at least
    the bound before (the last count: at least the last bound); ``sum``, ``min``, ``max`` in s."""

    labels: Labels
    counts: tuple[int, ...]
    count: int
    sum: float
    min: float
    max: float


@dataclass(frozen=True)
class Family:
    name: str  # Prometheus's, without the _total of a counter
    kind: Kind
    help: str
    otel_name: str
    unit: str  # UCUM, as OpenTelemetry wants it
    series: tuple[Series, ...] | tuple[HistogramSeries, ...]
    start: float | None = None  # when a counter or histogram began counting (Unix time)


def histogram_series(labels: Labels, entry: StatsEntry) -> HistogramSeries:
    """A row's latency histogram folded onto ``BOUNDS_US``: a sum over each stretch of buckets."""
    h = entry.histogram
    counts = h.counts
    folded: list[int] = []
    previous = 0
    for index in _BOUND_INDEXES:
        folded.append(sum(counts[previous:index]))
        previous = index
    folded.append(sum(counts[previous:]))
    return HistogramSeries(labels, tuple(folded), h.count, h.total / 1e6, h.min / 1e6, h.max / 1e6)


def collect(environment: Environment, run: RunInfo) -> list[Family]:
    """Every family, read now. Call it on the run's event loop (the stats change there)."""
    stats = environment.stats
    rows = sorted(stats.entries.values(), key=lambda e: (e.name, e.method))
    keyed = [((("method", e.method), ("name", e.name)), e) for e in rows]
    start = stats.start_time
    families = [
        _info(environment, run),
        Family(
            "horde_requests", "counter",
            "Requests made in the current test (failed ones included), by method and name.",
            "horde.requests", "{request}",
            tuple(Series(labels, e.num_requests) for labels, e in keyed), start,
        ),
        Family(
            "horde_request_failures", "counter",
            "Requests that failed in the current test, by method and name.",
            "horde.request.failures", "{request}",
            tuple(Series(labels, e.num_failures) for labels, e in keyed), start,
        ),
        Family(
            "horde_response_time_seconds", "histogram",
            "Response times in the current test, by method and name (bounds are edges of "
            "horde's own buckets: the counts are exact).",
            "horde.response_time", "s",
            tuple(histogram_series(labels, e) for labels, e in keyed), start,
        ),
        Family(
            "horde_response_bytes", "counter",
            "Bytes of response bodies received in the current test, by method and name.",
            "horde.response.bytes", "By",
            tuple(Series(labels, e.total_content_length) for labels, e in keyed), start,
        ),
        Family(
            "horde_exceptions", "counter",
            "Exceptions raised by the scenario's code in the current test.",
            "horde.exceptions", "{exception}",
            (Series((), sum(x.count for x in stats.exceptions.values())),), start,
        ),
    ]  # fmt: skip
    runner = environment.runner
    if runner is not None:
        families.extend(_load(runner, start))
    families.extend(_health(environment))
    return families


def _gauge(name: str, help_: str, otel: str, unit: str, *series: Series) -> Family:
    return Family(name, "gauge", help_, otel, unit, tuple(series))


def _info(environment: Environment, run: RunInfo) -> Family:
    runner = environment.runner
    labels = (
        ("run_id", run.run_id),
        ("version", run.version),
        ("mode", run.mode),
        ("scenario", run.scenario_name),
        ("host", environment.host or ""),
        ("load_model", runner.model if runner is not None else ""),
    )
    return _gauge(
        "horde_run_info", "This horde run: its id, version, mode, scenario, target and load "
        "model (always 1).", "horde.run.info", "1", Series(labels, 1),
    )  # fmt: skip


def _load(runner: Runner, start: float) -> list[Family]:
    """The load now: users (closed model) or iterations (open model), workers on a master."""
    running = runner.state in _RUNNING
    families = [
        _gauge("horde_test_running", "1 while a test runs (spawning, running or stopping).",
               "horde.test.running", "1", Series((), int(running))),
        _gauge("horde_test_start_time_seconds", "When the current (or last) test began, Unix "
               "time.", "horde.test.start_time", "s", Series((), runner.started_at or 0)),
    ]  # fmt: skip
    open_model = runner.open_model
    if open_model is None:
        families += [
            _gauge("horde_users", "Users running now.", "horde.users", "{user}",
                   Series((), runner.user_count)),
            _gauge("horde_target_users", "Users aimed for now.", "horde.users.target",
                   "{user}", Series((), runner.target_user_count)),
        ]  # fmt: skip
    else:
        families += [
            _gauge("horde_iterations_in_flight", "Iterations started and not finished (the "
                   "open model's concurrency).", "horde.iterations.in_flight", "{iteration}",
                   Series((), runner.user_count)),
            _gauge("horde_iterations_pending", "Iterations in flight plus those waiting for a "
                   "free slot.", "horde.iterations.pending", "{iteration}",
                   Series((), open_model.pending)),
            _gauge("horde_arrival_rate", "Iterations planned per second now.",
                   "horde.arrival_rate", "{iteration}/s", Series((), open_model.current_rate)),
            _gauge("horde_max_concurrency", "Iterations allowed in flight at once.",
                   "horde.iterations.max_concurrency", "{iteration}",
                   Series((), runner.target_user_count)),
            Family("horde_iterations_started", "counter", "Iterations started in the current "
                   "test (on time or late).", "horde.iterations.started", "{iteration}",
                   (Series((), open_model.started),), start),
            Family("horde_iterations_late", "counter", "Iterations that waited for a free "
                   "slot.", "horde.iterations.late", "{iteration}",
                   (Series((), open_model.late),), start),
            Family("horde_iterations_dropped", "counter", "Iterations that never started "
                   "(backlog full, or still waiting at the end).", "horde.iterations.dropped",
                   "{iteration}", (Series((), open_model.dropped),), start),
        ]  # fmt: skip
    view = runner.workers_view
    if view is not None:
        families += [
            _gauge("horde_workers", "Workers connected to this master.", "horde.workers",
                   "{worker}", Series((), view.worker_count)),
            _gauge("horde_master_cpu_ratio", "The master's own CPU, share of one core.",
                   "horde.master.cpu", "1", Series((), view.cpu_percent / 100)),
        ]  # fmt: skip
    return families


def _health(environment: Environment) -> list[Family]:
    """horde's own CPU and event-loop lag, per process that makes load, in its last second."""
    latest = sorted(environment.health.latest().items())
    if not latest:
        return []

    def per_process(value: str) -> tuple[Series, ...]:
        return tuple(Series((("process", name),), getattr(s, value)) for name, s in latest)

    lag = tuple(
        Series((("process", name), ("quantile", q)), seconds / 1000)
        for name, s in latest
        for q, seconds in (("0.5", s.lag_p50), ("0.99", s.lag_p99), ("1", s.lag_max))
    )
    return [
        _gauge("horde_generator_cpu_ratio", "horde's CPU in its last second, share of one core "
               "(process: local, or a worker's id).", "horde.generator.cpu", "1",
               *(Series(x.labels, round(x.value / 100, 4)) for x in per_process("cpu"))),
        _gauge("horde_generator_cpu_wait_ratio", "CPU horde's event loop waited for in its last "
               "second (ready to run, no CPU free), share of one core.",
               "horde.generator.cpu_wait", "1",
               *(Series(x.labels, round(x.value / 100, 4)) for x in per_process("cpu_wait"))),
        _gauge("horde_generator_loop_lag_seconds", "How late horde's event loop was in its last "
               "second: median, p99 and most of its readings.", "horde.generator.loop_lag", "s",
               *lag),
        _gauge("horde_generator_saturated", "1 when horde itself was saturated (its numbers "
               "are its own limit, not the target's).", "horde.generator.saturated", "1",
               *(Series(x.labels, int(x.value)) for x in per_process("saturated"))),
    ]  # fmt: skip
