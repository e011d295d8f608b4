"""Wait-time functions: how long a simulated user pauses between two tasks.

Each factory returns a function that the task loop calls with the user (or task set) as its only
argument, exactly like Locust's, so ``wait_time = between(1, 5)`` in a class body works as in
Locust. ``constant_pacing`` and ``constant_throughput`` need to know when the last task started;
they keep that on the caller under a private attribute rather than in shared state.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

WaitTime = Callable[[Any], float]

__all__ = ["WaitTime", "between", "constant", "constant_pacing", "constant_throughput", "poisson"]


def between(min_wait: float, max_wait: float) -> WaitTime:
    """Wait a uniformly random time in [min_wait, max_wait] seconds (the seed's min/max_wait)."""
    if min_wait < 0 or max_wait < min_wait:
        raise ValueError(f"between({min_wait}, {max_wait}): need 0 <= min_wait <= max_wait")
    uniform = random.uniform
    return lambda _user: uniform(min_wait, max_wait)


def constant(wait: float) -> WaitTime:
    """Always wait ``wait`` seconds (0 means: start the next task at once)."""
    if wait < 0:
        raise ValueError(f"constant({wait}): the wait cannot be negative")
    return lambda _user: wait


def constant_pacing(period: float) -> WaitTime:
    """Start a task every ``period`` seconds, whatever the task took (wait = period - task time).

    A task slower than the period is followed by no wait at all: the user falls behind rather than
    piling up, as in Locust.
    """
    if period <= 0:
        raise ValueError(f"constant_pacing({period}): the period must be positive")

    def wait_time(user: Any) -> float:
        now = time.monotonic()
        last: float | None = getattr(user, "_horde_pacing_last", None)
        if last is None:
            user._horde_pacing_last = now
            return period
        target = last + period
        user._horde_pacing_last = max(target, now)
        return max(0.0, target - now)

    return wait_time


def constant_throughput(task_runs_per_second: float) -> WaitTime:
    """Run at most ``task_runs_per_second`` tasks per second per user (inverse of pacing)."""
    if task_runs_per_second <= 0:
        raise ValueError(f"constant_throughput({task_runs_per_second}): the rate must be positive")
    return constant_pacing(1.0 / task_runs_per_second)


def poisson(mean_wait: float) -> WaitTime:
    """Exponentially distributed waits with mean ``mean_wait``: task starts form a Poisson process.

    Useful for modelling independent visitors: the think times are memoryless, which is what
    arrivals of many unrelated people look like.
    """
    if mean_wait <= 0:
        raise ValueError(f"poisson({mean_wait}): the mean wait must be positive")
    expovariate = random.expovariate
    rate = 1.0 / mean_wait
    return lambda _user: expovariate(rate)
