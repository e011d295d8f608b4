"""This process's CPU use, as a percentage of one core over the last whole window of a second.

A load generator that saturates its core measures its own latency instead of the target's, so
each worker reports this figure and the master shows it (and warns when a worker is saturated).

The figure covers at least ``WINDOW`` seconds. Workers also report at once on a state change
(a ramp complete, a stop), sometimes a millisecond after the previous report: CPU time over so
short a window is one burst divided by nothing (a worker at 2-5% of a core reported 99-354%,
and the master warned "add workers"). A reading taken before a window is complete repeats the
last complete one.
"""

from __future__ import annotations

import time

__all__ = ["WINDOW", "CpuMeter"]

WINDOW = 1.0


class CpuMeter:
    """``percent()``: the CPU used over the last complete window, in % of one core."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._wall = time.monotonic()
        self._cpu = time.process_time()
        self._last = 0.0

    def percent(self) -> float:
        wall = time.monotonic()
        elapsed = wall - self._wall
        if elapsed < self.window * 0.9:  # timers fire a little early: a second is a second
            return self._last
        cpu = time.process_time()
        used = cpu - self._cpu
        self._wall, self._cpu = wall, cpu
        self._last = round(100.0 * used / elapsed, 1)
        return self._last
