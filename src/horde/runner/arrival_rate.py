"""The open model: start scenario iterations at a planned rate, whatever the server does.

The closed model (``LocalRunner``) keeps N users busy, so a slow server slows the load down and
hides its own slowness (coordinated omission). Here iterations start on a schedule instead, like
k6's arrival-rate executors and Gatling's open injection, and latency is charged from the time
an iteration was *due*, not from when the generator got round to it.

An iteration is one task, picked by weight, run by a user taken from a pool (created on demand,
each with its own HTTP client, ``on_start`` at its first iteration); iterations never wait
between tasks. At most ``max_concurrency`` iterations run at once. An iteration due while all of
them are busy waits in a backlog (bounded to ``BACKLOG_SECONDS`` of arrivals) and starts as soon
as one finishes: it is counted as *late* (k6's ``dropped_iterations`` counts the same situation,
but k6 skips the iteration, which hides the wait); one that does not fit in the backlog, or is
still waiting when the run stops, is counted as *dropped*.

Latency, recorded per request name:

- ``environment.stats`` (what every table, file and threshold reads) gets the *corrected* time:
  the first request of an iteration is charged the iteration's start delay (start - due time)
  plus its own service time; later requests of the iteration follow the real responses, as a
  real visitor's would, and are charged their service time only.
- ``environment.service_stats`` gets the raw service time (send to last byte) of every request.

The runner has the same control surface as ``LocalRunner`` (``horde.runner.interface.Runner``),
with a rate for a user count: ``start(ArrivalRate(rate, ramp))`` (or ``change``) moves the arrival
rate towards ``rate`` iterations/s, changing by ``ramp`` iterations/s every second (``inf``: at
once); stages, load shapes and the capacity search drive either runner through it. Its own
figures are read through ``runner.open_model`` (``horde.runner.interface.OpenModel``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from horde.bridge import run_blocking
from horde.compat.waiting import user_tasks
from horde.exceptions import (
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    StopTest,
    StopUser,
    UserCodeAbandoned,
    UserStopped,
)
from horde.runner.distribution import interleave
from horde.runner.lifecycle import (
    ABANDONED_TASKS,
    CANCEL_GRACE,
    DRAIN_GRACE,
    RunLifecycle,
    RunnerState,
)
from horde.runner.load import ArrivalRate
from horde.runner.local import IGNORED_CANCEL
from horde.scenario.shape import ARRIVAL_RATE
from horde.scenario.tasks import SequentialTaskSet, Task, TaskSet
from horde.scenario.users import call_user_code, create_user
from horde.stats import RequestStats, StatsEntry

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.load import Load
    from horde.scenario.users import User

log = logging.getLogger("horde.runner")

__all__ = [
    "BACKLOG_SECONDS",
    "DEFAULT_MAX_CONCURRENCY",
    "ArrivalRateRunner",
    "RateSegment",
]

# Without --max-concurrency: at least this many in flight, and at least CONCURRENCY_SECONDS of
# arrivals at the highest rate asked for, so a server that slows down gets the iterations due
# meanwhile on time (their latency shows the slowdown) instead of making them wait here.
DEFAULT_MAX_CONCURRENCY = 100
CONCURRENCY_SECONDS = 10.0
BACKLOG_SECONDS = 10.0  # late iterations wait at most this many seconds' worth of arrivals
MIN_BACKLOG = 1000
_BATCH = 64  # iterations started without yielding to the loop when the schedule is behind
# The loop's timers have millisecond resolution (libuv): an iteration due within this much is
# started now rather than after a sleep that would overshoot it.
_EARLY = 0.001


class RateSegment:
    """The planned arrival rate from ``t0`` on: a linear ramp ``r0 -> r1`` at ``change``/s, then
    constant ``r1``. Times are ``time.perf_counter()`` seconds.

    ``advance`` integrates the rate exactly, so a ramp starts the right number of iterations
    whatever its slope (a step of 1/rate would stall at rate 0 and drift on steep ramps).
    """

    __slots__ = ("change", "end", "r0", "r1", "slope", "t0")

    def __init__(self, t0: float, r0: float, r1: float, change: float) -> None:
        self.t0, self.r0, self.r1 = t0, r0, r1
        self.change = change
        if change == math.inf or r0 == r1:
            self.end, self.slope = t0, 0.0
        else:
            self.end = t0 + abs(r1 - r0) / change
            self.slope = change if r1 > r0 else -change

    def rate_at(self, t: float) -> float:
        if t >= self.end:
            return self.r1
        return self.r0 + self.slope * (max(t, self.t0) - self.t0)

    def advance(self, t: float, need: float) -> float | None:
        """The time at which ``need`` more iterations are due after ``t``; None: never."""
        if need <= 0:
            return t
        t = max(t, self.t0)
        if t < self.end:
            rate = self.rate_at(t)
            available = (rate + self.r1) / 2 * (self.end - t)
            if available >= need:
                # rate*dt + slope*dt^2/2 = need, in the form that stays exact for tiny slopes
                root = math.sqrt(max(0.0, rate * rate + 2 * self.slope * need))
                return t + 2 * need / (rate + root) if rate + root > 0 else self.end
            need -= available
            t = self.end
        if self.r1 <= 0:
            return None
        return t + need / self.r1


class _Recorder:
    """Stands in for the run's stats in one pooled user's HTTP client (a ``Recorder``).

    The client records each request through ``entry(method, name)``, the only thing a client
    asks of where it records; this hands it a row that writes the corrected time to the run's
    stats and the raw time to the service stats. No change to the client is needed, and
    clients of the closed model are untouched.
    """

    __slots__ = ("_entries", "lag_us", "service", "stats")

    def __init__(self, stats: RequestStats, service: RequestStats) -> None:
        self.stats = stats
        self.service = service
        self.lag_us = 0  # the current iteration's start delay, charged to its first request
        self._entries: dict[tuple[str, str], _CorrectedEntry] = {}

    def entry(self, method: str, name: str) -> _CorrectedEntry:
        key = (method, name)
        found = self._entries.get(key)
        if found is None:
            found = self._entries[key] = _CorrectedEntry(
                self, self.stats.entry(method, name), self.service.entry(method, name)
            )
        return found


class _CorrectedEntry:
    __slots__ = ("main", "recorder", "service")

    def __init__(self, recorder: _Recorder, main: StatsEntry, service: StatsEntry) -> None:
        self.recorder = recorder
        self.main = main
        self.service = service

    def record(self, response_time_us: int, response_length: int) -> None:
        recorder = self.recorder
        lag = recorder.lag_us
        recorder.lag_us = 0
        self.service.record(response_time_us, response_length)
        self.main.record(response_time_us + lag, response_length)

    def record_failure(self, error: BaseException | str) -> None:
        self.main.record_failure(error)
        self.service.record_failure(error)


class _Slot:
    """A pooled user and what the runner knows about it."""

    __slots__ = ("cls", "recorder", "started", "user")

    def __init__(self, user: User, recorder: _Recorder | None) -> None:
        self.user = user
        self.cls = type(user)
        self.recorder = recorder
        self.started = False


class ArrivalRateRunner(RunLifecycle):
    """Starts iterations of ``environment.user_classes`` at a planned rate (the open model)."""

    model = ARRIVAL_RATE
    spawn_rate = None  # the open model has a rate and its ramp, not users spawned per second

    def __init__(self, environment: Environment, max_concurrency: int | None = None) -> None:
        self.environment = environment
        environment.runner = self
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max concurrency must be at least 1")
        self._fixed_concurrency = max_concurrency
        self.max_concurrency = max_concurrency or DEFAULT_MAX_CONCURRENCY
        self.state = RunnerState.READY
        self.started_at: float | None = None
        self.target_rate = 0.0
        self.service_stats = RequestStats()
        environment.service_stats = self.service_stats
        weights = {c: max(0, int(getattr(c, "weight", 1))) for c in environment.user_classes}
        if not any(weights.values()):
            weights = dict.fromkeys(environment.user_classes, 1)
        self._order: list[type[User]] = interleave(weights)
        self._next_class = 0
        self._segment = RateSegment(time.perf_counter(), 0.0, 0.0, math.inf)
        self._free: dict[type[User], list[_Slot]] = {c: [] for c in environment.user_classes}
        self._slots: list[_Slot] = []
        self._backlog: deque[tuple[float, type[User]]] = deque()
        self._tasks: dict[asyncio.Task[None], _Slot] = {}
        self._scheduler: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_due: float | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.planned: float | None = None  # set by a shape driver; else the current rate
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.scheduled = 0  # iterations that fell due
        self.started = 0  # iterations that started (on time or late)
        self.completed = 0
        self.late = 0  # due while every slot was busy: waited in the backlog
        self.dropped = 0  # never started: backlog full, or still waiting at the end
        self.max_lag = 0.0  # seconds, the largest start delay
        self._last_counts = (0, 0, 0, 0)

    # Reading ---------------------------------------------------------------------------------
    @property
    def user_count(self) -> int:
        """Iterations in flight (what 'users' means in the open model)."""
        return len(self._tasks)

    @property
    def pending(self) -> int:
        """Iterations started and not finished, plus those waiting for a free slot."""
        return len(self._tasks) + len(self._backlog)

    @property
    def target_user_count(self) -> int:
        return self.max_concurrency

    @property
    def user_classes_count(self) -> dict[str, int]:
        counts = dict.fromkeys((c.__name__ for c in self.environment.user_classes), 0)
        for slot in self._tasks.values():
            counts[slot.cls.__name__] += 1
        return counts

    @property
    def current_rate(self) -> float:
        """The planned arrival rate now, iterations/s."""
        return self._segment.rate_at(time.perf_counter())

    @property
    def open_model(self) -> ArrivalRateRunner:
        return self

    def use_model(self, model: str, max_concurrency: int | None = None) -> bool:
        """Never kept for another test: its pool of users and its concurrency limit are sized
        for the test it was made for."""
        return False

    # Control ---------------------------------------------------------------------------------
    def _move_to(self, load: Load) -> None:
        """Move the arrival rate towards ``load.per_second``, by ``load.ramp``/s each second
        (inf: at once); may be called again at any time to re-target."""
        assert isinstance(load, ArrivalRate)
        rate, ramp = load.per_second, load.ramp
        loop = asyncio.get_running_loop()
        now = time.perf_counter()
        current = self._segment.rate_at(now)
        # What has accrued since the last due iteration counts towards the next one.
        if self._last_due is None:
            need = 0.0 if (current > 0 or ramp == math.inf) and rate > 0 else 1.0
        else:
            elapsed = now - self._last_due
            need = max(0.0, 1.0 - current * elapsed) if current > 0 else 1.0
        self._segment = RateSegment(now, current, rate, ramp)
        self.target_rate = rate
        if self._fixed_concurrency is None:
            wanted = math.ceil(rate * CONCURRENCY_SECONDS)
            self.max_concurrency = max(self.max_concurrency, DEFAULT_MAX_CONCURRENCY, wanted)
        if self._scheduler is not None:
            self._scheduler.cancel()
        self.state = RunnerState.RUNNING
        self._scheduler = loop.create_task(self._schedule(now, need))

    # stop(): no more iterations are scheduled; those in flight finish within stop_timeout.
    def _reset(self) -> None:
        self._segment = RateSegment(time.perf_counter(), 0.0, 0.0, math.inf)
        self.service_stats.reset()
        self.service_stats.start_time = self.environment.stats.start_time  # the test's start
        self._reset_counters()
        self._last_due = None

    def _halt(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            self._scheduler = None
        self.dropped += len(self._backlog)
        self._backlog.clear()

    async def _drain(self) -> None:
        await self._stop_iterations()
        await self._retire_users([s for s in self._slots if s.started])
        for slot in self._slots:
            await slot.user.close()
        self._slots.clear()
        for free in self._free.values():
            free.clear()

    def _ending(self, stopped_at: float) -> None:
        self.service_stats.end_time = stopped_at
        self.target_rate = 0.0

    def stop_users_now(self) -> None:
        """Tell iterations in flight to stop at their next request (a second Ctrl-C)."""
        for slot in self._tasks.values():
            slot.user.request_stop(hard=True)
        self.hurry()

    def summary(self) -> dict[str, Any]:
        """The counters of the run (for the summary and the JSON results)."""
        stats = self.environment.stats
        end = stats.end_time or time.time()
        seconds = max(end - stats.start_time, 1e-9)
        return {
            "max_concurrency": self.max_concurrency,
            "scheduled_iterations": self.scheduled,
            "started_iterations": self.started,
            "completed_iterations": self.completed,
            "late_iterations": self.late,
            "dropped_iterations": self.dropped,
            "max_start_delay_ms": self.max_lag * 1000,
            "achieved_rate": self.started / seconds,
            "users_allocated": len(self._slots),
        }

    # Scheduling ------------------------------------------------------------------------------
    async def _schedule(self, t: float, need: float) -> None:
        if self._test_starting is not None and not self._test_starting.done():
            # test_start's listeners wait (hooks.py): the plan starts once they are done.
            await self._test_started()
            late = time.perf_counter() - t
            old = self._segment
            self._segment = RateSegment(old.t0 + late, old.r0, old.r1, old.change)
            t += late
        segment = self._segment
        dispatch = self._dispatch
        clock = time.perf_counter
        burst = 0
        while True:
            due = segment.advance(t, need)
            if due is None:
                return  # rate 0 from now on: the next start() schedules again
            now = clock()
            if due > now + _EARLY:
                burst = 0
                await asyncio.sleep(due - now - _EARLY / 2)
            else:
                burst += 1
                if burst >= _BATCH:  # behind schedule: catch up, but let the loop breathe
                    burst = 0
                    await asyncio.sleep(0)
            self._last_due = due
            dispatch(due)
            t, need = due, 1.0

    def _pick_class(self) -> type[User]:
        order = self._order
        cls = order[self._next_class % len(order)]
        self._next_class += 1
        return cls

    def _dispatch(self, due: float) -> None:
        self.scheduled += 1
        cls = self._pick_class()
        if len(self._tasks) < self.max_concurrency:
            slot = self._take(cls)
            if slot is None:
                self.dropped += 1  # its user could not be created (counted as an exception)
            else:
                self._launch(slot, due)
            return
        limit = max(MIN_BACKLOG, int(BACKLOG_SECONDS * max(self._segment.r1, self.current_rate)))
        if len(self._backlog) >= limit:
            self.dropped += 1
        else:
            self._backlog.append((due, cls))
            self.late += 1

    def _take(self, cls: type[User]) -> _Slot | None:
        free = self._free[cls]
        if free:
            return free.pop()
        user = create_user(cls, self.environment)
        if user is None:
            return None
        recorder = _Recorder(self.environment.stats, self.service_stats)
        slot = _Slot(user, recorder if user.record_through(recorder) else None)
        self._slots.append(slot)
        return slot

    def _launch(self, slot: _Slot, due: float) -> None:
        task = asyncio.get_running_loop().create_task(
            self._iterations(slot, due), name=f"iteration:{slot.cls.__name__}"
        )
        user_tasks.add(task)  # greenlets its user code spawns die with it
        self._tasks[task] = slot
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self.environment.stats.record_exception(error, where="iteration")

    async def _iterations(self, slot: _Slot, due: float) -> None:
        """Run the iteration due at ``due``, then any the backlog holds, on this slot."""
        task = asyncio.current_task()
        while True:
            keep = await self._iterate(slot, due)
            if keep:
                self._free[slot.cls].append(slot)
            else:
                self._discard(slot)
            if not self._backlog or self.state is not RunnerState.RUNNING:
                return
            due, cls = self._backlog.popleft()
            taken = self._take(cls)
            if taken is None:
                self.dropped += 1
                return
            slot = taken
            if task is not None:
                self._tasks[task] = slot

    async def _iterate(self, slot: _Slot, due: float) -> bool:
        """One iteration; False when the user must not be reused (it stopped or failed)."""
        user = slot.user
        lag = max(0.0, time.perf_counter() - due)
        self.started += 1
        if lag > self.max_lag:
            self.max_lag = lag
        if slot.recorder is not None:
            slot.recorder.lag_us = int(lag * 1_000_000)
        stats = self.environment.stats
        try:
            if not slot.started:
                slot.started = True
                user.current_task_name = f"{slot.cls.__name__}.on_start"
                try:
                    await call_user_code(user.on_start)
                except (StopUser, StopTest):
                    raise
                except Exception as exc:
                    stats.record_exception(exc, where=f"{slot.cls.__name__}.on_start")
                    return False
            await _run_task(slot.cls._horde_pick(), user, user)
        except InterruptTaskSet:
            pass  # interrupt() outside a task set: nothing to leave
        except UserCodeAbandoned as exc:
            stats.record_exception(exc, where=user.current_task_name)
            slot.started = False  # its on_stop is not given the chance to hang again
            return False
        except (StopUser, UserStopped):
            return False
        except StopTest:
            self.environment.request_test_stop("StopTest raised by a task")
            return False
        finally:
            self.completed += 1
        return True

    def _discard(self, slot: _Slot) -> None:
        """A user that raised StopUser: its on_stop runs in the background, its slot is gone."""
        if slot in self._slots:
            self._slots.remove(slot)
        task = asyncio.get_running_loop().create_task(self._retire_users([slot], close=True))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _retire_users(self, slots: list[_Slot], close: bool = False) -> None:
        async def retire(slot: _Slot) -> None:
            if slot.started:
                slot.user.current_task_name = f"{slot.cls.__name__}.on_stop"
                try:
                    await call_user_code(slot.user.on_stop)
                except UserCodeAbandoned as exc:
                    where = slot.user.current_task_name
                    self.environment.stats.record_exception(exc, where=where)
                except (StopUser, StopTest, UserStopped):
                    pass
                except Exception as exc:
                    where = f"{slot.cls.__name__}.on_stop"
                    self.environment.stats.record_exception(exc, where=where)
            if close:
                await slot.user.close()

        jobs = {asyncio.ensure_future(retire(s)): s for s in slots}
        if not jobs:
            return
        _, pending = await asyncio.wait(jobs, timeout=self.environment.stop_timeout + DRAIN_GRACE)
        for job in pending:
            job.cancel()
        if pending:
            _, pending = await asyncio.wait(pending, timeout=CANCEL_GRACE)
        ABANDONED_TASKS.update(pending)
        for job in pending:
            where = f"{jobs[job].cls.__name__}.on_stop"
            self.environment.stats.record_exception(UserCodeAbandoned(IGNORED_CANCEL), where=where)

    async def _stop_iterations(self) -> None:
        """As ``LocalRunner`` stops users: let in-flight work finish, then stop it hard."""
        graceful = self.environment.stop_timeout > 0
        for slot in self._tasks.values():
            slot.user.request_stop(hard=not graceful)
        pending = set(self._tasks)
        if graceful and pending:
            pending = await self.wait_unless_hurried(pending, self.environment.stop_timeout)
            for task in pending:
                late = self._tasks.get(task)
                if late is not None:
                    late.user.request_stop(hard=True)
        slots = {task: self._tasks.get(task) for task in pending}
        for task in await self.finish_within_grace(pending):
            owner = slots.get(task)
            where = owner.user.current_task_name if owner is not None else "iteration"
            self.environment.stats.record_exception(UserCodeAbandoned(IGNORED_CANCEL), where=where)

    # Time ------------------------------------------------------------------------------------
    def _tick(self, now: float) -> None:
        in_flight = len(self._tasks)
        self.environment.stats.tick(now, in_flight)
        self.service_stats.tick(now, in_flight)
        rows = self.environment.stats.history.rows
        if rows:
            # The open model's own figures of that second, beside the request figures.
            counts = (self.scheduled, self.started, self.late, self.dropped)
            last = self._last_counts
            row = rows[-1]
            running = self.state is RunnerState.RUNNING
            row["target_rate"] = self.current_rate if running else 0.0
            row["target"] = self.planned if self.planned is not None else row["target_rate"]
            row["iterations"] = counts[1] - last[1]
            row["achieved"] = row["iterations"] / row["seconds"] if row["seconds"] else 0.0
            row["late_iterations"] = counts[2] - last[2]
            row["dropped_iterations"] = counts[3] - last[3]
            row["in_flight"] = in_flight
            self._last_counts = counts


async def _run_task(t: Task, owner: Any, user: User) -> None:
    """Run one task once; a task set runs one pass (a sequential one: each task in order)."""
    user.current_task_name = t.name
    try:
        if t.is_async:
            await t.fn(owner)
        elif t.is_taskset:
            await _run_task_set_once(t.fn(owner), user)
        else:
            await run_blocking(t.fn, owner)
    except (RescheduleTask, RescheduleTaskImmediately):
        pass
    except (StopUser, StopTest, InterruptTaskSet, asyncio.CancelledError):
        raise
    except Exception as exc:
        user.environment.stats.record_exception(exc, where=t.name)


async def _run_task_set_once(task_set: TaskSet, user: User) -> None:
    if isinstance(task_set, SequentialTaskSet):
        picks = list(type(task_set)._horde_schedule)
    else:
        picks = [task_set.next_task()] if type(task_set)._horde_schedule else []
    try:
        await call_user_code(task_set.on_start)
        for t in picks:
            await _run_task(t, task_set, user)
    except InterruptTaskSet:
        pass
    finally:
        try:
            await call_user_code(task_set.on_stop)
        except InterruptTaskSet:
            pass
