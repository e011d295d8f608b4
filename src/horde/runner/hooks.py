"""Lifecycle events fired the way Locust fires them: in a greenlet, where blocking is allowed.

Under Locust, ``test_start`` runs in the greenlet that spawns users, ``init`` in the main one:
a listener there may fetch test data with ``requests``, ``time.sleep`` or send and wait for
messages, and the other greenlets carry on. horde fires them in a bridged greenlet
(``horde.bridge.start_blocking``): listeners that do not wait run at once, in order, as any
synchronous call; one that waits hands the rest to the loop and the runner waits for it (the
ramp starts once ``test_start``'s listeners are done, as Locust's does). Nothing is paid when a
hook has no listener.
"""

from __future__ import annotations

import asyncio
from typing import Any

from horde.bridge import start_blocking
from horde.events import EventHook

__all__ = ["fire_and_wait", "fire_cooperatively"]


def fire_cooperatively(hook: EventHook, **kwargs: Any) -> asyncio.Task[Any] | None:
    """Fire ``hook`` in a greenlet; None when its listeners are done, else the task that
    finishes them (they waited on the loop)."""
    if not hook:
        return None
    return start_blocking(hook.fire, **kwargs)


async def fire_and_wait(hook: EventHook, **kwargs: Any) -> None:
    """Fire ``hook`` in a greenlet and wait until every listener has returned."""
    pending = fire_cooperatively(hook, **kwargs)
    if pending is not None:
        await pending
