"""Warn when user code blocks the event loop (a ``time.sleep`` or a blocking library call).

All users share one loop, so one blocking call stalls every user and inflates every latency.
A watchdog thread notices when a loop heartbeat is late by more than the threshold and names the
task the current user was running; it warns once per task name. Nothing is added to the request
path: the loop only bumps a counter every 20 ms.

The same thread, on the same wakes, is horde's self-check (``horde.runner.health``): with a
``GeneratorHealth`` to report to, it feeds a ``LoopSampler`` how far behind the loop is at each
wake and closes one sample (CPU, lag) a second. One heartbeat and one thread serve the warning,
the stop guard and the health figures.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from horde.compat.stalls import describe_stall
from horde.runner.health import GeneratorHealth, LoopSampler

log = logging.getLogger("horde.blocking")

__all__ = ["BlockWatch"]


class BlockWatch:
    """Start with ``start(loop)`` from the loop thread; stop with ``stop()``. With ``health``
    (the run's ``environment.health``), this process's CPU and loop lag are sampled into it
    (``sampler``)."""

    def __init__(
        self,
        threshold: float = 0.1,
        heartbeat: float = 0.02,
        health: GeneratorHealth | None = None,
    ) -> None:
        self.threshold = threshold
        self.heartbeat = heartbeat
        self.sampler = LoopSampler(health) if health is not None else None
        self.warned: set[str] = set()
        self._last_beat = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # A StopGuard (horde.runner.stop_guard) checked on every heartbeat of this thread.
        self.guard: Any = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()
        if self.sampler is not None:
            self.sampler.set_loop_thread(threading.get_native_id())
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
        sampler = self.sampler
        while not self._stop.wait(self.heartbeat):
            beat = self._last_beat
            late = time.monotonic() - beat
            if sampler is not None:
                # How long an answer arriving now waits, at least, before the loop reads it.
                sampler.observe(max(0.0, late - self.heartbeat))
                sampler.tick(time.time())
            if late > self.threshold and beat != reported_beat:
                reported_beat = beat
                self._report(late)
            if self.guard is not None:
                self.guard.check(time.monotonic(), beat)

    def _report(self, late: float) -> None:
        # The call that blocks, named while the loop is still inside it (once per call site).
        call = describe_stall(self._loop_thread)
        if call == "":  # the loop only waits for I/O: the machine was busy, nothing blocked it
            return
        name = blocking_task_name(self._loop)
        if (call or name) in self.warned:
            return
        self.warned.add(call or name)
        log.warning(
            "%s blocked the event loop for more than %d ms%s: every user stalls meanwhile. %s",
            name,
            int(late * 1000),
            f" in {call}" if call else "",
            advice(name),
        )


# What to do about it, now that the usual blocking calls wait cooperatively in tasks.
COVERED = (
    "In tasks, time.sleep, sockets (requests, urllib, http.client, xmlrpc), ssl, select, DNS "
    "and gevent's waits let the other users run"
)


def advice(name: str) -> str:
    """What a user can do about a stall in ``name`` (a task, or code outside any task)."""
    if name.startswith("task "):
        return (
            f"{COVERED}; this call is not one of them (docs/migrating-from-locust.md says what "
            "is covered): use an async library, or run it in a thread (await "
            "asyncio.to_thread(...) in an async task)."
        )
    return (
        f"{COVERED}, but this code runs outside any task, where nothing can wait: move the "
        "wait into a task, on_start or an event listener (they run in greenlets), or make it "
        "async."
    )


def blocking_task_name(loop: asyncio.AbstractEventLoop | None) -> str:
    """What runs on ``loop`` now, for a person: "task Visitor.browse" (a user's task, hook or
    task set, blocking-style or async), or what else holds it. Read from another thread.

    The user is found along the running coroutine's await chain (its ``self``, ``user`` or
    ``slot`` local), so it works for every runner without them keeping a map of tasks.
    """
    task = asyncio.current_task(loop) if loop is not None else None
    if task is None:
        return "code outside any task (a network or timer callback of horde itself)"
    user = _user_of(task)
    name = getattr(user, "current_task_name", "") if user is not None else ""
    if name:
        return f"task {name}"
    if user is not None:
        return f"a {type(user).__name__} user between tasks (its wait_time?)"
    return f"the asyncio task {task.get_name()!r}"


def _user_of(task: asyncio.Task[object]) -> object | None:
    coro: object = task.get_coro()
    for _ in range(32):  # an await chain is short; bounded all the same
        frame = getattr(coro, "cr_frame", None)
        if frame is None:
            return None
        local = frame.f_locals
        for key in ("self", "user", "slot"):
            candidate: object = local.get(key)
            if key == "slot":
                candidate = getattr(candidate, "user", None)
            if hasattr(candidate, "current_task_name"):
                return candidate
        coro = getattr(coro, "cr_await", None)
    return None
