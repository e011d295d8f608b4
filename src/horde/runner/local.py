"""The local runner: starts, ramps and stops simulated users on this process's event loop.

Its control surface is deliberately small (``start(Users(count, spawn_rate))``, ``change(...)``,
``stop()``, state and counts: ``horde.runner.interface.Runner``), because every other driver goes
through it: the command line, the web UI, load shapes and stages, and a distributed worker
obeying its master.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from horde.bridge import run_blocking
from horde.exceptions import UserCodeAbandoned
from horde.runner.distribution import distribute, interleave
from horde.runner.lifecycle import DRAIN_GRACE, RunLifecycle, RunnerState
from horde.runner.load import Users
from horde.scenario.shape import USERS
from horde.scenario.users import create_user

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.load import Load
    from horde.scenario.users import User

log = logging.getLogger("horde.runner")


__all__ = ["DRAIN_GRACE", "IGNORED_CANCEL", "LocalRunner", "RunnerState"]

IGNORED_CANCEL = (
    "abandoned: it caught its cancellation and carried on (an 'except:' or "
    "'except BaseException:' around an await?), so the run ended without it"
)


class LocalRunner(RunLifecycle):
    """Runs users of ``environment.user_classes`` as asyncio tasks on the running loop."""

    model = USERS

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        environment.runner = self
        self.state = RunnerState.READY
        self.target_user_count = 0
        self.spawn_rate = 0.0
        self.started_at: float | None = None
        self._running: dict[type[User], list[tuple[User, asyncio.Task[None]]]] = {
            cls: [] for cls in environment.user_classes
        }
        self._ramp: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._stopping_tasks: set[asyncio.Task[None]] = set()
        # The load a shape or stages plan for now (drawn beside the achieved one); without one,
        # the target user count is the plan.
        self.planned: float | None = None

    # Reading ---------------------------------------------------------------------------------
    @property
    def user_count(self) -> int:
        return sum(len(v) for v in self._running.values())

    @property
    def user_classes_count(self) -> dict[str, int]:
        return {cls.__name__: len(v) for cls, v in self._running.items()}

    # Control ---------------------------------------------------------------------------------
    def _announce(self, load: Load) -> None:
        assert isinstance(load, Users)
        self.target_user_count = load.count
        self.spawn_rate = load.spawn_rate

    def _move_to(self, load: Load) -> None:
        """Move towards ``load.count`` users, starting or stopping ``load.spawn_rate`` per
        second: the ramp runs in the background and may be re-targeted at any time."""
        assert isinstance(load, Users)
        user_count, spawn_rate = load.count, load.spawn_rate
        self.target_user_count = user_count
        self.spawn_rate = spawn_rate
        if self._ramp is not None:
            self._ramp.cancel()
        self.state = RunnerState.SPAWNING
        self._ramp = asyncio.get_running_loop().create_task(self._ramp_to(user_count, spawn_rate))

    # stop(): every user stops after its current task within ``stop_timeout``, then hard.
    def _halt(self) -> None:
        if self._ramp is not None:
            self._ramp.cancel()
            self._ramp = None

    async def _drain(self) -> None:
        await self._stop_users([h for v in self._running.values() for h in v])

    def _ending(self, stopped_at: float) -> None:
        self.target_user_count = 0

    def stop_users_now(self) -> None:
        """Tell every user to stop at its next request, not after its task (a second Ctrl-C)."""
        for handles in self._running.values():
            for user, _ in handles:
                user.request_stop(hard=True)
        self.hurry()

    # Internals -------------------------------------------------------------------------------
    def _desired_counts(self, target: int) -> dict[type[User], int]:
        """Users wanted per class for ``target`` users (a distributed worker is told instead)."""
        return distribute(list(self.environment.user_classes), target)

    def _ramp_complete(self) -> None:
        """Called when a ramp has reached its target (subclasses may report it)."""

    async def _ramp_to(self, target: int, rate: float) -> None:
        try:
            await self._test_started()
        except asyncio.CancelledError:
            return
        classes = list(self.environment.user_classes)
        desired = self._desired_counts(target)
        adds = {c: max(0, desired[c] - len(self._running[c])) for c in classes}
        removes = {c: max(0, len(self._running[c]) - desired[c]) for c in classes}
        actions = [(c, True) for c in interleave(adds)] + [(c, False) for c in interleave(removes)]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        done = 0
        try:
            while done < len(actions):
                # Everything due by now starts at once, so high rates are not limited by timers.
                due = min(len(actions), int((loop.time() - t0) * rate) + 1)
                while done < due:
                    cls, add = actions[done]
                    if add:
                        await self._spawn(cls)
                    else:
                        self._retire(cls)
                    done += 1
                if done < len(actions):
                    await asyncio.sleep(max(0.0, t0 + done / rate - loop.time()))
        except asyncio.CancelledError:
            return
        self.state = RunnerState.RUNNING
        log.info("ramp complete: %d users %s", self.user_count, self.user_classes_count)
        self.environment.events.spawning_complete.fire(user_count=self.user_count)
        self._ramp_complete()

    async def _spawn(self, cls: type[User]) -> None:
        # Made in a greenlet, one after the other, as Locust's spawning greenlet makes them: a
        # constructor that waits (time.sleep, a request) holds up the ramp, not every user.
        user = await run_blocking(create_user, cls, self.environment)
        if user is None:
            return  # counted as an exception of its constructor
        task = asyncio.get_running_loop().create_task(user.run(), name=f"user:{cls.__name__}")
        handle = (user, task)
        running = self._running[cls]
        running.append(handle)

        def forget(_: asyncio.Task[None]) -> None:
            if handle in running:
                running.remove(handle)

        task.add_done_callback(forget)

    def _retire(self, cls: type[User]) -> None:
        """Stop the newest user of ``cls`` in the background (ramping down)."""
        running = self._running[cls]
        if not running:
            return
        handle = running.pop()
        stopper = asyncio.get_running_loop().create_task(self._stop_users([handle]))
        self._stopping_tasks.add(stopper)
        stopper.add_done_callback(self._stopping_tasks.discard)

    async def _stop_users(self, handles: list[tuple[User, asyncio.Task[None]]]) -> None:
        if not handles:
            return
        graceful = self.environment.stop_timeout > 0
        for user, task in handles:
            user.request_stop(hard=not graceful)
            if user.idle:
                task.cancel()
        pending: set[asyncio.Task[None]] = {t for _, t in handles if not t.done()}
        if graceful and pending:
            pending = await self.wait_unless_hurried(pending, self.environment.stop_timeout)
            for user, task in handles:
                if task in pending:
                    user.request_stop(hard=True)
                    if user.idle:
                        task.cancel()
        abandoned = await self.finish_within_grace(pending)
        record = self.environment.stats.record_exception
        for user, task in handles:
            if task in abandoned:
                record(UserCodeAbandoned(IGNORED_CANCEL), where=user.current_task_name or "user")
                continue
            error = None if task.cancelled() else task.exception()
            if error is not None:
                record(error, where="user")

    def _tick(self, now: float) -> None:
        stats = self.environment.stats
        stats.tick(now, self.user_count)
        rows = stats.history.rows
        if rows:
            rows[-1]["achieved"] = float(rows[-1]["user_count"])
            rows[-1]["target"] = (
                self.planned if self.planned is not None else float(self.target_user_count)
            )
