"""When spawned greenlets start and stop, tied to horde's run (see greenlets.py).

``horde.compat.install`` connects these to horde's events: greenlets spawned before the loop
runs start at ``init`` (or at the next test start), and greenlets spawned while a test runs, by
anything but a user, are killed when it stops.
"""

from __future__ import annotations

import asyncio
from typing import Any

from horde.compat.gevent import greenlets

__all__ = ["on_init", "on_test_start", "on_test_stop", "start_deferred"]


def start_deferred() -> None:
    """Launch the greenlets spawned while no loop was running."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    pending = list(greenlets.deferred)
    greenlets.deferred.clear()
    for greenlet in pending:
        greenlet._launch(loop)


def on_init(**_: Any) -> None:
    start_deferred()


def on_test_start(**_: Any) -> None:
    greenlets.test_running = True
    start_deferred()


def on_test_stop(**_: Any) -> None:
    greenlets.test_running = False
    scoped = list(greenlets.test_scoped)
    greenlets.test_scoped.clear()
    for greenlet in scoped:
        greenlet.kill(block=False)
