"""``horde.sleep``: a pause that works in blocking-style and in async tasks alike."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from horde.bridge import await_, in_bridge

__all__ = ["sleep"]


def sleep(seconds: float) -> Any:
    """Pause this user only: ``horde.sleep(1)`` in a plain task, ``await horde.sleep(1)`` in async.

    ``time.sleep`` would stop every user on the loop; this lets the others run meanwhile.
    """
    coro: Coroutine[Any, Any, None] = asyncio.sleep(seconds)
    if in_bridge():
        return await_(coro)
    return coro
