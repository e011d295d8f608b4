"""Plans of the load over time: ``LoadShape`` (a scenario's own, Locust's ``LoadTestShape``) and
``StagesShape`` (from ``--stages "30s:100,1m:100,30s:0"``).

Defined here, with the rest of what scenario files import, so that the settings and the web form
can hold stages without importing the runner; ``horde.runner.shapes`` drives either kind.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from horde.units import parse_duration

__all__ = [
    "ARRIVAL_RATE",
    "USERS",
    "LoadShape",
    "LoadTestShape",
    "Stage",
    "StagesShape",
    "parse_stages",
]

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

    model: str = USERS  # a class attribute of each shape ("users" or "arrival_rate")
    abstract: ClassVar[bool] = True
    # Locust's: whether the web form still offers -u/-r with this shape (horde's form always
    # shows its own fields).
    use_common_options: ClassVar[bool] = False
    runner: Any = None
    """The runner this shape steers (set when it starts; Locust's ``self.runner``)."""

    def __init__(self) -> None:
        self.start_time = time.monotonic()

    def get_current_user_count(self) -> int:
        """Users running now (Locust's): for a shape that waits until a ramp has arrived."""
        return int(self.runner.user_count) if self.runner is not None else 0

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


@dataclass(frozen=True)
class Stage:
    duration: float  # seconds
    target: float  # users, or iterations/s in the open model


_STAGE = re.compile(r"^\s*([^:]+?)\s*:\s*(\d+(?:\.\d+)?)\s*(/s)?\s*$")


def parse_stages(text: str) -> tuple[str, list[Stage]]:
    """``"30s:100,1m:100,30s:0"`` (users) or ``"30s:50/s,1m:50/s"`` (arrival rate).

    Returns the model and the stages; raises ``ValueError`` with a sentence for the user.
    """
    parts = [p for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ValueError("--stages is empty: use e.g. '30s:100,1m:100,30s:0'")
    stages: list[Stage] = []
    kinds: set[bool] = set()
    for part in parts:
        match = _STAGE.match(part)
        if not match:
            raise ValueError(
                f"invalid stage {part.strip()!r}: use DURATION:USERS (e.g. 30s:100) "
                "or DURATION:RATE/s (e.g. 1m:200/s)"
            )
        duration = parse_duration(match.group(1))
        kinds.add(bool(match.group(3)))
        stages.append(Stage(duration, float(match.group(2))))
    if len(kinds) > 1:
        raise ValueError("--stages mixes users and rates: give every target as N or every as N/s")
    model = ARRIVAL_RATE if kinds == {True} else USERS
    if model == USERS:
        for stage in stages:
            if stage.target != int(stage.target):
                raise ValueError(f"invalid stage target {stage.target:g}: users are whole")
    return model, stages


class StagesShape(LoadShape):
    """Linear ramps between stage targets, k6's ``stages``: each stage moves from the previous
    target (0 at the start) to its own over its duration; the run ends after the last one."""

    def __init__(self, stages: list[Stage], model: str = USERS, start: float = 0.0) -> None:
        super().__init__()
        self.stages = stages
        self.model = model
        self.start = start

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.stages)

    def _locate(self, t: float) -> tuple[float, Stage, float] | None:
        """(stage start target, stage, seconds into it) at ``t``, None after the end."""
        begin, previous = 0.0, self.start
        for stage in self.stages:
            if t < begin + stage.duration:
                return previous, stage, t - begin
            begin += stage.duration
            previous = stage.target
        return None

    def planned(self, t: float) -> float | None:
        found = self._locate(t)
        if found is None:
            return self.stages[-1].target if self.stages else None
        previous, stage, into = found
        return previous + (stage.target - previous) * (into / stage.duration)

    def tick(self) -> tuple[float, float | None] | None:
        found = self._locate(self.get_run_time())
        if found is None:
            return None
        previous, stage, _ = found
        change = abs(stage.target - previous)
        if change == 0:
            return stage.target, None
        # The runner ramps itself, at the stage's slope, from wherever it is to the target.
        return stage.target, change / stage.duration
