"""Hooks that let code outside horde observe and feed a run.

``request`` is the one door every client reports through: horde's own HTTP client records
straight into the run's stats (that is its hot path) and fires this event only when someone
listens; a custom client for another protocol calls ``events.request.fire(...)`` and its requests
land in the same statistics, charts and files as HTTP ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["EventHook", "RequestEvent", "events"]


class EventHook:
    """A list of listeners called in order with keyword arguments."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: list[Callable[..., Any]] = []

    def add_listener(self, listener: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``listener``; returns it, so this works as a decorator."""
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Callable[..., Any]) -> None:
        self._listeners.remove(listener)

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def fire(self, **kwargs: Any) -> None:
        for listener in list(self._listeners):
            listener(**kwargs)


class RequestEvent(EventHook):
    """Fired once per request, by any client. ``stats`` is set by the runner for the current run.

    Locust-compatible keywords: ``request_type`` (e.g. "GET", "WS"), ``name``, ``response_time``
    (milliseconds, float), ``response_length`` (bytes), ``exception`` (None on success).
    """

    __slots__ = ("stats",)

    def __init__(self) -> None:
        super().__init__()
        self.stats: Any = None

    def fire(  # type: ignore[override]
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int = 0,
        exception: BaseException | str | None = None,
        record: bool = True,
        **kwargs: Any,
    ) -> None:
        """Record the request into the run's stats (unless ``record=False``), then tell listeners.

        horde's own clients record directly and pass ``record=False``.
        """
        stats = self.stats
        if record and stats is not None:
            entry = stats.entry(request_type, name)
            entry.record(round(response_time * 1000), response_length)
            if exception is not None:
                entry.record_failure(exception)
        for listener in list(self._listeners):
            listener(
                request_type=request_type,
                name=name,
                response_time=response_time,
                response_length=response_length,
                exception=exception,
                **kwargs,
            )


class Events:
    """The hooks of a run; listeners get ``environment=`` (and ``runner=`` for ``init``)."""

    def __init__(self) -> None:
        self.request = RequestEvent()
        # Fired with ``parser=`` before the command line is parsed: scenarios add their own
        # options (Locust's hook of the same name); values land in ``environment.parsed_options``.
        self.init_command_line_parser = EventHook()
        self.init = EventHook()
        self.test_start = EventHook()
        self.test_stop = EventHook()
        self.spawning_complete = EventHook()
        self.quitting = EventHook()


events = Events()
