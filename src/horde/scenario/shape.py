"""``LoadShape``: a scenario's own plan of the load over time (Locust's ``LoadTestShape``).

Defined here, with the rest of what scenario files import; ``horde.runner.shapes`` drives it.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

__all__ = ["ARRIVAL_RATE", "USERS", "LoadShape", "LoadTestShape"]

USERS = "users"
ARRIVAL_RATE = "arrival_rate"


class LoadShape:
    """Subclass in a scenario file to control the load over time (Locust's ``LoadTestShape``).

    ``tick()`` is called about ten times a second and returns the target now, or ``None`` to end
    the run:

    - closed model (``model = "users"``, the default): ``(user_count, spawn_rate)``;
    - open model (``model = "arrival_rate"``): ``(iterations_per_second, ramp_per_second)``,
      where the ramp is how fast the rate may change (``None``: at once).

    ``planned(t)`` may return the intended load at ``t`` seconds for the chart of the planned
    curve; by default the target from the last tick is drawn.
    """

    model: ClassVar[str] = USERS
    abstract: ClassVar[bool] = True

    def __init__(self) -> None:
        self.start_time = time.monotonic()

    def reset_time(self) -> None:
        self.start_time = time.monotonic()

    def get_run_time(self) -> float:
        """Seconds since the shape started (Locust's name)."""
        return time.monotonic() - self.start_time

    def tick(self) -> tuple[float, float | None] | tuple[float, float | None, Any] | None:
        raise NotImplementedError

    def planned(self, t: float) -> float | None:
        return None


LoadTestShape = LoadShape
"""Locust's name, so that Locust shape classes run unchanged."""
