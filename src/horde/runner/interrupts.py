"""Ctrl-C and SIGTERM, heard even while user code keeps the event loop to itself.

``loop.add_signal_handler`` runs its callbacks on the loop: a task spinning on the CPU (``while
True: pass``) never lets them run, so a second Ctrl-C and SIGTERM went unheard and only
``kill -9`` ended the process, writing nothing. A Python-level handler (``signal.signal``) runs
in the main thread between two bytecodes of whatever code runs there, spinning user code
included. So the handler here only counts the signal (which the stop guard's thread reads, see
``horde.runner.stop_guard``) and hands the action to the loop with ``call_soon_threadsafe``:
when the loop is free the action runs at once, as before; when it is not, the guard acts.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

__all__ = ["INTERRUPTS", "Interrupts", "install_interrupt_handlers", "remove_interrupt_handlers"]

_SIGNALS = ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM"))


class Interrupts:
    """How many times this process was interrupted since the handlers were installed."""

    def __init__(self) -> None:
        self.count = 0
        self.first_at: float | None = None  # time.monotonic() of the first one
        self.last_at: float | None = None
        self.first_name = ""  # "Ctrl-C" or "SIGTERM"
        self._previous: dict[int, Any] = {}

    def reset(self) -> None:
        self.count = 0
        self.first_at = self.last_at = None
        self.first_name = ""


INTERRUPTS = Interrupts()
"""The process's record: signals are per process, so is this."""


def install_interrupt_handlers(
    loop: asyncio.AbstractEventLoop, first: Callable[[str], None], again: Callable[[], None]
) -> None:
    """Ctrl-C or SIGTERM calls ``first`` with the signal's name on ``loop``; every later one,
    ``again``. Call from the main thread; undo with ``remove_interrupt_handlers``."""
    record = INTERRUPTS
    record.reset()

    def on_signal(signum: int, _frame: Any) -> None:
        # Runs inside whatever the main thread was doing: count, and hand over to the loop.
        now = time.monotonic()
        record.count += 1
        record.last_at = now
        if record.first_at is None:
            record.first_at = now
        name = {int(sig): name for sig, name in _SIGNALS}.get(signum, str(signum))
        record.first_name = record.first_name or name
        try:
            if record.count == 1:
                loop.call_soon_threadsafe(first, name)
            else:
                loop.call_soon_threadsafe(again)
        except RuntimeError:  # the loop is closed: the run is over already
            pass

    for sig, _ in _SIGNALS:
        previous = signal.signal(sig, on_signal)
        record._previous.setdefault(sig, previous)


def remove_interrupt_handlers() -> None:
    """Put back the handlers that were there before ``install_interrupt_handlers``."""
    previous = INTERRUPTS._previous
    for sig, handler in list(previous.items()):
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        del previous[sig]
