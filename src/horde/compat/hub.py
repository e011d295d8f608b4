"""Library use: horde's event loop, run by the calling thread whenever that thread waits.

A script that uses Locust as a library (``Environment(...)``, ``env.create_local_runner()``,
``runner.start(10, 10)``, ``gevent.spawn(...)``, ``runner.greenlet.join()``) is plain
synchronous code with no event loop running. gevent serves it with a hub: the main greenlet runs
until it waits, and while it waits the hub runs every other greenlet. horde does the same with
its own loop: the first library call makes a loop for this thread (the library loop), calls that
must run on a loop (starting a runner, spawning a greenlet) are scheduled on it, and every wait
of the main code (``join``, ``time.sleep``, ``gevent.sleep``, a socket, a lock) runs the loop until
the wait is over, so users, spawned greenlets and the web UI run meanwhile. When the main code
does not wait, nothing else runs: exactly gevent's rule.

Only the thread that made the library loop runs it, and never from inside the loop itself (a
callback or a task): there a wait behaves as it does without horde, or in a user greenlet.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet

__all__ = ["active", "call", "loop", "run", "started"]

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_thread: int | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The library loop, made on first use (uvloop, as ``horde run`` uses) by the thread that
    will run it. Made by library entry points (``Environment.create_local_runner()`` with no
    loop running, ``run_single_user``), never by a wait: a plain script that never used horde
    as a library keeps its ordinary ``time.sleep``."""
    global _loop, _thread
    if _loop is None or _loop.is_closed():
        import uvloop

        _loop = uvloop.new_event_loop()
        _thread = threading.get_ident()
        asyncio.set_event_loop(_loop)
        greenlets = sys.modules.get("horde.compat.gevent.greenlets")
        if greenlets is not None:  # greenlets spawned before: they run on this loop
            pending = list(greenlets.deferred)
            greenlets.deferred.clear()
            for greenlet in pending:
                greenlet._launch(_loop)
    return _loop


def started() -> bool:
    """Whether a library loop exists (a script used horde as a library)."""
    return _loop is not None and not _loop.is_closed()


def active() -> bool:
    """True where a wait must run the library loop: the thread that made it, outside any
    running loop and outside user greenlets."""
    if _loop is None or _thread != threading.get_ident():
        return False
    if type(getcurrent()) is BridgedGreenlet or _loop.is_running():
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return not _loop.is_closed()
    return False


def run(awaitable: Awaitable[T]) -> T:
    """Run the library loop until ``awaitable`` is done; its result.

    Ctrl-C while it runs raises ``KeyboardInterrupt`` here, once the loop has stopped: the
    loop hears the signal itself, since Python's own handler would raise it inside whatever
    callback runs at that moment (where uvloop takes it for a transport's error and goes on).
    """
    hub = loop()
    main = hub.create_task(_wrap(awaitable))
    interrupted: list[bool] = []

    def interrupt() -> None:
        interrupted.append(True)
        main.cancel()

    listening = False
    if threading.current_thread() is threading.main_thread():
        try:
            hub.add_signal_handler(signal.SIGINT, interrupt)
            listening = True
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        return hub.run_until_complete(main)
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        if listening:
            hub.remove_signal_handler(signal.SIGINT)


async def _wrap(awaitable: Awaitable[T]) -> T:
    return await awaitable


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` on the library loop (it may create tasks, read the running loop), running
    the loop just long enough for the call."""

    async def inside() -> T:
        return fn(*args, **kwargs)

    return loop().run_until_complete(inside())
