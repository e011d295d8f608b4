"""``select.select``, ``select.poll`` and ``selectors`` that wait on the loop in user greenlets.

Libraries wait for sockets with these (urllib3 checks a pooled connection with ``poll``,
``socket.sendfile`` and ``subprocess`` use ``selectors``). In a user greenlet, a call that would
wait first looks without waiting; if nothing is ready it waits on the event loop for any of the
descriptors (or the timeout), then looks again. Calls that do not wait, and every call outside a
user greenlet, go straight to the originals. Exceptional conditions (``xlist``, ``POLLPRI``)
are reported when present but only readability and writability wake a waiting greenlet.
"""

from __future__ import annotations

import math
import select as select_module
import selectors
import time
from collections.abc import Callable, Iterable
from typing import Any

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet
from horde.compat.waiting import wait_on_loop

__all__ = ["CooperativePoll", "cooperative_selector_select", "patched_selector_classes", "select"]

original_select = select_module.select
original_poll = select_module.poll
_monotonic = time.monotonic
_READABLE = select_module.POLLIN | select_module.POLLPRI
_WRITABLE = select_module.POLLOUT


def _fileno(obj: Any) -> int:
    return obj if isinstance(obj, int) else obj.fileno()


def _wait_until(
    look: Callable[[], Any], watches: list[tuple[int, bool]], timeout: float | None
) -> Any:
    """Look now; while nothing is ready, wait on the loop for a watched descriptor and look
    again, until ``timeout`` seconds have passed. Returns what the last look found."""
    deadline = None if timeout is None else _monotonic() + timeout
    while True:
        found = look()
        if found:
            return found
        remaining = None if deadline is None else deadline - _monotonic()
        if remaining is not None and remaining <= 0:
            return found
        wait_on_loop(watches, remaining)


def select(
    rlist: Iterable[Any], wlist: Iterable[Any], xlist: Iterable[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    if getcurrent().__class__ is not BridgedGreenlet or (timeout is not None and timeout <= 0):
        return original_select(rlist, wlist, xlist, timeout)
    rlist, wlist, xlist = list(rlist), list(wlist), list(xlist)
    watches = [(_fileno(o), False) for o in rlist] + [(_fileno(o), True) for o in wlist]

    def look() -> Any:
        ready = original_select(rlist, wlist, xlist, 0)
        return ready if any(ready) else None

    return _wait_until(look, watches, timeout) or ([], [], [])


class CooperativePoll:
    """What ``select.poll()`` returns while horde runs a scenario: the original poll object,
    whose ``poll()`` waits on the loop in user greenlets."""

    __slots__ = ("_events", "_poll")

    def __init__(self) -> None:
        self._poll = original_poll()
        self._events: dict[int, int] = {}

    def register(self, fd: Any, eventmask: int = _READABLE | _WRITABLE) -> None:
        fd = _fileno(fd)
        self._poll.register(fd, eventmask)
        self._events[fd] = eventmask

    def modify(self, fd: Any, eventmask: int) -> None:
        fd = _fileno(fd)
        self._poll.modify(fd, eventmask)
        self._events[fd] = eventmask

    def unregister(self, fd: Any) -> None:
        fd = _fileno(fd)
        self._poll.unregister(fd)
        del self._events[fd]

    def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
        """``timeout`` in milliseconds, as ``select.poll``; None or negative waits forever."""
        if getcurrent().__class__ is not BridgedGreenlet or timeout == 0:
            return self._poll.poll(timeout)
        seconds = None if timeout is None or timeout < 0 else math.ceil(timeout) / 1000
        watches: list[tuple[int, bool]] = []
        for fd, mask in self._events.items():
            if mask & _READABLE:
                watches.append((fd, False))
            if mask & _WRITABLE:
                watches.append((fd, True))
        return _wait_until(lambda: self._poll.poll(0), watches, seconds) or []


def cooperative_selector_select(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a selector class's ``select(timeout)`` method."""

    def select(self: selectors.BaseSelector, timeout: float | None = None) -> Any:
        if getcurrent().__class__ is not BridgedGreenlet or (timeout is not None and timeout <= 0):
            return original(self, timeout)
        watches: list[tuple[int, bool]] = []
        for key in self.get_map().values():
            if key.events & selectors.EVENT_READ:
                watches.append((key.fd, False))
            if key.events & selectors.EVENT_WRITE:
                watches.append((key.fd, True))
        return _wait_until(lambda: original(self, 0), watches, timeout) or []

    select.__wrapped__ = original  # type: ignore[attr-defined]
    select.__doc__ = original.__doc__
    return select


def patched_selector_classes() -> list[type]:
    """The selector classes of this platform that define their own ``select``."""
    names = ("SelectSelector", "PollSelector", "EpollSelector", "DevpollSelector", "KqueueSelector")
    return [
        cls
        for name in names
        if (cls := getattr(selectors, name, None)) is not None and "select" in cls.__dict__
    ]
