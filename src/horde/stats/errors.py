"""Failed requests grouped by cause, and exceptions raised by scenario code grouped by traceback."""

from __future__ import annotations

import re
import traceback
from typing import Any

__all__ = ["ExceptionEntry", "StatsError", "describe_error", "locust_error_text"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def describe_error(error: BaseException | str) -> str:
    """A readable, groupable text for a failure: memory addresses are masked so that the same
    error from different objects lands in one row."""
    if isinstance(error, BaseException):
        text = str(error)
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    else:
        text = str(error)
    return _ADDRESS.sub("0x...", text)


def locust_error_text(error: BaseException | str) -> str:
    """The error as Locust writes it in its failures CSV (``repr`` of the exception; a
    failure's text as the ``CatchResponseError`` Locust wraps it in), addresses masked."""
    text = repr(error) if isinstance(error, BaseException) else f"CatchResponseError({error!r})"
    return _ADDRESS.sub("0x...", text)


class StatsError:
    """One (method, name, error) group of failures, with when it was first and last seen.

    The times are Unix seconds; a master merging workers' groups keeps the earliest first and
    the latest last, so the web UI can tell a failure that stopped from one still happening.
    ``locust_error`` is the same error as Locust's CSV writes it (``locust_error_text``).
    """

    __slots__ = (
        "error",
        "first_seen",
        "last_seen",
        "locust_error",
        "method",
        "name",
        "occurrences",
    )

    def __init__(
        self,
        method: str,
        name: str,
        error: str,
        occurrences: int = 0,
        first_seen: float | None = None,
        last_seen: float | None = None,
        locust_error: str | None = None,
    ) -> None:
        self.method = method
        self.name = name
        self.error = error
        self.occurrences = occurrences
        self.first_seen = first_seen
        self.last_seen = last_seen
        self.locust_error = locust_error if locust_error is not None else error

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.method, self.name, self.error)

    def seen(self, first: float | None, last: float | None) -> None:
        """Widen the first/last seen times to cover ``first`` and ``last``."""
        if first is not None and (self.first_seen is None or first < self.first_seen):
            self.first_seen = first
        if last is not None and (self.last_seen is None or last > self.last_seen):
            self.last_seen = last

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "name": self.name,
            "error": self.error,
            "occurrences": self.occurrences,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "locust_error": self.locust_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatsError:
        return cls(
            data["method"],
            data["name"],
            data["error"],
            data["occurrences"],
            data.get("first_seen"),
            data.get("last_seen"),
            data.get("locust_error"),
        )


class ExceptionEntry:
    """Exceptions from user code with one traceback text, counted.

    ``message`` and ``frames`` are what Locust's exceptions CSV shows: the exception's own
    text, and its stack frames alone (no header, no exception line)."""

    __slots__ = ("count", "frames", "message", "msg", "traceback", "where")

    def __init__(
        self,
        msg: str,
        tb: str,
        where: str = "",
        count: int = 0,
        message: str | None = None,
        frames: str | None = None,
    ) -> None:
        self.msg = msg
        self.traceback = tb
        self.where = where
        self.count = count
        self.message = message if message is not None else msg
        self.frames = frames if frames is not None else tb

    @classmethod
    def from_exception(cls, exc: BaseException, where: str = "") -> ExceptionEntry:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        frames = "".join(traceback.format_tb(exc.__traceback__))
        return cls(
            describe_error(exc),
            _ADDRESS.sub("0x...", tb),
            where,
            message=_ADDRESS.sub("0x...", str(exc)),
            frames=_ADDRESS.sub("0x...", frames),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "msg": self.msg,
            "traceback": self.traceback,
            "where": self.where,
            "message": self.message,
            "frames": self.frames,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExceptionEntry:
        return cls(
            data["msg"],
            data["traceback"],
            data.get("where", ""),
            data["count"],
            data.get("message"),
            data.get("frames"),
        )
