"""The start and the end of a test, the same for every runner.

Three runners make load in different ways (users on this loop, iterations at a rate, workers
elsewhere), but a test starts and ends the same way for all of them, and the order matters:
stats are reset before ``test_start`` fires, the last second is closed only after the load in
flight has drained (or its requests would fall outside the results), and ``test_stop`` fires
last, when the figures are final. That order is written once, here.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
import weakref
from collections.abc import Awaitable, Generator
from typing import TYPE_CHECKING, Any

from horde.compat import hub
from horde.runner.health import annotate_row
from horde.runner.hooks import fire_and_wait, fire_cooperatively
from horde.runner.load import ArrivalRate, Users
from horde.runner.surface import LocustRunnerSurface

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.interface import OpenModel, WorkersView
    from horde.runner.load import Load

__all__ = [
    "ABANDONED_TASKS",
    "CANCEL_GRACE",
    "DRAIN_GRACE",
    "IDLE",
    "RunLifecycle",
    "RunnerState",
]

# How long requests already in flight may take to finish once users are told to stop hard.
# They are recorded when they finish; any still open after this are cancelled and recorded as
# failures, so that the counts still match what the server received.
DRAIN_GRACE = 2.0
# How long a cancelled task may take to end. User code that catches CancelledError and carries
# on never does: it is abandoned (reported), so that the run still ends.
CANCEL_GRACE = 1.0

ABANDONED_TASKS: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
"""Tasks that ignored even their cancellation. A process holding one cannot shut its loop down
(asyncio waits for every task), so the session ends it once the results are written
(``horde.runner.stop_guard.StopGuard.concluded``)."""


class RunnerState(enum.StrEnum):
    """A runner's state; the values are Locust's ``STATE_*`` strings."""

    READY = "ready"
    SPAWNING = "spawning"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class _Done:
    """What ``stop()`` returns when there is nothing left to wait for: awaitable, and never
    "a coroutine that was not awaited" when user code calls it and moves on."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator: the await returns at once


_DONE = _Done()


IDLE = (RunnerState.READY, RunnerState.STOPPED)  # no test runs: the next start begins one


class RunLifecycle(LocustRunnerSurface):
    """Base of the runners (``horde.runner.interface.Runner``): begins a test, changes its load,
    stops it, ticks once a second in between.

    A runner sets ``model``, implements ``_move_to(load)`` (make that load from now on) and
    ``_tick(now)`` (close one second of stats), and overrides the steps it needs: ``_reset()``
    (its own figures, before ``test_start``), ``_halt()`` (make no more load), ``_drain()``
    (wait for the load in flight) and ``_ending(stopped_at)`` (targets to zero before the last
    tick).
    """

    environment: Environment
    state: RunnerState
    model: str  # USERS or ARRIVAL_RATE: the kind of Load that start and change take
    started_at: float | None
    planned: float | None = None
    _ticker: asyncio.Task[None] | None
    _hurry_event: asyncio.Event | None = None  # made on first use, inside the running loop
    # test_start's listeners, while they still wait (hooks.py): load starts after them.
    _test_starting: asyncio.Task[Any] | None = None
    _stop_task: asyncio.Task[None] | None = None

    def start(
        self,
        load: Load | int,
        spawn_rate: float | None = None,
        wait: bool = False,
        user_classes: Any = None,
    ) -> None:
        """Begin a test and move towards ``load``; returns at once (ramps run on the loop).

        Locust's call, ``start(user_count, spawn_rate)``, is understood too: that many users
        at that rate, and, as under Locust, on a test that runs it changes its load. From a
        library script's main code (no loop running) the call is made on the library loop
        (``horde.compat.hub``), where the test then runs whenever the script waits.
        """
        if not isinstance(load, Users | ArrivalRate):
            load = self._locust_load(load, spawn_rate)
            if self.state not in IDLE and self.state is not RunnerState.STOPPING:
                self.change(load)
                return
        if hub.active():
            hub.call(self.start, load)
            return
        self._check_model(load)
        if self.state not in IDLE:
            raise RuntimeError(f"a test is already {self.state}: change its load instead")
        self._begin_test(load)
        self._move_to(load)

    def _locust_load(self, user_count: Any, spawn_rate: float | None) -> Load:
        """The load of Locust's ``start(user_count, spawn_rate)``: users (the closed model)."""
        if not isinstance(user_count, int) or isinstance(user_count, bool):
            raise TypeError(f"start() takes Users(...), ArrivalRate(...) or a user count, not "
                            f"{user_count!r}")  # fmt: skip
        return Users(user_count, float(spawn_rate) if spawn_rate else float(max(user_count, 1)))

    def change(self, load: Load) -> None:
        """Move the test that runs towards ``load``; returns at once."""
        if hub.active():
            hub.call(self.change, load)
            return
        self._check_model(load)
        if self.state not in (RunnerState.SPAWNING, RunnerState.RUNNING):
            raise RuntimeError(f"no test runs to change (the runner is {self.state})")
        self._move_to(load)

    def use_model(self, model: str, max_concurrency: int | None = None) -> bool:
        """A runner in one process serves one model for its whole life."""
        return model == self.model

    @property
    def open_model(self) -> OpenModel | None:
        return None

    @property
    def workers_view(self) -> WorkersView | None:
        return None

    def _check_model(self, load: Load) -> None:
        if load.model != self.model:
            raise TypeError(
                f"{type(self).__name__} runs the {self.model} model, not {load.model}: "
                f"it cannot make {load!r}"
            )

    def _begin_test(self, load: Load) -> None:
        env = self.environment
        self._hurried().clear()
        self.started_at = time.time()
        env.stats.reset()
        env.stats.start_time = self.started_at
        env.health.begin(self.started_at)
        self._reset()
        self._announce(load)
        # Listeners that wait (fetching test data, say) hold the load back, not the loop.
        self._test_starting = fire_cooperatively(env.events.test_start, environment=env)
        self._ticker = asyncio.get_running_loop().create_task(self._tick_every_second())

    async def _test_started(self) -> None:
        """Wait until ``test_start``'s listeners are done (ramps and schedulers start after
        them, as Locust's spawning greenlet does). Cancelling the wait leaves them running."""
        starting = self._test_starting
        if starting is not None and not starting.done():
            await asyncio.wait({starting})

    def stop(self) -> Awaitable[None]:
        """End the test: no new load, the load in flight drained, the last second closed.

        Returns what to await for the end (``await runner.stop()``); scenario code may call
        it and carry on (the stop runs on the loop; its own user stops at its next request),
        and a library script's call returns once the test has stopped. A second call while
        the first is stopping waits for the same stop.
        """
        if hub.active():
            if self.state not in IDLE:
                hub.run(self._stop())
            return _DONE
        task = self._stop_task
        if task is not None and not task.done():
            return task
        if self.state in IDLE:
            return _DONE
        task = self._stop_task = asyncio.get_running_loop().create_task(self._stop())
        return task

    async def _stop(self) -> None:
        env = self.environment
        if self.state in IDLE:
            return
        self.state = RunnerState.STOPPING
        await fire_and_wait(env.events.test_stopping, environment=env)
        starting, self._test_starting = self._test_starting, None
        if starting is not None and not starting.done():
            # Locust kills the greenlet that runs test_start's listeners with the test.
            starting.cancel()
            await asyncio.wait({starting})
        self._halt()
        await self._drain()
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        stopped_at = time.time()
        self._ending(stopped_at)
        self.close_second(stopped_at)
        self.environment.stats.end_time = stopped_at
        self.environment.health.end(stopped_at)
        self.state = RunnerState.STOPPED
        await fire_and_wait(env.events.test_stop, environment=env)

    def close_second(self, now: float) -> None:
        """Close the second that ends at ``now``: its row of stats, with the load generator's
        own figures for that second (the stop does it last; the stop guard does it when user
        code holding the loop keeps the stop from running)."""
        self._tick(now)
        rows = self.environment.stats.history.rows
        if rows and rows[-1]["timestamp"] == now:
            annotate_row(rows[-1], self.environment.health)

    def hurry(self) -> None:
        """End a graceful stop's wait now (a second Ctrl-C): what is in flight gets only the
        short drain grace, then is cancelled."""
        self._hurried().set()

    async def wait_unless_hurried(
        self, tasks: set[asyncio.Task[None]], timeout: float
    ) -> set[asyncio.Task[None]]:
        """Wait up to ``timeout`` for ``tasks``, or until ``hurry()``; those still running."""
        hurried = self._hurried()
        if hurried.is_set() or not tasks:
            return {t for t in tasks if not t.done()}
        # Cancelling these two waiters cancels none of ``tasks``.
        everything = asyncio.ensure_future(asyncio.wait(tasks, timeout=timeout))
        interrupt = asyncio.ensure_future(hurried.wait())
        await asyncio.wait({everything, interrupt}, return_when=asyncio.FIRST_COMPLETED)
        everything.cancel()
        interrupt.cancel()
        return {t for t in tasks if not t.done()}

    @staticmethod
    async def finish_within_grace(pending: set[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
        """Give ``pending`` DRAIN_GRACE to finish, then cancel what is left and wait for it
        CANCEL_GRACE; returns the tasks still running then, abandoned (``ABANDONED_TASKS``)."""
        if pending:
            _, pending = await asyncio.wait(pending, timeout=DRAIN_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            _, pending = await asyncio.wait(pending, timeout=CANCEL_GRACE)
        ABANDONED_TASKS.update(pending)
        return pending

    def _hurried(self) -> asyncio.Event:
        if self._hurry_event is None:
            self._hurry_event = asyncio.Event()
        return self._hurry_event

    async def _tick_every_second(self) -> None:
        while True:
            # Tick just after each whole second; timers may fire a little early, so aim 5 ms
            # past the boundary rather than at it (two ticks in one second would make a row
            # covering a few milliseconds).
            now = time.time()
            await asyncio.sleep(math.floor(now) + 1.005 - now)
            self.close_second(time.time())

    # Steps a runner overrides ------------------------------------------------------------------
    def _move_to(self, load: Load) -> None:
        """Make ``load`` from now on (its kind is the runner's model)."""
        raise NotImplementedError

    def _tick(self, now: float) -> None:
        raise NotImplementedError

    def _reset(self) -> None:
        """Reset the runner's own figures for a new test."""

    def _announce(self, load: Load) -> None:
        """Set the targets of ``load`` before ``test_start`` fires (Locust's listeners read
        ``runner.target_user_count`` there)."""

    def _halt(self) -> None:
        """Stop making new load (ramps, schedulers)."""

    async def _drain(self) -> None:
        """Wait for the load in flight to finish, within the stop timeout."""

    def _ending(self, stopped_at: float) -> None:
        """Last changes before the final tick (targets to zero, end times)."""
