"""The two ways a cooperative call waits: on the event loop in a user greenlet, else as before.

Every cooperative call (a socket read, ``time.sleep``, a DNS lookup, a gevent primitive) comes
down to waiting for a file descriptor, a timer or a future. In a user greenlet (a bridged
greenlet: see ``horde.bridge``) the wait is handed to the event loop, which runs the other users
meanwhile. Anywhere else (the main thread outside tasks, another thread, a callback of the loop
itself) the call blocks its thread exactly as it would without horde.
"""

from __future__ import annotations

import asyncio
import math
import select
import time
import weakref
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet, await_
from horde.compat import hub

__all__ = [
    "BlockingOutsideTask",
    "can_wait",
    "cooperative_wait",
    "in_user_greenlet",
    "user_tasks",
    "wait_fd",
    "wait_future",
    "wait_on_loop",
]

T = TypeVar("T")

# Captured when horde.compat is first imported, before anything is patched.
_original_poll = select.poll
_monotonic = time.monotonic
_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT


class BlockingOutsideTask(RuntimeError):
    """A gevent-style wait was asked for where nothing can run meanwhile.

    Waiting for another greenlet (``join``, a semaphore, an event) only makes sense where the
    other greenlets can run: inside a user task. On the loop itself it would wait forever.
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} would wait outside a user task, where horde cannot wait without stopping "
            "every user: call it from a task, on_start/on_stop, or a greenlet started with "
            "gevent.spawn()"
        )


def in_user_greenlet() -> bool:
    """True in code that runs as a blocking-style task (or a greenlet from ``gevent.spawn``)."""
    return type(getcurrent()) is BridgedGreenlet


def can_wait() -> bool:
    """True where a gevent-style wait lets the rest run: a user greenlet, or a library
    script's main code (which runs the library loop while it waits)."""
    return type(getcurrent()) is BridgedGreenlet or hub.active()


user_tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
"""The tasks that run users (and the greenlets they spawned): a greenlet spawned in one of them
dies with it. Other tasks that run scenario code (event listeners, message handlers) are not
users: what they spawn lives with the test, or the process."""


def cooperative_wait(awaitable: Awaitable[T]) -> T:
    """``await_`` for the cooperative layer: a ``gevent.Timeout`` that expires while this
    greenlet waits arrives as that timeout, not as the cancellation that delivered it."""
    try:
        return await_(awaitable)
    except asyncio.CancelledError as exc:
        marker = exc.args[0] if exc.args else None
        interrupt = getattr(marker, "_horde_interrupt", None)
        if interrupt is None:
            raise
        raise interrupt() from None


def wait_on_loop(watches: Iterable[tuple[int, bool]], timeout: float | None) -> bool:
    """Wait in a user greenlet until one of ``(fd, writing)`` is ready (True) or ``timeout``
    seconds pass (False)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[bool] = loop.create_future()

    def wake(result: bool = True) -> None:
        if not ready.done():
            ready.set_result(result)

    readers: list[int] = []
    writers: list[int] = []
    handle = None
    try:
        for fd, writing in watches:
            if writing:
                if fd not in writers:
                    loop.add_writer(fd, wake)
                    writers.append(fd)
            elif fd not in readers:
                loop.add_reader(fd, wake)
                readers.append(fd)
        if timeout is not None:
            handle = loop.call_later(max(0.0, timeout), wake, False)
        return cooperative_wait(ready)
    finally:
        if handle is not None:
            handle.cancel()
        for fd in readers:
            loop.remove_reader(fd)
        for fd in writers:
            loop.remove_writer(fd)


def wait_fd(fileno: int, writing: bool, deadline: float | None) -> bool:
    """Wait until ``fileno`` can be read (or written); False once ``deadline`` (a
    ``time.monotonic()`` value, or None for no limit) has passed."""
    timeout = None
    if deadline is not None:
        timeout = deadline - _monotonic()
        if timeout <= 0:
            return False
    if type(getcurrent()) is BridgedGreenlet:
        return wait_on_loop(((fileno, writing),), timeout)
    poller = _original_poll()
    poller.register(fileno, _POLLOUT if writing else _POLLIN)
    return bool(poller.poll(None if timeout is None else math.ceil(timeout * 1000)))


def wait_future(future: asyncio.Future[Any], timeout: float | None, what: str) -> bool:
    """Wait in a user greenlet (or a library script's main code: ``horde.compat.hub``) until
    ``future`` is done (True) or ``timeout`` passes (False).

    ``future`` belongs to this one waiter: a timeout completes it with False, so whoever would
    have woken it later sees it done and moves on to the next waiter.
    """
    if future.done():
        return bool(future.result())
    bridged = type(getcurrent()) is BridgedGreenlet
    if not bridged and not hub.active():
        raise BlockingOutsideTask(what)
    handle = None
    if timeout is not None:
        handle = future.get_loop().call_later(max(0.0, timeout), _expire, future)
    try:
        return bool(cooperative_wait(future) if bridged else hub.run(future))
    finally:
        if handle is not None:
            handle.cancel()
        if not future.done():
            future.cancel()


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(False)


def new_waiter(what: str) -> asyncio.Future[Any]:
    """A future for one gevent-style waiter, on the loop this user greenlet runs on (or the
    library loop, for a library script's main code)."""
    if type(getcurrent()) is BridgedGreenlet:
        return asyncio.get_running_loop().create_future()
    if hub.active():
        return hub.loop().create_future()
    raise BlockingOutsideTask(what)


def wake(waiter: asyncio.Future[Any]) -> bool:
    """Wake one waiter; False if it had already given up (timed out or cancelled)."""
    if waiter.done():
        return False
    waiter.set_result(True)
    return True
