"""The local runner of a worker: exact per-class counts from the master instead of a total.

A worker must not share its users by weight itself: with several workers, rounding on each would
make the global mix drift (and ``fixed_count`` would be multiplied). The master computes every
worker's counts (``plan.plan_workers``); this runner moves to them, ramping at its share of the
spawn rate, with the same spawn order and stopping rules as ``LocalRunner``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from horde.runner.lifecycle import IDLE
from horde.runner.load import Users
from horde.runner.local import LocalRunner

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.scenario.users import User

log = logging.getLogger("horde.distributed")

__all__ = ["WorkerRunner"]


class WorkerRunner(LocalRunner):
    """``LocalRunner`` driven by ``start_counts`` (which starts a test, or changes the one that
    runs); ``on_state`` hears of ramp completion."""

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
        load = Users(sum(self._desired.values()), spawn_rate)
        if self.state in IDLE:
            self.start(load)
        else:
            self.change(load)

    def _desired_counts(self, target: int) -> dict[type[User], int]:
        return {c: self._desired.get(c.__name__, 0) for c in self.environment.user_classes}

    def _ramp_complete(self) -> None:
        if self._on_state is not None:
            self._on_state()
