"""What a client records its requests into: the one interface between clients and statistics.

A client (horde's HTTP session, or any other) looks a row up by (method, name) and records one
request into it: one lookup and one call on the path of every request (``RequestStats`` and
its rows are the usual implementation; the open-model runner stands in its own to charge start
delays). ``RequestListener`` is the shape of Locust's request-event listeners, which a client
calls after recording when anyone listens.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Recorder", "RequestListener", "RequestRow"]


class RequestRow(Protocol):
    """One row of statistics (``StatsEntry``): requests of one (method, name)."""

    def record(self, response_time_us: int, response_length: int) -> None:
        """Count one request, failed or not: its time (µs) and response size (bytes)."""
        ...

    def record_failure(self, error: BaseException | str) -> None:
        """Mark the request just recorded as a failure, with its cause."""
        ...


class Recorder(Protocol):
    """Where requests are recorded (``RequestStats``)."""

    def entry(self, method: str, name: str) -> RequestRow:
        """The row for (method, name), created on first use."""
        ...


class RequestListener(Protocol):
    """A listener of Locust's ``request`` event, called with keywords only."""

    def __call__(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | str | None,
        **kwargs: Any,
    ) -> object: ...
