"""`import gevent` under horde: gevent's everyday names, run on horde's loop.

Every test imports gevent through horde's alias finder (even where the real gevent is installed)
and runs its code in user greenlets, as a locustfile's tasks run.
"""

from __future__ import annotations

import asyncio
import importlib
import time

import pytest

from horde import compat
from horde.bridge import run_blocking
from horde.compat.gevent import lifetime
from horde.compat.sleeping import original_sleep
from horde.compat.waiting import user_tasks
from tests.compat.bridged import in_users, on_loop

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def gevent():
    compat.install()
    module = importlib.import_module("gevent")
    assert type(module).__name__ == "AliasModule"
    yield module
    compat.uninstall()


def one_user(function):
    (result,), elapsed = in_users(lambda i: function(), 1)
    if isinstance(result, BaseException):
        raise result
    return result, elapsed


def test_spawn_and_joinall_run_greenlets_side_by_side(gevent):
    def fan_out():
        greenlets = [gevent.spawn(lambda n=n: (time.sleep(0.2), n * n)[1]) for n in range(10)]
        done = gevent.joinall(greenlets, timeout=5)
        return [g.value for g in done], all(g.successful() and g.dead for g in greenlets)

    (values, all_done), elapsed = one_user(fan_out)
    assert values == [n * n for n in range(10)] and all_done
    assert elapsed < 0.6  # ten 0.2 s sleeps at once, not one after the other


def test_greenlet_results_errors_links_and_kill(gevent):
    def scenario():
        from gevent import Greenlet, GreenletExit

        class Doubler(Greenlet):
            def __init__(self, n):
                super().__init__()
                self.n = n

            def _run(self):
                return self.n * 2

        doubled = Doubler.spawn(21)
        failing = gevent.spawn(lambda: 1 / 0)
        sleeper = gevent.spawn(time.sleep, 10)
        later = gevent.spawn_later(0.05, lambda: "later")
        linked = []
        doubled.link(lambda g: linked.append(g.value))
        gevent.sleep(0.1)
        sleeper.kill()
        with pytest.raises(ZeroDivisionError):
            failing.get()
        return (
            doubled.get(),
            later.get(timeout=1),
            type(failing.exception),
            type(sleeper.value) is GreenletExit,
            sleeper.dead,
            linked,
        )

    result, elapsed = one_user(scenario)
    assert result == (42, "later", ZeroDivisionError, True, True, [42])
    assert elapsed < 1


def test_a_pool_runs_at_most_its_size_at_once_and_maps_in_order(gevent):
    from gevent.pool import Group, Pool

    running = {"now": 0, "most": 0}

    def work(n):
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        time.sleep(0.1)
        running["now"] -= 1
        return n + 1

    def scenario():
        pool = Pool(3)
        mapped = pool.map(work, range(9))
        group = Group()
        for n in range(4):
            group.spawn(work, n)
        return mapped, group.join(timeout=5), sorted(pool.imap_unordered(work, range(3)))

    (mapped, joined, unordered), elapsed = one_user(scenario)
    assert mapped == list(range(1, 10)) and joined and unordered == [1, 2, 3]
    assert running["most"] == 4  # the pool's 3, or the group's 4 at once
    assert elapsed < 0.9  # 9 tasks 3 at a time (0.3 s), then 4 at once, then 3


def test_semaphore_acquired_at_import_and_released_by_a_listener(gevent):
    """Locust's semaphore_wait example: users wait until spawning is complete."""
    from gevent.lock import Semaphore

    all_spawned = Semaphore()
    all_spawned.acquire()  # outside any greenlet: a free slot is taken without waiting

    async def main():
        users = [asyncio.ensure_future(run_blocking(all_spawned.wait)) for _ in range(5)]
        await asyncio.sleep(0.1)
        waiting = sum(not u.done() for u in users)
        all_spawned.release()  # from the loop, as a spawning_complete listener would
        return waiting, await asyncio.gather(*users)

    assert on_loop(main) == (5, [1] * 5)


def test_locks_exclude_and_bounded_semaphores_refuse_extra_releases(gevent):
    from gevent.lock import BoundedSemaphore, RLock

    lock = RLock()
    inside = []

    def critical(i):
        with lock, lock:  # re-entrant
            inside.append(("in", i))
            time.sleep(0.02)
            inside.append(("out", i))

    results, _ = in_users(critical, 4)
    assert all(r is None for r in results)
    assert all(inside[k][0] == "in" and inside[k + 1][0] == "out" for k in range(0, 8, 2))
    bounded = BoundedSemaphore(1)
    with pytest.raises(ValueError, match="released too many times"):
        bounded.release()


def test_events_async_results_and_queues(gevent):
    from gevent.event import AsyncResult, Event
    from gevent.queue import Empty, JoinableQueue, Queue

    def scenario():
        event = Event()
        result = AsyncResult()
        queue = Queue()
        work = JoinableQueue()
        gevent.spawn_later(0.05, event.set)
        gevent.spawn_later(0.05, result.set, "value")
        failed = AsyncResult()
        failed.set_exception(KeyError("x"))

        def consumer():
            return [queue.get() for _ in range(3)]

        consuming = gevent.spawn(consumer)
        for n in range(3):
            queue.put(n)

        def worker():
            for item in work:
                work.task_done()
                if item == "stop":
                    break

        gevent.spawn(worker)
        for item in ("a", "b", "stop"):
            work.put(item)
        with pytest.raises(Empty):
            Queue().get(timeout=0.05)
        with pytest.raises(KeyError):
            failed.get()
        return (
            event.wait(1),
            Event().wait(0.05),
            result.get(timeout=1),
            consuming.get(timeout=1),
            work.join(timeout=1),
        )

    assert one_user(scenario)[0] == (True, False, "value", [0, 1, 2], True)


def test_timeouts_interrupt_a_wait(gevent):
    from gevent import Timeout

    def scenario():
        started = time.perf_counter()
        with pytest.raises(Timeout) as raised, Timeout(0.1):
            time.sleep(5)
        interrupted_after = time.perf_counter() - started
        with Timeout(0.05, False):  # False: leave the block silently
            gevent.sleep(5)
        custom = None
        try:
            with Timeout(0.05, ValueError("custom")):
                gevent.sleep(5)
        except ValueError as exc:
            custom = str(exc)
        value = gevent.with_timeout(0.05, time.sleep, 5, timeout_value="gave up")
        time.sleep(0.05)  # the task is not left cancelled: later waits work
        return round(interrupted_after, 1), str(raised.value), custom, value

    (after, message, custom, value), elapsed = one_user(scenario)
    assert (after, message, custom, value) == (0.1, "0.1 seconds", "custom", "gave up")
    assert elapsed < 1


def test_waiting_outside_a_user_task_says_why_it_cannot(gevent):
    from gevent.event import Event
    from gevent.exceptions import LoopExit

    with pytest.raises(LoopExit, match=r"Event.wait\(\) would wait outside a user task"):
        Event().wait(1)
    started = time.perf_counter()
    gevent.sleep(0.05)  # outside a user task gevent.sleep blocks, as time.sleep does
    assert time.perf_counter() - started >= 0.05


def test_greenlets_spawned_by_a_user_stop_with_it(gevent):
    ticks = []

    def background():
        while True:
            ticks.append(1)
            time.sleep(0.02)

    async def main():
        user = asyncio.ensure_future(run_blocking(lambda: gevent.spawn(background)))
        user_tasks.add(user)  # as User.run does: this task is a user's
        child = await user  # the user's task ends here: its greenlet must not outlive it
        await asyncio.sleep(0.1)
        return child.dead, len(ticks)

    dead, ticks_seen = on_loop(main)
    assert dead and ticks_seen <= 2


def test_greenlets_spawned_during_a_test_stop_with_it(gevent):
    async def main():
        lifetime.on_test_start()
        spawned_by_listener = gevent.spawn(time.sleep, 10)  # on the loop, not by a user
        await asyncio.sleep(0.05)
        running = bool(spawned_by_listener)
        lifetime.on_test_stop()
        await asyncio.sleep(0.05)
        return running, spawned_by_listener.dead

    assert on_loop(main) == (True, True)


def test_greenlets_spawned_at_import_start_with_horde_loop(gevent):
    started = []
    greenlet = gevent.spawn(started.append, "ran")  # no loop runs yet: deferred

    async def main():
        await asyncio.sleep(0.05)
        before_init = list(started)
        lifetime.on_init()
        await asyncio.sleep(0.05)
        return before_init, list(started), greenlet.dead

    assert on_loop(main) == ([], ["ran"], True)


def test_gevent_monkey_is_already_done_and_knows_the_originals(gevent):
    from gevent import monkey

    assert monkey.patch_all() is True
    assert monkey.is_module_patched("socket") and monkey.is_object_patched("time", "sleep")
    assert monkey.get_original("time", "sleep") is original_sleep


def test_gevent_socket_ssl_and_select_are_the_cooperative_standard_library(gevent):
    import select
    import socket
    import ssl

    from gevent import select as gevent_select
    from gevent import socket as gevent_socket
    from gevent import ssl as gevent_ssl

    assert gevent_socket.socket is socket.socket
    assert gevent_socket.create_connection is socket.create_connection
    assert gevent_ssl.SSLContext is ssl.SSLContext and gevent_select.select is select.select


def test_the_rest_of_gevent_is_refused_with_a_sentence(gevent):
    with pytest.raises(ModuleNotFoundError, match=r"gevent\.pywsgi is not provided by horde"):
        importlib.import_module("gevent.pywsgi")


def test_outside_horde_gevent_is_not_horde_s():
    pytest.importorskip(
        "gevent", reason="gevent is not installed (it comes with Locust: the bench group)"
    )
    import sys

    assert type(sys.modules["gevent"]).__name__ != "AliasModule"
    compat.install()  # the real gevent is set aside while horde runs...
    assert type(importlib.import_module("gevent")).__name__ == "AliasModule"
    compat.uninstall()  # ...and back afterwards
    assert type(importlib.import_module("gevent")).__name__ != "AliasModule"
