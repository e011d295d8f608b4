"""Make a run end on time and write its results, whatever the user code does.

A task that spins on the CPU (``while True: pass``, or a loop that swallows every exception)
keeps the event loop to itself: the run time cannot expire, Ctrl-C and SIGTERM callbacks cannot
run, and the runner's stop never starts. The blocked-loop watch already has a thread that sees
the loop's heartbeat; the guard lives on it and, once a stop is due (run time over, a signal, or
a stop begun by the runner) and the loop has been stuck past the stop's deadline, acts in two
steps:

1. it raises ``UserCodeAbandoned`` (a ``BaseException``) in the main thread, where the stuck code
   runs (``PyThreadState_SetAsyncExc``), a few times, since user code may swallow it; the task
   ends, is reported as abandoned in the exception table, and the run ends the normal way;
2. if the loop is still stuck, it writes the summary and every requested file itself, from the
   in-memory stats, and ends the process with the run's exit code (``os._exit``): requests still
   in flight then are not recorded, which the summary says.

The stop's deadline is the time it was asked for plus ``--stop-timeout`` plus the drain grace,
what a well-behaved run needs; a second Ctrl-C or SIGTERM while the loop is stuck acts at once,
a third goes straight to step 2. Nothing runs on the request path: the loop only beats, as it
did for the blocked-loop warning.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from horde.exceptions import UserCodeAbandoned
from horde.runner.blockwatch import blocking_task_name
from horde.runner.interrupts import INTERRUPTS
from horde.runner.lifecycle import ABANDONED_TASKS, DRAIN_GRACE, RunnerState

if TYPE_CHECKING:
    from horde.runner.environment import Environment

log = logging.getLogger("horde.runner")

__all__ = ["StopGuard", "claim_conclusion", "conclude_abandoned", "exit_now"]

STUCK_FOR = 0.5  # the loop must have missed its heartbeat this long before the guard acts
ATTEMPTS = 8  # asynchronous exceptions raised into stuck code before giving up on it
ATTEMPT_INTERVAL = 0.25
HUNG_STOP_MARGIN = 10.0  # a stop still unfinished this long after its deadline, loop or not
LAST_RESORT_LIMIT = 30.0  # writing the results from the guard's thread may take this long


class StopGuard:
    """Watches one run from the blocked-loop watch's thread (``BlockWatch.guard``); made in
    the loop's thread, while the loop runs.

    ``conclude_now`` writes the summary and files from the stats and returns the exit code;
    a worker, whose master holds the results, passes None and only exits. The session calls
    ``users_stopped()`` when the runner's stop has returned, and ``concluded(code)`` after
    writing the results; ``conclude`` itself makes sure only one thread writes them
    (``claim_conclusion``).
    """

    def __init__(
        self,
        environment: Environment,
        *,
        run_time: float | None = None,
        conclude_now: Callable[[], int] | None = None,
    ) -> None:
        self.environment = environment
        self.conclude_now = conclude_now
        self.loop = asyncio.get_running_loop()
        self.main_thread = threading.get_ident()
        self.run_deadline = time.monotonic() + run_time if run_time else None
        self.attempts = 0
        self._next_attempt = 0.0
        self._stop_seen_at: float | None = None
        self._why = "stopped"  # the stop reason the loop would have set, had it turned
        self._standing_down = False

    # Loop side ---------------------------------------------------------------------------------
    def users_stopped(self) -> None:
        """The runner's stop has returned: from here on the session writes the results (the
        guard also stands down by itself when it sees the runner stopped at the run's end)."""
        self._standing_down = True

    def concluded(self, code: int) -> None:
        """The results are written. A task that ignored its cancellation would hang the loop's
        shutdown: then the process ends here, with ``code``."""
        if any(not task.done() for task in list(ABANDONED_TASKS)):
            exit_now(code)

    # Watch thread side -------------------------------------------------------------------------
    def check(self, now: float, last_beat: float) -> None:
        """Called by the watch thread every heartbeat with the loop's last beat."""
        if self._standing_down:
            return
        stop_at = self._stop_due(now)
        if stop_at is None:
            return
        stuck_for = now - last_beat  # since the loop last turned
        presses = INTERRUPTS.count
        deadline = stop_at + self.environment.stop_timeout + DRAIN_GRACE
        if stuck_for >= STUCK_FOR and (now >= deadline or presses >= 2):
            if presses >= 3 or self.attempts >= ATTEMPTS:
                self.last_resort(now - stop_at)
            elif now >= self._next_attempt:
                self.attempts += 1
                self._next_attempt = now + ATTEMPT_INTERVAL
                self._raise_in_stuck_code(now - stop_at)
        elif now >= deadline + HUNG_STOP_MARGIN and self.conclude_now is not None:
            # The loop turns, yet the stop has not finished long after its deadline: whatever
            # holds it, the results are written now rather than never.
            self.last_resort(0.0)

    def _stop_due(self, now: float) -> float | None:
        """When the current stop was due (monotonic), or None while none is."""
        env = self.environment
        runner = env.runner
        state = runner.state if runner is not None else None
        deadline = self.run_deadline
        overdue = deadline is not None and now >= deadline
        asked = INTERRUPTS.count > 0 or env.stop_reason is not None or overdue
        if asked and state is RunnerState.STOPPED:
            self._standing_down = True  # the run's stop is over: the session concludes
            return None
        if self._stop_seen_at is None:
            if asked or state is RunnerState.STOPPING:
                seen = [now]
                if deadline is not None and overdue:
                    seen.append(deadline)
                if INTERRUPTS.first_at is not None:
                    seen.append(INTERRUPTS.first_at)
                self._stop_seen_at = min(seen)
                if INTERRUPTS.first_name:
                    self._why = f"interrupted ({INTERRUPTS.first_name})"
                elif overdue:
                    self._why = "run time reached"
        elif not asked and state in (RunnerState.STOPPED, RunnerState.READY):
            # A stop of one test (web UI, a worker told by its master) completed: the next
            # test's stop will have its own deadline.
            self._stop_seen_at = None
            self.attempts = 0
        return self._stop_seen_at

    def _raise_in_stuck_code(self, late: float) -> None:
        reason = (
            f"abandoned: it still held the event loop {late:.1f} s after the test was asked "
            "to stop (a loop with no request or sleep, or one catching every exception?)"
        )
        if self.attempts == 1:
            log.warning("%s would not stop: raising UserCodeAbandoned in it", self._where())
        # The exception is raised as a class (instantiated without arguments): its text rides
        # on a subclass made for the occasion.
        details = {"reason": reason, "__module__": UserCodeAbandoned.__module__}
        abandoned = type("UserCodeAbandoned", (UserCodeAbandoned,), details)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(self.main_thread), ctypes.py_object(abandoned)
        )

    def _where(self) -> str:
        return blocking_task_name(self.loop)

    def last_resort(self, late: float) -> None:
        """Write the results from this thread and end the process (the loop will not)."""
        if not try_claim_conclusion():
            return  # the session is writing them itself
        self._standing_down = True
        env = self.environment
        where = self._where() if late else "the stop"
        if late:
            text = (
                f"abandoned: it still held the event loop {late:.1f} s after the test was asked "
                "to stop, and would not let go; the results were written without it (requests "
                "in flight then are not counted)"
            )
        else:
            text = "it did not finish in time; the results were written without waiting"
        if env.stop_reason is None:
            env.stop_reason = self._why
        try:
            env.stats.record_exception(UserCodeAbandoned(text), where=where.removeprefix("task "))
        except Exception:  # the stats are only read from here on
            pass
        print(f"horde: error: {where} would not stop: {text}", file=sys.stderr, flush=True)
        if self.conclude_now is None:
            exit_now(1)
        # Should writing hang too (a listener of the quitting event, a full disk), leave anyway.
        limit = threading.Timer(LAST_RESORT_LIMIT, exit_now, (1,))
        limit.daemon = True
        limit.start()
        code = 1
        try:
            code = self.conclude_now() or 1  # abandoned code was recorded: never a clean 0
        except Exception as exc:  # one sentence, and the exit below
            print(f"horde: error: writing the results failed: {exc}", file=sys.stderr)
        exit_now(code)


_conclusion = threading.Lock()
_concluding_thread: int | None = None


def try_claim_conclusion() -> bool:
    """True when this thread may write the run's results: the first to ask, or itself again."""
    global _concluding_thread
    me = threading.get_ident()
    if _concluding_thread == me:
        return True
    if _conclusion.acquire(blocking=False):
        _concluding_thread = me
        return True
    return False


def claim_conclusion() -> None:
    """Called by ``conclude``: the first thread to conclude a run does it. The loop's thread
    finding the guard's last resort already at it (its stuck code let go just too late) waits
    here for that thread to end the process, rather than writing the files a second time."""
    if not try_claim_conclusion():
        while True:
            time.sleep(60)


def exit_now(code: int) -> NoReturn:
    """End the process at once with ``code``, output flushed (no loop shutdown, no atexit)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed pipe must not keep us alive
            pass
    os._exit(code)


def conclude_abandoned(environment: Environment, console: Any, finish: Callable[[], int]) -> int:
    """The last resort's conclusion, from the guard's thread while the loop is stuck: close the
    last second of stats as the runner's stop would have, then ``finish`` (summary, files)."""
    if console is not None:
        console.stop_display()
    now = time.time()
    runner = environment.runner
    if runner is not None and runner.state is not RunnerState.STOPPED:
        runner.state = RunnerState.STOPPED
        runner.close_second(now)
        environment.stats.end_time = now
    return finish()
