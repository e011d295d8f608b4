"""The load a runner is asked to make: users (the closed model) or an arrival rate (the open one).

Drivers (the command line, load shapes and stages, the capacity search, the web UI, a master)
hand a runner one of these values, so a call says what it means: ``runner.start(Users(50, 10))``
or ``runner.change(ArrivalRate(200))``, never a bare number that means users to one runner and
iterations per second to another. A runner of the other model refuses it with a ``TypeError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from horde.scenario.shape import ARRIVAL_RATE, USERS

__all__ = ["ArrivalRate", "Load", "Users"]


@dataclass(frozen=True, slots=True)
class Users:
    """The closed model: ``count`` users, started (or stopped) ``spawn_rate`` per second."""

    count: int
    spawn_rate: float

    model = USERS

    def __post_init__(self) -> None:
        if self.count < 0 or not self.spawn_rate > 0:
            raise ValueError("user count must be >= 0 and spawn rate > 0")


@dataclass(frozen=True, slots=True)
class ArrivalRate:
    """The open model: ``per_second`` iterations a second, the rate moving towards it by
    ``ramp`` iterations/s every second (``inf``: at once)."""

    per_second: float
    ramp: float = math.inf

    model = ARRIVAL_RATE

    def __post_init__(self) -> None:
        if not 0 <= self.per_second < math.inf or not self.ramp > 0:
            raise ValueError("arrival rate must be >= 0 and finite, and its ramp > 0")


Load = Users | ArrivalRate
