"""This process's CPU use, as a percentage of one core since the previous reading.

A load generator that saturates its core measures its own latency instead of the target's, so
each worker reports this figure and the master shows it (and warns when a worker is saturated).
"""

from __future__ import annotations

import time

__all__ = ["CpuMeter"]


class CpuMeter:
    """``percent()`` returns the CPU used since the last call, in % of one core."""

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._cpu = time.process_time()

    def percent(self) -> float:
        wall, cpu = time.monotonic(), time.process_time()
        elapsed = wall - self._wall
        used = cpu - self._cpu
        if elapsed <= 0:
            return 0.0
        self._wall, self._cpu = wall, cpu
        return round(100.0 * used / elapsed, 1)
