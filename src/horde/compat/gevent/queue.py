"""gevent.queue: queues for greenlets on horde's loop (not thread-safe, like gevent's).

``get()`` on an empty queue and ``put()`` on a full one wait in a user greenlet; ``Empty`` and
``Full`` are the standard library's, as in gevent.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Iterator
from queue import Empty, Full
from typing import Any

from horde.compat.waiting import new_waiter, wait_future, wake

__all__ = ["Empty", "Full", "JoinableQueue", "LifoQueue", "PriorityQueue", "Queue"]

_monotonic = time.monotonic


class Queue:
    """FIFO queue; ``maxsize`` None or <= 0 means unbounded. Iterating yields items until a
    ``StopIteration`` is put."""

    def __init__(self, maxsize: int | None = None, items: Any = ()) -> None:
        self.maxsize = maxsize if maxsize is not None and maxsize > 0 else None
        self.queue = self._make(items)
        self._getters: deque[Any] = deque()
        self._putters: deque[Any] = deque()

    # Storage, overridden by LifoQueue and PriorityQueue.
    def _make(self, items: Any) -> Any:
        return deque(items)

    def _put(self, item: Any) -> None:
        self.queue.append(item)

    def _get(self) -> Any:
        return self.queue.popleft()

    def _peek(self) -> Any:
        return self.queue[0]

    def qsize(self) -> int:
        return len(self.queue)

    def __len__(self) -> int:
        return len(self.queue)

    def __bool__(self) -> bool:
        return True

    def empty(self) -> bool:
        return not self.queue

    def full(self) -> bool:
        return self.maxsize is not None and len(self.queue) >= self.maxsize

    def _wait(self, waiters: deque[Any], ready: Any, block: bool, timeout: float | None,
              what: str, error: type[Exception]) -> None:  # fmt: skip
        """Wait until ``ready()`` (woken through ``waiters``), or raise ``error``."""
        if ready():
            return
        if not block or (timeout is not None and timeout <= 0):
            raise error()
        deadline = None if timeout is None else _monotonic() + timeout
        while not ready():
            remaining = None if deadline is None else deadline - _monotonic()
            if remaining is not None and remaining <= 0:
                raise error()
            waiter = new_waiter(what)
            waiters.append(waiter)
            if not wait_future(waiter, remaining, what):
                raise error()

    @staticmethod
    def _wake_one(waiters: deque[Any]) -> None:
        while waiters and not wake(waiters.popleft()):
            pass

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self._wait(self._putters, lambda: not self.full(), block, timeout, "Queue.put()", Full)
        self._put(item)
        self._wake_one(self._getters)

    def put_nowait(self, item: Any) -> None:
        self.put(item, block=False)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        self._wait(self._getters, lambda: bool(self.queue), block, timeout, "Queue.get()", Empty)
        item = self._get()
        self._wake_one(self._putters)
        return item

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def peek(self, block: bool = True, timeout: float | None = None) -> Any:
        self._wait(self._getters, lambda: bool(self.queue), block, timeout, "Queue.peek()", Empty)
        item = self._peek()
        self._wake_one(self._getters)  # peeking took no item: the next getter may have it
        return item

    def peek_nowait(self) -> Any:
        return self.peek(block=False)

    def copy(self) -> Queue:
        return type(self)(self.maxsize, list(self.queue))

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        item = self.get()
        if item is StopIteration:
            raise StopIteration
        return item


class JoinableQueue(Queue):
    """A Queue whose ``join()`` waits until every item put has been marked ``task_done()``."""

    def __init__(
        self, maxsize: int | None = None, items: Any = (), unfinished_tasks: int | None = None
    ) -> None:
        super().__init__(maxsize, items)
        self.unfinished_tasks = len(self.queue) if unfinished_tasks is None else unfinished_tasks
        self._joiners: deque[Any] = deque()

    def _put(self, item: Any) -> None:
        super()._put(item)
        self.unfinished_tasks += 1

    def task_done(self) -> None:
        if self.unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self.unfinished_tasks -= 1
        if not self.unfinished_tasks:
            while self._joiners:
                wake(self._joiners.popleft())

    def join(self, timeout: float | None = None) -> bool:
        while self.unfinished_tasks:
            waiter = new_waiter("JoinableQueue.join()")
            self._joiners.append(waiter)
            if not wait_future(waiter, timeout, "JoinableQueue.join()"):
                return False
        return True


class LifoQueue(Queue):
    """Last in, first out."""

    def _make(self, items: Any) -> Any:
        return list(items)

    def _get(self) -> Any:
        return self.queue.pop()

    def _peek(self) -> Any:
        return self.queue[-1]


class PriorityQueue(Queue):
    """Lowest first (``heapq`` order)."""

    def _make(self, items: Any) -> Any:
        heap = list(items)
        heapq.heapify(heap)
        return heap

    def _put(self, item: Any) -> None:
        heapq.heappush(self.queue, item)

    def _get(self) -> Any:
        return heapq.heappop(self.queue)
