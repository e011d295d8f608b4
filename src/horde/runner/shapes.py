"""Load that changes over time: a ``ShapeDriver`` steers a runner from a shape (``--stages``, or a
``LoadShape`` class in a scenario file; both are defined in ``horde.scenario.shape``).

A shape says what the load should be now; a ``ShapeDriver`` asks it a few times a second and
re-targets the runner when the answer changes. The same driver steers a closed-model runner
(target: users, with a spawn rate) and an open-model one (target: iterations/s, with a ramp), so
``--stages "30s:100,1m:100,30s:0"`` and ``--stages "30s:100/s,1m:100/s,30s:0/s"`` share one code
path. The driver also publishes the *planned* load, which the history rows carry beside the
achieved one, so the UI and the report can draw both curves.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from horde.runner.load import ArrivalRate, Load, Users
from horde.scenario.shape import ARRIVAL_RATE, LoadShape

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.interface import Runner

log = logging.getLogger("horde.runner")

__all__ = ["ShapeDriver"]

# A change "at once" (a stage of 0 s, or a shape returning no rate) still needs a finite rate.
INSTANT = 1e9
TICK_SECONDS = 0.1


class ShapeDriver:
    """Steers a runner from a shape; ends the run when the shape returns ``None``.

    Its first target starts the runner's test; later ones change it.
    """

    def __init__(
        self,
        environment: Environment,
        runner: Runner,
        shape: LoadShape,
        on_end: Callable[[str], Any] | None = None,
    ) -> None:
        self.environment = environment
        self.runner = runner
        self.shape = shape
        shape.runner = runner  # Locust's shape.runner (get_current_user_count reads it)
        # What ends the test when the shape is done: the whole run from the command line; in
        # the web UI, only the test (the UI stays up for the next one).
        self.on_end = on_end or environment.request_test_stop
        self._task: asyncio.Task[None] | None = None
        self._last: tuple[float, float | None] | None = None
        self._started = False

    def start(self) -> None:
        self.shape.reset_time()
        begin = self.shape.planned(0.0)
        if begin:
            # A plan that starts above zero (``--arrival-rate 10/s..500/s``) starts there at once,
            # then ramps; runners otherwise ramp up from nothing.
            self._retarget(begin, None)
        self._apply()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.runner.planned = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            if not self._apply():
                return

    def _apply(self) -> bool:
        """One tick: re-target the runner if the shape changed its mind; False at the end."""
        try:
            wanted = self.shape.tick()
        except Exception as exc:  # user code: record it, and end the run rather than hang
            self.environment.stats.record_exception(exc, where=f"{type(self.shape).__name__}.tick")
            self.on_end("the load shape raised an exception")
            return False
        if wanted is None:
            self.on_end("the load shape ended")
            return False
        target, change = float(wanted[0]), wanted[1]
        planned = self.shape.planned(self.shape.get_run_time())
        self.runner.planned = target if planned is None else planned
        if (target, change) != self._last:
            self._last = (target, change)
            self._retarget(target, change)
        return True

    def _retarget(self, target: float, change: float | None) -> None:
        """Move the runner to ``target`` at ``change`` per second (None: at once)."""
        rate = INSTANT if change is None or change <= 0 or math.isinf(change) else change
        load: Load
        if self.shape.model == ARRIVAL_RATE:
            load = ArrivalRate(target, rate if rate != INSTANT else math.inf)
        else:
            load = Users(round(target), rate)
        if self._started:
            self.runner.change(load)
        else:
            self._started = True
            self.runner.start(load)
