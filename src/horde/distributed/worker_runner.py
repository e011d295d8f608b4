"""The local runner of a worker: exact per-class counts from the master instead of a total.

A worker must not share its users by weight itself: with several workers, rounding on each would
make the global mix drift (and ``fixed_count`` would be multiplied). The master computes every
worker's counts (``plan.plan_workers``); this runner moves to them, ramping at its share of the
spawn rate, with the same spawn order and stopping rules as ``LocalRunner``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from horde.runner.distribution import interleave
from horde.runner.local import LocalRunner, RunnerState

if TYPE_CHECKING:
    from horde.runner.environment import Environment

log = logging.getLogger("horde.distributed")

__all__ = ["WorkerRunner"]


class WorkerRunner(LocalRunner):
    """``LocalRunner`` driven by ``start_counts``; ``on_state`` hears of ramp completion."""

    def __init__(
        self, environment: Environment, on_state: Callable[[], None] | None = None
    ) -> None:
        super().__init__(environment)
        self._desired: dict[str, int] = {}
        self._on_state = on_state

    def start_counts(self, counts: dict[str, int], spawn_rate: float) -> None:
        """Move towards exactly ``counts[class name]`` users of each class."""
        by_name = {cls.__name__ for cls in self.environment.user_classes}
        unknown = sorted(set(counts) - by_name)
        if unknown:
            raise ValueError(f"unknown user class {', '.join(unknown)}")
        self._desired = {name: max(0, int(n)) for name, n in counts.items()}
        self.start(sum(self._desired.values()), spawn_rate)

    async def _ramp_to(self, target: int, rate: float) -> None:
        classes = list(self.environment.user_classes)
        desired = {c: self._desired.get(c.__name__, 0) for c in classes}
        adds = {c: max(0, desired[c] - len(self._running[c])) for c in classes}
        removes = {c: max(0, len(self._running[c]) - desired[c]) for c in classes}
        actions = [(c, True) for c in interleave(adds)] + [(c, False) for c in interleave(removes)]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        done = 0
        try:
            while done < len(actions):
                due = min(len(actions), int((loop.time() - t0) * rate) + 1)
                while done < due:
                    cls, add = actions[done]
                    if add:
                        self._spawn(cls)
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
        if self._on_state is not None:
            self._on_state()
