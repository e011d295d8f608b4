"""Name the call that holds horde's event loop, for the warning of the blocked-loop watchdog.

The watchdog (``horde.runner.blockwatch``) sees that the loop is late; this looks at what the
loop's thread is executing at that moment and names it the way a user would find it: the line
of their own code (the scenario, or a helper module of theirs) and, when the wait is deeper, the
library function it waits in. A blocking call that the cooperative layer covers never gets here;
one it does not cover (a C extension's own I/O, ``threading.Lock``, ``subprocess``...) does.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
from types import FrameType

__all__ = ["describe_frame", "describe_stall"]

_HORDE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@functools.cache
def _libraries() -> tuple[str, ...]:
    """Where the standard library, installed packages and horde live. (From ``os`` and ``site``,
    already imported: the watchdog thread should not import anything while the loop's thread
    may be stuck inside an import.)"""
    import site  # imported by the interpreter at start-up

    stdlib = os.path.dirname(os.__file__)
    places = [stdlib, os.path.join(stdlib, "lib-dynload"), *site.getsitepackages()]
    if site.ENABLE_USER_SITE and site.USER_SITE:
        places.append(site.USER_SITE)
    return (*(os.path.realpath(p) + os.sep for p in places), _HORDE)


def _is_library(filename: str) -> bool:
    return filename.startswith("<") or os.path.realpath(filename).startswith(_libraries())


def _where(frame: FrameType) -> str:
    code = frame.f_code
    return f"{os.path.basename(code.co_filename)}:{frame.f_lineno}, in {code.co_name}"


def _line(frame: FrameType) -> str:
    return linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()


def describe_frame(frame: FrameType) -> str:
    """``'time.sleep(1)' (locustfile.py:12, in view_item)``, plus the library function it
    waits in when that is deeper than the user's own line."""
    user: FrameType | None = frame
    while user is not None and _is_library(user.f_code.co_filename):
        user = user.f_back
    if user is None:
        return f"{_line(frame)!r} ({_where(frame)})"
    text = f"{_line(user)!r} ({_where(user)})"
    if user is not frame:
        text += f", waiting in {frame.f_code.co_name} ({_where(frame)})"
    return text


# Where a loop's thread is when the loop waits for I/O (epoll is C code, called from these).
_LOOP_WAITS = frozenset(("run_forever", "run_until_complete", "_run_once", "select", "run"))


def _in_event_loop(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    in_loop = f"{os.sep}asyncio{os.sep}" in filename or f"{os.sep}uvloop{os.sep}" in filename
    return in_loop and frame.f_code.co_name in _LOOP_WAITS


def _loop_is_waiting(frame: FrameType) -> bool:
    """The loop's own wait for I/O: uvloop's (C code under asyncio's runner) or asyncio's
    selector, called from its loop."""
    if _in_event_loop(frame):
        return True
    caller = frame.f_back
    return (
        frame.f_code.co_name == "select"
        and frame.f_code.co_filename.endswith(f"{os.sep}selectors.py")
        and caller is not None
        and _in_event_loop(caller)
    )


def describe_stall(thread_id: int) -> str | None:
    """What the thread ``thread_id`` (the loop's) is executing now; None if unknown, and ""
    when the loop is only waiting for I/O: then nothing blocks it, and a late heartbeat means
    the process did not get the CPU (a busy machine), not that a call stalled the loop."""
    frame = sys._current_frames().get(thread_id)
    if frame is None:
        return None
    if _loop_is_waiting(frame):
        return ""
    return describe_frame(frame)
