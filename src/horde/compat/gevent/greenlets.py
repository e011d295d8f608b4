"""gevent's greenlets (``spawn``, ``Greenlet``, ``joinall``, ``sleep``...) on horde's loop.

A spawned greenlet is bridged work: an asyncio task runs its function in a greenlet of horde's
bridge, so everything it does is cooperative like a user's task. Its lifetime follows what
spawned it: greenlets spawned by a user (in a task, ``on_start``...) are killed when that user
stops; greenlets spawned while a test runs from elsewhere (event listeners) are killed when the
test stops; greenlets spawned when the locustfile is imported or in ``events.init`` live until
horde exits, as they would under Locust. A killed greenlet is cancelled: the
``asyncio.CancelledError`` it sees where it waits plays the part of gevent's ``GreenletExit``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from greenlet import GreenletExit
from greenlet import getcurrent as raw_getcurrent

from horde.bridge import run_blocking
from horde.compat import hub
from horde.compat.sleeping import original_sleep
from horde.compat.waiting import (
    BlockingOutsideTask,
    can_wait,
    cooperative_wait,
    in_user_greenlet,
    new_waiter,
    user_tasks,
    wait_future,
    wake,
)

__all__ = [
    "Greenlet",
    "GreenletExit",
    "getcurrent",
    "idle",
    "iwait",
    "joinall",
    "kill",
    "killall",
    "sleep",
    "spawn",
    "spawn_later",
    "spawn_raw",
    "wait",
]

log = logging.getLogger("horde.gevent")
_monotonic = time.monotonic
_ids = itertools.count(1)
_by_task: dict[asyncio.Task[Any], Greenlet] = {}
# Started with no loop running (at import): they start when horde's loop does (see lifetime.py).
deferred: list[Greenlet] = []
# Spawned outside users while a test runs: killed when it stops (see lifetime.py).
test_scoped: set[Greenlet] = set()
test_running = False


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop to run greenlets on: the running one, or a library script's (``hub``)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return hub.loop() if hub.started() else None


class Greenlet:
    """gevent's ``Greenlet``: ``Greenlet(run, *args, **kwargs)``, or subclass and define
    ``_run``. ``start()`` schedules it on horde's loop."""

    def __init__(self, run: Callable[..., Any] | None = None, *args: Any, **kwargs: Any) -> None:
        if run is not None:
            self._run = run  # type: ignore[method-assign]  # gevent's API: a run, or a _run
        self.args = args
        self.kwargs = kwargs
        self.name = f"Greenlet-{next(_ids)}"
        self.value: Any = None
        self._exception: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._start_handle: asyncio.TimerHandle | asyncio.Handle | None = None
        self._scheduled = False
        self._done = False
        self._kill_with: BaseException | None = None
        self._links: list[Callable[[Greenlet], Any]] = []
        self._waiters: list[asyncio.Future[Any]] = []
        self._owner: asyncio.Task[Any] | None = None

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        """What the greenlet runs when no ``run`` was given (gevent's subclassing hook)."""
        return None

    # Starting --------------------------------------------------------------------------------
    @classmethod
    def spawn(cls, *args: Any, **kwargs: Any) -> Greenlet:
        greenlet = cls(*args, **kwargs)
        greenlet.start()
        return greenlet

    @classmethod
    def spawn_later(cls, seconds: float, *args: Any, **kwargs: Any) -> Greenlet:
        greenlet = cls(*args, **kwargs)
        greenlet.start_later(seconds)
        return greenlet

    def start(self) -> None:
        """Schedule the greenlet to run (now if a loop runs, else when horde's loop starts)."""
        if self._scheduled or self._done:
            return
        self._scheduled = True
        self._adopt()
        loop = _running_loop()
        if loop is None:
            deferred.append(self)
        else:
            self._launch(loop)

    def start_later(self, seconds: float) -> None:
        if self._scheduled or self._done:
            return
        loop = _running_loop()
        if loop is None:
            raise BlockingOutsideTask("gevent.spawn_later() before horde's loop runs")
        self._scheduled = True
        self._adopt()
        self._start_handle = loop.call_later(seconds, self._launch, loop)

    def _adopt(self) -> None:
        """Tie the greenlet to the user that spawns it (or to the greenlet a user spawned),
        else to the running test."""
        if in_user_greenlet():
            owner = asyncio.current_task()
            if owner is not None and owner in user_tasks:
                self._owner = owner
                owner.add_done_callback(self._owner_ended)
                return
        if test_running:
            test_scoped.add(self)

    def _owner_ended(self, _: asyncio.Task[Any]) -> None:
        self._owner = None
        self.kill(block=False)

    def _launch(self, loop: asyncio.AbstractEventLoop) -> None:
        self._start_handle = None
        if self._done:
            return
        self._task = loop.create_task(self._drive(), name=self.name)
        _by_task[self._task] = self
        if self._owner is not None:
            user_tasks.add(self._task)  # what it spawns dies with the same user

    async def _drive(self) -> None:
        try:
            self.value = await run_blocking(self._call)
        except asyncio.CancelledError:
            self.value = self._kill_with if self._kill_with is not None else GreenletExit()
        except GreenletExit as exc:
            self.value = exc
        except BaseException as exc:
            self._exception = exc
            log.error(
                "greenlet %s (%s) failed: %s: %s",
                self.name,
                getattr(self._run, "__qualname__", self._run),
                type(exc).__name__,
                exc,
                exc_info=exc,
            )
        finally:
            if self._task is not None:
                _by_task.pop(self._task, None)
            self._finish()

    def _call(self) -> Any:
        return self._run(*self.args, **self.kwargs)

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        test_scoped.discard(self)
        if self._owner is not None:
            self._owner.remove_done_callback(self._owner_ended)
            self._owner = None
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            wake(waiter)
        links, self._links = self._links, []
        for link in links:
            self._call_link(link)

    def _call_link(self, link: Callable[[Greenlet], Any]) -> None:
        loop = _running_loop()
        if loop is None:
            link(self)
        else:
            loop.call_soon(link, self)

    # State -----------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._scheduled

    @property
    def dead(self) -> bool:
        return self._done

    @property
    def exception(self) -> BaseException | None:
        return self._exception

    def ready(self) -> bool:
        return self._done

    def successful(self) -> bool:
        return self._done and self._exception is None

    def __bool__(self) -> bool:
        return self._scheduled and not self._done

    def __repr__(self) -> str:
        state = "dead" if self._done else "running" if self._task else "pending"
        return f"<Greenlet {self.name!r} {state}: {getattr(self._run, '__qualname__', '?')}>"

    # Waiting and stopping --------------------------------------------------------------------
    def join(self, timeout: float | None = None) -> None:
        """Wait until the greenlet has finished, or ``timeout`` seconds."""
        if self._done:
            return
        waiter = new_waiter("Greenlet.join()")
        self._waiters.append(waiter)
        try:
            wait_future(waiter, timeout, "Greenlet.join()")
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The greenlet's return value, or its exception raised here."""
        if not self._done:
            if not block:
                from horde.compat.gevent.timeouts import Timeout

                raise Timeout()
            self.join(timeout)
            if not self._done:
                from horde.compat.gevent.timeouts import Timeout

                raise Timeout(timeout)
        if self._exception is not None:
            raise self._exception
        return self.value

    def kill(
        self,
        exception: type[BaseException] | BaseException = GreenletExit,
        block: bool = True,
        timeout: float | None = None,
    ) -> None:
        """Stop the greenlet where it waits (it sees ``asyncio.CancelledError``)."""
        if self._done:
            return
        self._kill_with = exception() if isinstance(exception, type) else exception
        if self._task is None:  # not started yet: it never will be
            if self._start_handle is not None:
                self._start_handle.cancel()
            if self in deferred:
                deferred.remove(self)
            self.value = self._kill_with
            self._finish()
            return
        if in_user_greenlet() and self._task is asyncio.current_task():
            raise self._kill_with  # a greenlet killing itself stops here
        self._task.cancel(f"{self.name} was killed")
        if block and can_wait():
            self.join(timeout)

    def link(self, callback: Callable[[Greenlet], Any]) -> None:
        if self._done:
            self._call_link(callback)
        else:
            self._links.append(callback)

    rawlink = link

    def link_value(self, callback: Callable[[Greenlet], Any]) -> None:
        self.link(lambda g: callback(g) if g.successful() else None)

    def link_exception(self, callback: Callable[[Greenlet], Any]) -> None:
        self.link(lambda g: callback(g) if g._exception is not None else None)

    def unlink(self, callback: Callable[[Greenlet], Any]) -> None:
        if callback in self._links:
            self._links.remove(callback)

    # For wait()/iwait(): a waiter woken when the greenlet finishes.
    def _horde_add_waiter(self, waiter: asyncio.Future[Any]) -> bool:
        if self._done:
            return False
        self._waiters.append(waiter)
        return True

    def _horde_remove_waiter(self, waiter: asyncio.Future[Any]) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)


def spawn(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Greenlet:
    """Run ``function(*args, **kwargs)`` cooperatively beside the users; returns its Greenlet."""
    return Greenlet.spawn(function, *args, **kwargs)


def spawn_later(
    seconds: float, function: Callable[..., Any], *args: Any, **kwargs: Any
) -> Greenlet:
    return Greenlet.spawn_later(seconds, function, *args, **kwargs)


spawn_raw = spawn


def sleep(seconds: float = 0, ref: bool = True) -> None:
    """Pause this greenlet; ``sleep(0)`` lets the others run. Outside a user task it blocks
    this thread, as ``time.sleep`` would."""
    if in_user_greenlet():
        cooperative_wait(asyncio.sleep(max(0.0, seconds)))
    elif hub.active():
        hub.run(asyncio.sleep(max(0.0, seconds)))
    elif seconds > 0:
        original_sleep(seconds)


def idle(priority: int = 0) -> None:
    sleep(0)


def getcurrent() -> Any:
    """The running Greenlet when called from one started by ``spawn``; else the raw greenlet."""
    if in_user_greenlet():
        task = asyncio.current_task()
        if task is not None and task in _by_task:
            return _by_task[task]
    return raw_getcurrent()


def kill(greenlet: Greenlet, exception: type[BaseException] | BaseException = GreenletExit) -> None:
    greenlet.kill(exception, block=False)


def killall(
    greenlets: Iterable[Greenlet],
    exception: type[BaseException] | BaseException = GreenletExit,
    block: bool = True,
    timeout: float | None = None,
) -> None:
    greenlets = list(greenlets)
    for greenlet in greenlets:
        greenlet.kill(exception, block=False)
    if block and can_wait():
        joinall(greenlets, timeout=timeout)


def iwait(
    objects: Iterable[Any], timeout: float | None = None, count: int | None = None
) -> Iterator[Any]:
    """Yield each object (greenlets, events, async results) as it becomes ready."""
    pending = list(objects)
    wanted = len(pending) if count is None else min(count, len(pending))
    deadline = None if timeout is None else _monotonic() + timeout
    yielded = 0
    while yielded < wanted:
        ready = [obj for obj in pending if _is_ready(obj)]
        if ready:
            for obj in ready:
                pending.remove(obj)
                yield obj
                yielded += 1
                if yielded >= wanted:
                    return
            continue
        remaining = None if deadline is None else deadline - _monotonic()
        if remaining is not None and remaining <= 0:
            return
        waiter = new_waiter("gevent.iwait()")
        added = [obj for obj in pending if obj._horde_add_waiter(waiter)]
        try:
            wait_future(waiter, remaining, "gevent.iwait()")
        finally:
            for obj in added:
                obj._horde_remove_waiter(waiter)


def wait(
    objects: Iterable[Any] | None = None, timeout: float | None = None, count: int | None = None
) -> list[Any]:
    """The objects that became ready within ``timeout`` (gevent.wait)."""
    if objects is None:
        raise BlockingOutsideTask("gevent.wait() with no objects (waiting for the whole hub)")
    return list(iwait(objects, timeout, count))


def joinall(
    greenlets: Iterable[Greenlet],
    timeout: float | None = None,
    raise_error: bool = False,
    count: int | None = None,
) -> list[Greenlet]:
    """Wait for the greenlets to finish; returns those that did (gevent.joinall)."""
    greenlets = list(greenlets)
    if all(g.ready() for g in greenlets):
        done = greenlets
    else:
        done = []
        for greenlet in iwait(greenlets, timeout, count):
            done.append(greenlet)
            if raise_error and greenlet.exception is not None:
                raise greenlet.exception
    if raise_error:
        for greenlet in done:
            if greenlet.exception is not None:
                raise greenlet.exception
    return done


def _is_ready(obj: Any) -> bool:
    ready = getattr(obj, "ready", None)
    if ready is not None:
        return bool(ready())
    return bool(obj.is_set())
