"""Ctrl-C and SIGTERM, the same in every mode: the first asks the run to end cleanly (the summary
and files are still written), every later one hurries it (users stop at their next request).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from horde.runner.interrupts import install_interrupt_handlers, remove_interrupt_handlers

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.interface import Runner

__all__ = ["install_stop_signals", "on_interrupts", "remove_stop_signals"]


def on_interrupts(
    loop: asyncio.AbstractEventLoop, first: Callable[[str], None], again: Callable[[], None]
) -> None:
    """Ctrl-C or SIGTERM calls ``first`` with the signal's name; every later one, ``again``.

    Heard even while user code holds the loop (``horde.runner.interrupts``). Undo with
    ``remove_stop_signals``."""
    install_interrupt_handlers(loop, first, again)


def install_stop_signals(
    loop: asyncio.AbstractEventLoop,
    environment: Environment,
    runner: Runner | Callable[[], Runner] | None = None,
) -> None:
    """Ctrl-C or SIGTERM ends the run cleanly (results are still written); a second Ctrl-C
    stops users at their next request instead of after their task, and cuts the wait for the
    requests in flight to a short grace. ``runner`` is the runner, or a function returning the
    current one (the web UI changes runners between tests)."""

    def stop(name: str) -> None:
        environment.request_test_stop(f"interrupted ({name})")

    def stop_now() -> None:
        environment.stop_timeout = 0
        current = runner() if callable(runner) else runner
        if current is not None:
            current.stop_users_now()

    on_interrupts(loop, stop, stop_now)


def remove_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    remove_interrupt_handlers()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
