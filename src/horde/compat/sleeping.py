"""``time.sleep`` that pauses only its own user when called from a user greenlet."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet
from horde.compat import hub
from horde.compat.waiting import cooperative_wait

__all__ = ["original_sleep", "sleep"]

original_sleep = time.sleep


def sleep(secs: Any) -> None:
    """Sleep ``secs`` seconds: on the loop in a user greenlet (or running the library loop, in
    a library script's main code: ``horde.compat.hub``), in this thread anywhere else."""
    bridged = getcurrent().__class__ is BridgedGreenlet
    if (not bridged and not hub.active()) or isinstance(secs, str | bytes):
        original_sleep(secs)  # and its errors for values it refuses
        return
    try:
        seconds = float(secs)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        original_sleep(secs)  # raises what time.sleep raises for this value
        return
    if bridged:
        cooperative_wait(asyncio.sleep(seconds))
    else:
        hub.run(asyncio.sleep(seconds))
