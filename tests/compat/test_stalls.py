"""Naming the call that holds the event loop, for the blocked-loop watchdog's warning."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from horde.compat.stalls import describe_stall
from horde.runner.blockwatch import BlockWatch

pytestmark = pytest.mark.timeout(30)


class LoopThread:
    """An asyncio loop in a thread, with a BlockWatch started on it (never ticking by itself:
    the test calls its report directly, as its watchdog thread would)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.watch = BlockWatch(threshold=3600)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.started = threading.Event()
        self.thread.start()
        self.started.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self.watch.start, self.loop)
        self.loop.call_soon(self.started.set)
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.watch.stop()
        self.loop.close()


def block_the_loop(release: threading.Event) -> None:
    release.wait(5)  # a call horde cannot make cooperative


@pytest.fixture
def loop_thread():
    running = LoopThread()
    yield running
    running.stop()


def test_a_loop_waiting_for_io_is_not_blocked(loop_thread, caplog):
    time.sleep(0.05)
    assert describe_stall(loop_thread.thread.ident) == ""
    with caplog.at_level(logging.WARNING, logger="horde.blocking"):
        loop_thread.watch._report(0.5)  # late, but only because the machine was busy
    assert not caplog.records


def test_a_blocking_call_is_named_once_by_its_line(loop_thread, caplog):
    release = threading.Event()
    loop_thread.loop.call_soon_threadsafe(block_the_loop, release)
    time.sleep(0.1)
    try:
        call = describe_stall(loop_thread.thread.ident)
        with caplog.at_level(logging.WARNING, logger="horde.blocking"):
            loop_thread.watch._report(0.25)
            loop_thread.watch._report(0.35)  # the same call again: no second warning
    finally:
        release.set()
    assert call is not None
    assert call.startswith("'release.wait(5)  # a call horde cannot make cooperative' ")
    assert "(test_stalls.py:" in call and ", in block_the_loop), waiting in wait (" in call
    assert [r.getMessage() for r in caplog.records] == [
        "code outside any task (a network or timer callback of horde itself) blocked the event "
        f"loop for more than 250 ms in {call}: every user stalls meanwhile. In tasks, "
        "time.sleep, sockets (requests, urllib, http.client, xmlrpc), ssl, select, DNS and "
        "gevent's waits let the other users run, but this code runs outside any task, where "
        "nothing can wait: move the wait into a task, on_start or an event listener (they run "
        "in greenlets), or make it async."
    ]
