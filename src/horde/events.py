"""Hooks that let code outside horde observe and feed a run.

``request`` is the one door every client reports through: horde's own HTTP client records
straight into the run's stats (that is its hot path) and fires this event only when someone
listens; a custom client for another protocol calls ``events.request.fire(...)`` and its requests
land in the same statistics, charts and files as HTTP ones. The event does not know any run:
each run's environment registers its stats with it (``add_recorder``), as Locust's runner adds a
listener, so the global ``events`` that Locust-style code calls needs no per-run state.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["EventHook", "RecordRequest", "RequestEvent", "events"]

RecordRequest = Callable[[str, str, int, int, BaseException | str | None], None]
"""``record(method, name, response_time_us, response_length, error)``: how a run's stats count a
request (``RequestStats.record``)."""


class _Listeners:
    """A list of listeners, for hooks to call in order with keyword arguments."""

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


class EventHook(_Listeners):
    """A list of listeners called in order with keyword arguments."""

    __slots__ = ()

    def fire(self, **kwargs: Any) -> None:
        for listener in list(self._listeners):
            listener(**kwargs)


class RequestEvent(_Listeners):
    """Fired once per request, by any client; counted by every run that registered a recorder.

    Locust-compatible keywords: ``request_type`` (e.g. "GET", "WS"), ``name``, ``response_time``
    (milliseconds, float), ``response_length`` (bytes), ``exception`` (None on success).

    Recorders are held weakly (a bound method, as long as its object lives): a run whose stats
    are gone stops counting without being removed, so tests that make many environments in one
    process do not pile them up here.
    """

    __slots__ = ("_recorders",)

    def __init__(self) -> None:
        super().__init__()
        self._recorders: list[weakref.WeakMethod[RecordRequest]] = []

    @property
    def listeners(self) -> list[Callable[..., Any]]:
        """The listeners themselves (live), for a client that calls them after recording a
        request itself, without building this event's keywords when nobody listens."""
        return self._listeners

    def add_recorder(self, record: RecordRequest) -> None:
        """Count every request fired from now on with ``record``, a bound method."""
        self._recorders.append(weakref.WeakMethod(record, self._recorders.remove))

    def remove_recorder(self, record: RecordRequest) -> None:
        self._recorders.remove(weakref.WeakMethod(record))

    def fire(
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
        """Count the request in each run's stats (unless ``record=False``), then tell listeners.

        horde's own clients record directly and pass ``record=False``.
        """
        if record:
            response_time_us = round(response_time * 1000)
            for reference in tuple(self._recorders):
                recorder = reference()
                if recorder is not None:
                    recorder(request_type, name, response_time_us, response_length, exception)
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
    """The hooks of a run (``horde.events``, Locust's names), called with keyword arguments.

    Add a listener with ``@events.test_start.add_listener`` (or ``.add_listener(fn)``).

    Attributes:
        request: Every request, from any client: ``request_type``, ``name``,
            ``response_time`` (ms), ``response_length``, ``exception``.
        init_command_line_parser: ``parser=``, before the command line is parsed: add the
            scenario's own options.
        init: Once the environment and runner exist (``runner=`` too).
        test_start: When a test starts (each start from the web UI too).
        test_stop: When a test has stopped.
        spawning_complete: When the users of a ramp have all started (``user_count=``).
        quitting: When horde is about to exit, after the results are written.
    """

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
