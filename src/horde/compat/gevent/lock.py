"""gevent.lock: Semaphore, BoundedSemaphore and RLock for user greenlets on horde's loop.

Like gevent's, they are not thread-safe: they coordinate the greenlets of horde's loop. Taking
one that is free never waits, so it works anywhere (a locustfile often acquires a semaphore at
import time and releases it from an event listener); waiting for one needs a user greenlet.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import Any

from greenlet import getcurrent

from horde.compat.waiting import in_user_greenlet, new_waiter, wait_future, wake

__all__ = ["BoundedSemaphore", "DummySemaphore", "RLock", "Semaphore"]


class Semaphore:
    """A counter of free slots: ``acquire()`` takes one (waiting if none), ``release()`` gives
    one back. ``wait()`` waits for a free slot without taking it."""

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self.counter = value
        self._acquirers: deque[Any] = deque()
        self._watchers: list[Any] = []

    def locked(self) -> bool:
        return self.counter <= 0

    def ready(self) -> bool:
        return self.counter > 0

    def release(self) -> int:
        self.counter += 1
        self._notify()
        return self.counter

    def _notify(self) -> None:
        watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            wake(watcher)
        while self._acquirers and not wake(self._acquirers.popleft()):
            pass  # that one had given up; wake the next

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if self.counter > 0:
            self.counter -= 1
            return True
        if not blocking or (timeout is not None and timeout <= 0):
            return False
        what = f"{type(self).__name__}.acquire()"
        while self.counter <= 0:
            waiter = new_waiter(what)
            self._acquirers.append(waiter)
            if not wait_future(waiter, timeout, what):
                return False
        self.counter -= 1
        return True

    def wait(self, timeout: float | None = None) -> int:
        """Wait until a slot is free (without taking it); returns the free count."""
        if self.counter > 0:
            return self.counter
        what = f"{type(self).__name__}.wait()"
        waiter = new_waiter(what)
        self._watchers.append(waiter)
        wait_future(waiter, timeout, what)
        return self.counter

    def rawlink(self, callback: Any) -> None:
        raise NotImplementedError("Semaphore.rawlink() is not provided by horde")

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    # For gevent.wait()/iwait() on a semaphore.
    def _horde_add_waiter(self, waiter: Any) -> bool:
        if self.counter > 0:
            return False
        self._watchers.append(waiter)
        return True

    def _horde_remove_waiter(self, waiter: Any) -> None:
        if waiter in self._watchers:
            self._watchers.remove(waiter)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} counter={self.counter} waiting={len(self._acquirers)}>"


class BoundedSemaphore(Semaphore):
    """A Semaphore that refuses to be released more often than it was acquired."""

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial_value = value

    def release(self) -> int:
        if self.counter >= self._initial_value:
            raise ValueError("Semaphore released too many times")
        return super().release()


class DummySemaphore:
    """A Semaphore that never waits (gevent's stand-in for an unbounded pool)."""

    def __init__(self, value: int | None = None) -> None:
        self.counter = value

    def locked(self) -> bool:
        return False

    def ready(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        return True

    def wait(self, timeout: float | None = None) -> int:
        return 1

    def __enter__(self) -> DummySemaphore:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        pass


class RLock:
    """A lock its holder may take again; released when released as often as taken."""

    def __init__(self) -> None:
        self._block = Semaphore(1)
        self._owner: Any = None
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        me = _current_holder()
        if self._owner is me:
            self._count += 1
            return True
        if not self._block.acquire(blocking, timeout):
            return False
        self._owner = me
        self._count = 1
        return True

    def release(self) -> None:
        if self._owner is not _current_holder():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if not self._count:
            self._owner = None
            self._block.release()

    def locked(self) -> bool:
        return self._block.locked()

    def __enter__(self) -> RLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()


def _current_holder() -> Any:
    """Who holds a lock: the task a user greenlet runs for (horde reuses greenlets between
    calls, so the greenlet object itself does not identify the holder), else the thread's."""
    if in_user_greenlet():
        task = asyncio.current_task()
        if task is not None:
            return task
    return getcurrent()
