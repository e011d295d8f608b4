"""gevent.event: Event and AsyncResult for user greenlets on horde's loop (not thread-safe,
like gevent's). Waiting needs a user greenlet; setting works anywhere on the loop's thread."""

from __future__ import annotations

from typing import Any

from horde.compat.waiting import new_waiter, wait_future, wake

__all__ = ["AsyncResult", "Event"]


class _Waitable:
    def __init__(self) -> None:
        self._waiters: list[Any] = []

    def _wake_all(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            wake(waiter)

    def _wait(self, timeout: float | None, what: str) -> None:
        waiter = new_waiter(what)
        self._waiters.append(waiter)
        try:
            wait_future(waiter, timeout, what)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _horde_add_waiter(self, waiter: Any) -> bool:
        if self.ready():
            return False
        self._waiters.append(waiter)
        return True

    def _horde_remove_waiter(self, waiter: Any) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)

    def ready(self) -> bool:
        raise NotImplementedError


class Event(_Waitable):
    """A flag greenlets can wait for: ``set()`` wakes every waiter."""

    def __init__(self) -> None:
        super().__init__()
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set

    def ready(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        self._wake_all()

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until set (or ``timeout`` seconds); returns the flag."""
        if not self._flag:
            self._wait(timeout, "Event.wait()")
        return self._flag


class AsyncResult(_Waitable):
    """A value (or an exception) that one greenlet sets and others wait for."""

    _UNSET = object()

    def __init__(self) -> None:
        super().__init__()
        self._value: Any = self._UNSET
        self._exception: BaseException | None = None

    def ready(self) -> bool:
        return self._value is not self._UNSET or self._exception is not None

    def successful(self) -> bool:
        return self._value is not self._UNSET

    @property
    def value(self) -> Any:
        return None if self._value is self._UNSET else self._value

    @property
    def exception(self) -> BaseException | None:
        return self._exception

    def set(self, value: Any = None) -> None:
        self._value = value
        self._wake_all()

    def set_exception(self, exception: BaseException, exc_info: Any = None) -> None:
        self._exception = exception
        self._wake_all()

    def __call__(self, source: Any) -> None:
        """Use as a Greenlet's link: take its value or exception."""
        if source.successful():
            self.set(source.value)
        else:
            self.set_exception(source.exception)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if not self.ready():
            if not block:
                from horde.compat.gevent.timeouts import Timeout

                raise Timeout()
            self._wait(timeout, "AsyncResult.get()")
            if not self.ready():
                from horde.compat.gevent.timeouts import Timeout

                raise Timeout(timeout)
        if self._exception is not None:
            raise self._exception
        return self._value

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def wait(self, timeout: float | None = None) -> Any:
        """Wait until set (or ``timeout`` seconds); returns the value (None if not set)."""
        if not self.ready():
            self._wait(timeout, "AsyncResult.wait()")
        return self.value
