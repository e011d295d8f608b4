"""gevent's ``Timeout``: interrupt whatever a user greenlet waits for after some seconds.

When it expires, the task that runs the greenlet is cancelled with the timeout as the
cancellation's message; the cooperative waits (sockets, sleeps, gevent primitives) turn that
cancellation back into the timeout, and ``with Timeout(...)`` does too for any other wait (an
HTTP request of horde's client, for one). Outside a user greenlet a Timeout never fires: nothing
there waits cooperatively.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

from horde.compat.waiting import in_user_greenlet

__all__ = ["Timeout", "with_timeout"]


class Timeout(BaseException):
    """``Timeout(seconds, exception=None)``: raise ``exception`` (or this Timeout itself; with
    ``False``, leave the ``with`` block silently) in this greenlet after ``seconds``."""

    def __init__(
        self,
        seconds: float | None = None,
        exception: Any = None,
        ref: bool = True,
        priority: int = -1,
    ) -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.exception = exception
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._fired = False
        self._delivered = False

    @classmethod
    def start_new(
        cls, timeout: float | Timeout | None = None, exception: Any = None, ref: bool = True
    ) -> Timeout:
        if isinstance(timeout, Timeout):
            if not timeout.pending:
                timeout.start()
            return timeout
        started = cls(timeout, exception)
        started.start()
        return started

    @property
    def pending(self) -> bool:
        return self._handle is not None and not self._fired

    def start(self) -> None:
        if self.pending:
            raise AssertionError("timer is already started")
        if self.seconds is None or not in_user_greenlet():
            return
        self._task = asyncio.current_task()
        if self._task is None:
            return
        self._fired = self._delivered = False
        self._handle = asyncio.get_running_loop().call_later(self.seconds, self._expire)

    def _expire(self) -> None:
        self._fired = True
        if self._task is not None and not self._task.done():
            self._task.cancel(self)

    def _horde_interrupt(self) -> BaseException:
        """Called where the cancellation arrives: undo it, and say what to raise instead."""
        if not self._delivered and self._task is not None:
            self._delivered = True
            self._task.uncancel()
        return self._raised()

    def _raised(self) -> BaseException:
        if self.exception is None or self.exception is False:
            return self
        exception: BaseException | type[BaseException] = self.exception
        if isinstance(exception, type):
            return exception()
        return exception

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def close(self) -> None:
        self.cancel()

    def __enter__(self) -> Timeout:
        if not self.pending:
            self.start()
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self.cancel()
        if value is None or not self._fired:
            return False
        if isinstance(value, asyncio.CancelledError) and value.args and value.args[0] is self:
            # A wait that does not know about timeouts (horde's HTTP client, a plain await_).
            replacement = self._horde_interrupt()
            if self.exception is False:
                return True
            raise replacement from None
        return value is self and self.exception is False

    def __str__(self) -> str:
        if self.seconds is None:
            return ""
        suffix = "" if self.seconds == 1 else "s"
        if self.exception is None or self.exception is False:
            return f"{self.seconds} second{suffix}"
        return f"{self.seconds} second{suffix}: {self.exception}"

    def __repr__(self) -> str:
        return f"<Timeout seconds={self.seconds} exception={self.exception!r}>"


def with_timeout(seconds: float, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` under a Timeout; ``timeout_value=`` is returned instead of
    raising when it expires."""
    has_value = "timeout_value" in kwargs
    timeout_value = kwargs.pop("timeout_value", None)
    timeout = Timeout.start_new(seconds)
    try:
        return function(*args, **kwargs)
    except Timeout as exc:
        if exc is timeout and has_value:
            return timeout_value
        raise
    finally:
        timeout.cancel()
