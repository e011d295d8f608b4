"""Warn when user code blocks the event loop (a ``time.sleep`` or a blocking library call).

All users share one loop, so one blocking call stalls every user and inflates every latency.
A watchdog thread notices when a loop heartbeat is late by more than the threshold and names the
task the current user was running; it warns once per task name. Nothing is added to the request
path: the loop only bumps a counter every 20 ms.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

log = logging.getLogger("horde.blocking")

__all__ = ["BlockWatch"]


class BlockWatch:
    """Start with ``start(loop)`` from the loop thread; stop with ``stop()``."""

    def __init__(self, threshold: float = 0.1, heartbeat: float = 0.02) -> None:
        self.threshold = threshold
        self.heartbeat = heartbeat
        self.warned: set[str] = set()
        self._last_beat = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._beat()
        self._thread = threading.Thread(target=self._watch, name="horde-blockwatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._thread is not None:
            self._thread.join(timeout=1)

    def _beat(self) -> None:
        self._last_beat = time.monotonic()
        assert self._loop is not None
        self._handle = self._loop.call_later(self.heartbeat, self._beat)

    def _watch(self) -> None:
        reported_beat = 0.0
        while not self._stop.wait(self.heartbeat):
            beat = self._last_beat
            late = time.monotonic() - beat
            if late > self.threshold and beat != reported_beat:
                reported_beat = beat
                self._report(late)

    def _report(self, late: float) -> None:
        loop = self._loop
        task = asyncio.tasks._current_tasks.get(loop) if loop is not None else None  # type: ignore[attr-defined]
        coro = getattr(task, "get_coro", lambda: None)()
        user = getattr(getattr(coro, "cr_frame", None), "f_locals", {}).get("self")
        name = getattr(user, "current_task_name", "") or (task.get_name() if task else "?")
        if name in self.warned:
            return
        self.warned.add(name)
        log.warning(
            "task %s blocked the event loop for more than %d ms: every user stalls meanwhile. "
            "Use horde.sleep() or an async library instead of blocking calls.",
            name,
            int(late * 1000),
        )
