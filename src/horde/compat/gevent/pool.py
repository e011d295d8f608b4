"""gevent.pool: Group (a set of greenlets to wait for together) and Pool (a Group with a size
limit: spawning waits for a free slot). Their greenlets are horde's (see greenlets.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from greenlet import GreenletExit

from horde.compat.gevent.greenlets import Greenlet, iwait, joinall
from horde.compat.gevent.lock import DummySemaphore, Semaphore
from horde.compat.waiting import in_user_greenlet

__all__ = ["Group", "Pool"]


class Group:
    """Greenlets spawned together: ``join()`` waits for all, ``kill()`` stops all, and
    ``map``/``imap`` run a function over an iterable in them."""

    greenlet_class = Greenlet

    def __init__(self, *args: Any) -> None:
        self.greenlets: set[Greenlet] = set()
        for greenlet in args[0] if args else ():
            self.add(greenlet)

    def __len__(self) -> int:
        return len(self.greenlets)

    def __contains__(self, item: Greenlet) -> bool:
        return item in self.greenlets

    def __iter__(self) -> Iterator[Greenlet]:
        return iter(list(self.greenlets))

    def add(self, greenlet: Greenlet) -> None:
        self.greenlets.add(greenlet)
        greenlet.link(self._forget)

    def discard(self, greenlet: Greenlet) -> None:
        self.greenlets.discard(greenlet)
        greenlet.unlink(self._forget)

    def _forget(self, greenlet: Greenlet) -> None:
        self.discard(greenlet)

    def start(self, greenlet: Greenlet) -> None:
        self.add(greenlet)
        greenlet.start()

    def spawn(self, *args: Any, **kwargs: Any) -> Greenlet:
        greenlet = self.greenlet_class(*args, **kwargs)
        self.start(greenlet)
        return greenlet

    def join(self, timeout: float | None = None, raise_error: bool = False) -> bool:
        """Wait until every greenlet has finished; False if ``timeout`` came first."""
        greenlets = list(self.greenlets)
        done = joinall(greenlets, timeout=timeout, raise_error=raise_error)
        return len(done) == len(greenlets)

    def kill(
        self,
        exception: type[BaseException] | BaseException = GreenletExit,
        block: bool = True,
        timeout: float | None = None,
    ) -> None:
        greenlets = list(self.greenlets)
        for greenlet in greenlets:
            greenlet.kill(exception, block=False)
        if block and in_user_greenlet():
            joinall(greenlets, timeout=timeout)

    def killone(
        self,
        greenlet: Greenlet,
        exception: type[BaseException] | BaseException = GreenletExit,
        block: bool = True,
        timeout: float | None = None,
    ) -> None:
        if greenlet in self.greenlets:
            greenlet.kill(exception, block=block, timeout=timeout)

    def full(self) -> bool:
        return False

    def wait_available(self, timeout: float | None = None) -> int | None:
        return None

    def apply(
        self, func: Callable[..., Any], args: Iterable[Any] = (), kwds: dict[str, Any] | None = None
    ) -> Any:
        return self.spawn(func, *args, **(kwds or {})).get()

    def apply_async(
        self,
        func: Callable[..., Any],
        args: Iterable[Any] = (),
        kwds: dict[str, Any] | None = None,
        callback: Callable[[Any], Any] | None = None,
    ) -> Greenlet:
        greenlet = self.spawn(func, *args, **(kwds or {}))
        if callback is not None:
            greenlet.link_value(lambda g: callback(g.value))
        return greenlet

    def map(self, func: Callable[..., Any], iterable: Iterable[Any]) -> list[Any]:
        """``[func(x) for x in iterable]``, run concurrently; results in order."""
        return list(self.imap(func, iterable))

    def map_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Any],
        callback: Callable[[Any], Any] | None = None,
    ) -> Greenlet:
        return Greenlet.spawn(self._map_then, func, list(iterable), callback)

    def _map_then(
        self, func: Callable[..., Any], items: list[Any], callback: Callable[[Any], Any] | None
    ) -> list[Any]:
        result = self.map(func, items)
        if callback is not None:
            callback(result)
        return result

    def imap(self, func: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """Results of ``func`` over the iterables, in order, as they come."""
        greenlets = [self.spawn(func, *args) for args in zip(*iterables, strict=False)]
        for greenlet in greenlets:
            yield greenlet.get()

    def imap_unordered(self, func: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """Results of ``func`` over the iterables in the order they finish."""
        greenlets = [self.spawn(func, *args) for args in zip(*iterables, strict=False)]
        for greenlet in iwait(greenlets):
            yield greenlet.get()


class Pool(Group):
    """A Group of at most ``size`` running greenlets: ``spawn()`` waits for a free slot."""

    def __init__(
        self, size: int | None = None, greenlet_class: type[Greenlet] | None = None
    ) -> None:
        if size is not None and size < 0:
            raise ValueError(f"size must not be negative: {size!r}")
        super().__init__()
        self.size = size
        if greenlet_class is not None:
            self.greenlet_class = greenlet_class
        self._semaphore: Semaphore | DummySemaphore = (
            DummySemaphore() if size is None else Semaphore(size)
        )

    def full(self) -> bool:
        return self.free_count() <= 0

    def free_count(self) -> int:
        if self.size is None:
            return 1
        return max(0, self.size - len(self))

    def wait_available(self, timeout: float | None = None) -> int | None:
        return self._semaphore.wait(timeout)

    def add(self, greenlet: Greenlet) -> None:
        self._semaphore.acquire()
        try:
            super().add(greenlet)
        except BaseException:
            self._semaphore.release()
            raise

    def discard(self, greenlet: Greenlet) -> None:
        if greenlet in self.greenlets:
            super().discard(greenlet)
            self._semaphore.release()
