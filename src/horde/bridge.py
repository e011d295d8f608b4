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

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")

__all__ = [
    "BridgeError",
    "BridgedGreenlet",
    "await_",
    "in_bridge",
    "run_blocking",
    "start_blocking",
]


class BridgeError(RuntimeError):
    """Blocking-style API used outside a blocking-style task (for example from an async task)."""


class _BridgedGreenlet(greenlet):  # type: ignore[misc]  # greenlet ships no types
    """A reusable greenlet that runs blocking-style calls handed to it by ``run_blocking``.

    Creating a greenlet costs about 10 µs here, while a switch costs well under 1 µs, so
    greenlets are kept in a pool and reused: a call costs two round trips (call/return and one
    per ``await_``), not a creation.
    """

    __slots__ = ()


BridgedGreenlet = _BridgedGreenlet
"""For hot paths: ``type(getcurrent()) is BridgedGreenlet`` is ``in_bridge()`` without a call,
and then ``current.parent.switch(None, awaitable)`` is ``await_(awaitable)`` (the protocol
between a bridged greenlet and ``run_blocking``)."""

_DONE = object()
_FAILED = object()
_pool: list[_BridgedGreenlet] = []


def _serve_calls(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Body of a pooled greenlet: run one call, report it, wait for the next, forever."""
    parent = getcurrent().parent
    assert parent is not None  # run_blocking switched here from the loop's greenlet
    parent_switch = parent.switch
    while True:
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            fn, args, kwargs = parent_switch(_FAILED, exc)
        else:
            fn, args, kwargs = parent_switch(_DONE, result)


def in_bridge() -> bool:
    """True when the caller runs inside ``run_blocking`` and may call ``await_``."""
    return type(getcurrent()) is _BridgedGreenlet


def await_(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` on the loop from blocking-style code, without blocking the loop."""
    current = getcurrent()
    if type(current) is not _BridgedGreenlet:
        if hasattr(awaitable, "close"):
            awaitable.close()
        raise BridgeError(
            "a blocking-style call was made outside a blocking-style task; "
            "use 'await' in async tasks"
        )
    # The protocol with run_blocking: a bridged greenlet's parent is the loop's greenlet.
    result: T = current.parent.switch(None, awaitable)
    return result


async def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a greenlet; each ``await_`` inside it is awaited here."""
    # The loop of _drive, inlined: this runs once per blocking-style task, and a second
    # coroutine awaited on every call cost ~0.9 us of a ~13 us request (bench/python_cost.py).
    child = _pool.pop() if _pool else _BridgedGreenlet(_serve_calls)
    reusable = True
    try:
        state, value = child.switch(fn, args, kwargs)
        while state is None:
            try:
                result = await value
            except BaseException as exc:
                state, value = child.throw(exc)
            else:
                state, value = child.switch(result)
    except BaseException:
        reusable = False  # as in _drive: a greenlet an error escaped from is never reused
        raise
    finally:
        if reusable and not child.dead:
            _pool.append(child)
    if state is _FAILED:
        raise value
    returned: T = value
    return returned


def start_blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Task[Any] | None:
    """Call ``fn(*args, **kwargs)`` in a greenlet from synchronous code on the loop: if it
    returns without waiting, that was all (None; its exception is raised here); if it waits
    (``time.sleep``, a socket, gevent...), the rest runs on the loop and the task returned ends
    with it. Event listeners run this way, so that one that blocks waits as a user's task does
    while one that does not runs at once, in order. From a greenlet that may already wait
    (``in_bridge()``), ``fn`` is simply called."""
    if type(getcurrent()) is _BridgedGreenlet:
        fn(*args, **kwargs)
        return None
    child = _pool.pop() if _pool else _BridgedGreenlet(_serve_calls)
    first = child.switch(fn, args, kwargs)
    if first[0] is not None:
        if not child.dead:
            _pool.append(child)
        if first[0] is _FAILED:
            raise first[1]
        return None
    return asyncio.get_running_loop().create_task(_drive(child, first))


async def _drive(child: _BridgedGreenlet, first: tuple[Any, Any]) -> Any:
    """Serve ``child``'s awaits (from its switch that returned ``first``) until it returns."""
    reusable = True
    try:
        state, value = first
        while state is None:
            try:
                result = await value
            except BaseException as exc:
                state, value = child.throw(exc)
            else:
                state, value = child.switch(result)
    except BaseException:
        # The greenlet died with an error thrown into it that escaped _serve_calls (only
        # GreenletExit-like cases); never reuse it.
        reusable = False
        raise
    finally:
        if reusable and not child.dead:
            _pool.append(child)
    if state is _FAILED:
        raise value
    return value
