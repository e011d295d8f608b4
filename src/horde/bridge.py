"""Run blocking-style code on the event loop without blocking it.

Locust users write tasks as plain functions: ``r = self.client.get("/")``. horde runs every user
on one asyncio loop, so such a function runs inside a greenlet: when it needs the network it hands
a coroutine to the loop's greenlet and is switched back in with the result. That is one switch out
and one switch back per request, the technique SQLAlchemy's asyncio extension uses in production.

Code that does not know which style it is called from (the HTTP client) asks ``in_bridge()``: in a
bridged greenlet it calls ``await_`` and returns the result, otherwise it returns the coroutine for
the caller to await.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")

__all__ = ["BridgeError", "await_", "in_bridge", "run_blocking"]


class BridgeError(RuntimeError):
    """Blocking-style API used outside a blocking-style task (for example from an async task)."""


class _BridgedGreenlet(greenlet):
    """A greenlet whose parent is driving an event loop and awaits what the child hands it."""

    __slots__ = ()


def in_bridge() -> bool:
    """True when the caller runs inside ``run_blocking`` and may call ``await_``."""
    return type(getcurrent()) is _BridgedGreenlet


def await_(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` on the loop from blocking-style code, without blocking the loop."""
    current = getcurrent()
    if type(current) is not _BridgedGreenlet:
        if hasattr(awaitable, "close"):
            awaitable.close()  # type: ignore[union-attr]
        raise BridgeError(
            "a blocking-style call was made outside a blocking-style task; "
            "use 'await' in async tasks"
        )
    return current.parent.switch(awaitable)  # type: ignore[union-attr]


async def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a greenlet; each ``await_`` inside it is awaited here."""
    child = _BridgedGreenlet(fn)
    switch = child.switch
    result = switch(*args, **kwargs)
    while not child.dead:
        try:
            value = await result
        except BaseException as exc:
            result = child.throw(exc)
        else:
            result = switch(value)
    return result
