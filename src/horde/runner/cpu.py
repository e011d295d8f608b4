"""This process's CPU use, as a percentage of one core over the last whole window of a second;
and how long its event loop's thread waited for a CPU it was ready to use.

A load generator that saturates its core measures its own latency instead of the target's, so
every process that makes load samples this figure once a second (``horde.runner.health``), and a
distributed master reads its own with it.

The figure covers at least ``WINDOW`` seconds. Readings can come in quick succession (a worker
used to report at once on a state change, sometimes a millisecond after the previous report):
CPU time over so short a window is one burst divided by nothing (a worker at 2-5% of a core
reported 99-354%, and the master warned "add workers"). A reading taken before a window is
complete repeats the last complete one.
"""

from __future__ import annotations

import time

__all__ = ["WINDOW", "CpuMeter", "RunQueueMeter"]

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


class RunQueueMeter:
    """``percent()``: how long one thread waited, ready to run, for a CPU (Linux's run-queue
    delay, /proc/self/task/TID/schedstat), over the last complete window, in % of one core.

    A process whose CPU share looks moderate may still want more than it gets: two busy workers
    on one core each use 50% and each wait the other 50%. Its CPU plus this wait is its demand;
    an answer that arrives meanwhile waits too. 0 where the kernel does not say (not Linux, or
    no scheduler statistics).
    """

    def __init__(self, native_thread_id: int, window: float = WINDOW) -> None:
        self.native_thread_id = native_thread_id
        self.path = f"/proc/self/task/{native_thread_id}/schedstat"
        self.window = window
        self._wall = time.monotonic()
        self._waited = self._read()
        self._last = 0.0

    def _read(self) -> float | None:
        try:
            with open(self.path, "rb") as stats:
                return int(stats.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None

    def percent(self) -> float:
        wall = time.monotonic()
        elapsed = wall - self._wall
        if elapsed < self.window * 0.9 or self._waited is None:
            return self._last
        waited = self._read()
        if waited is None:
            return self._last
        used = waited - self._waited
        self._wall, self._waited = wall, waited
        self._last = round(100.0 * used / elapsed, 1)
        return self._last
