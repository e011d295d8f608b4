"""Run functions as horde runs blocking-style tasks: in bridged greenlets on a uvloop loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

from horde.bridge import run_blocking


def in_users(function: Callable[[int], Any], count: int) -> tuple[list[Any], float]:
    """``function(i)`` for i in range(count), each in its own user greenlet, all at once; the
    results (exceptions included, not raised) and the wall time it all took."""

    async def main() -> list[Any]:
        calls = [run_blocking(function, i) for i in range(count)]
        return await asyncio.gather(*calls, return_exceptions=True)

    started = time.perf_counter()
    results = uvloop.run(main())
    return results, time.perf_counter() - started


def on_loop(coroutine: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``coroutine()`` on a fresh uvloop loop and return its result."""
    return uvloop.run(coroutine())
