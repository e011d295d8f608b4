"""Hooks that let code outside horde observe and feed a run: Locust's events, with its signatures.

``request`` is the one door every client reports through: horde's own HTTP client records
straight into the run's stats (that is its hot path) and calls this event's listeners only when
there are some; a custom client for another protocol calls ``events.request.fire(...)`` and its
requests land in the same statistics, charts and files as HTTP ones. The event does not know any
run: each run's environment registers its stats with it (``add_recorder``), as Locust's runner
adds a listener, so the global ``events`` that Locust-style code calls needs no per-run state.

A listener that raises is logged (Locust's "Uncaught exception in event handler") and counted
(``Events.listener_failures``: the run's exit code says so), and the other listeners still run;
only the exceptions that steer users (``StopUser``, ``RescheduleTask``...) pass through, so a
request listener can end a task as it can under Locust.

Where each event fires (every mode, distributed included): docs/migrating-from-locust.md.
"""

from __future__ import annotations

import logging
import time
import traceback
import weakref
from collections.abc import Callable, Generator, Iterable
from contextlib import contextmanager
from typing import Any

from horde.exceptions import FLOW_CONTROL

__all__ = ["DeprecatedEventHook", "EventHook", "Events", "RecordRequest", "RequestEvent", "events"]

log = logging.getLogger("horde.events")

RecordRequest = Callable[[str, str, int, int, BaseException | str | None], None]
"""``record(method, name, response_time_us, response_length, error)``: how a run's stats count a
request (``RequestStats.record``)."""


class _Failures:
    """How many listeners raised, shared by the hooks of one ``Events``."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


def call_listeners(
    listeners: Iterable[Callable[..., Any]], failures: _Failures | None, kwargs: dict[str, Any]
) -> None:
    """Call each listener with ``kwargs``: Locust's rule for a listener that raises."""
    for listener in list(listeners):
        try:
            listener(**kwargs)
        except FLOW_CONTROL:
            raise
        except Exception:
            if failures is not None:
                failures.count += 1
            log.error("Uncaught exception in event handler: \n%s", traceback.format_exc())


class _Listeners:
    """A list of listeners, for hooks to call in order with keyword arguments."""

    __slots__ = ("_failures", "_listeners")

    def __init__(self, failures: _Failures | None = None) -> None:
        self._listeners: list[Callable[..., Any]] = []
        self._failures = failures

    def add_listener(self, listener: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``listener``; returns it, so this works as a decorator."""
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Callable[..., Any]) -> None:
        self._listeners.remove(listener)

    def __bool__(self) -> bool:
        return bool(self._listeners)


class EventHook(_Listeners):
    """A list of listeners called in order with keyword arguments (Locust's ``EventHook``)."""

    __slots__ = ()

    def fire(self, *, reverse: bool = False, **kwargs: Any) -> None:
        if not self._listeners:
            return
        listeners = reversed(self._listeners) if reverse else self._listeners
        call_listeners(listeners, self._failures, kwargs)

    @contextmanager
    def measure(
        self,
        request_type: str,
        name: str,
        response_length: int = 0,
        context: dict[str, Any] | None = None,
    ) -> Generator[dict[str, Any], None, None]:
        """Time the block and fire this (request) event when it ends: an exception raised in
        the block marks the request failed (Locust's ``EventHook.measure``). Entries of the
        dict it yields may be changed to change what is fired."""
        start_time = time.time()
        started = time.perf_counter()
        request_meta: dict[str, Any] = {
            "request_type": request_type,
            "name": name,
            "response_length": response_length,
            "context": context or {},
            "exception": None,
            "start_time": start_time,
        }
        try:
            yield request_meta
        except Exception as exc:
            request_meta["exception"] = exc
        finally:
            request_meta["response_time"] = (time.perf_counter() - started) * 1000
            self.fire(**request_meta)


class DeprecatedEventHook(EventHook):
    """A hook that warns when a listener is added (Locust's, for renamed events)."""

    __slots__ = ("message",)

    def __init__(self, message: str, failures: _Failures | None = None) -> None:
        super().__init__(failures)
        self.message = message

    def add_listener(self, listener: Callable[..., Any]) -> Callable[..., Any]:
        log.warning(self.message)
        return super().add_listener(listener)


class RequestEvent(EventHook):
    """Fired once per request, by any client; counted by every run that registered a recorder.

    Locust's keywords: ``request_type`` (e.g. "GET", "WS"), ``name``, ``response_time``
    (milliseconds, float), ``response_length`` (bytes), ``exception`` (None on success),
    ``context`` (the user's ``context()`` and the request's own), ``start_time`` (Unix time),
    ``url`` and ``response`` (horde's HTTP client gives both).

    Recorders are held weakly (a bound method, as long as its object lives): a run whose stats
    are gone stops counting without being removed, so tests that make many environments in one
    process do not pile them up here.
    """

    __slots__ = ("_recorders",)

    def __init__(self, failures: _Failures | None = None) -> None:
        super().__init__(failures)
        self._recorders: list[weakref.WeakMethod[RecordRequest]] = []

    @property
    def listeners(self) -> list[Callable[..., Any]]:
        """The listeners themselves (live), for a client that calls them after recording a
        request itself, without building this event's keywords when nobody listens."""
        return self._listeners

    def notify(self, kwargs: dict[str, Any]) -> None:
        """Call the listeners with a request's keywords (the client recorded it already)."""
        call_listeners(self._listeners, self._failures, kwargs)

    def add_recorder(self, record: RecordRequest) -> None:
        """Count every request fired from now on with ``record``, a bound method."""
        self._recorders.append(weakref.WeakMethod(record, self._recorders.remove))

    def remove_recorder(self, record: RecordRequest) -> None:
        self._recorders.remove(weakref.WeakMethod(record))

    def fire(  # type: ignore[override]  # Locust's request keywords, required
        self,
        *,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int = 0,
        exception: BaseException | str | None = None,
        record: bool = True,
        **kwargs: Any,
    ) -> None:
        """Count the request in each run's stats (unless ``record=False``), then tell listeners.

        horde's own clients record directly and pass ``record=False``. A custom client that
        gives no ``context`` gets ``{}``, as listeners written for Locust expect one.
        """
        if record:
            response_time_us = round((response_time or 0.0) * 1000)
            for reference in tuple(self._recorders):
                recorder = reference()
                if recorder is not None:
                    recorder(request_type, name, response_time_us, response_length, exception)
        if self._listeners:
            kwargs.setdefault("context", {})
            kwargs.update(
                request_type=request_type,
                name=name,
                response_time=response_time,
                response_length=response_length,
                exception=exception,
            )
            call_listeners(self._listeners, self._failures, kwargs)


class Events:
    """The hooks of a run (``horde.events``), with Locust's names and keywords, called with
    keyword arguments. Add a listener with ``@events.test_start.add_listener`` (or
    ``.add_listener(fn)``). A listener that raises is logged and counted, as in Locust, and makes
    the exit code non-zero.

    Attributes:
        request: Every request, from any client: ``request_type``, ``name``,
            ``response_time`` (ms), ``response_length``, ``exception``, ``context``,
            ``start_time``, ``url``, ``response``.
        user_error: Scenario code raised: ``user_instance``, ``exception``, ``tb``.
        report_to_master: On a worker, each report: ``client_id``, ``data`` (a dict to add to).
        worker_report: On the master, each worker report: ``client_id``, ``data``.
        worker_connect: On the master, a worker joined: ``client_id``.
        spawning_complete: A ramp reached its target: ``user_count``.
        quitting: The process is about to exit, its results written: ``environment``.
        quit: Last of all, just before the process exits: ``exit_code``.
        init: The environment and runner exist, nothing runs yet: ``environment``,
            ``runner``, ``web_ui``.
        init_command_line_parser: Before the command line is parsed: ``parser``; add the
            scenario's own options (their values land in ``environment.parsed_options``).
        test_start: A test starts (on each node; each start from the web UI too).
        test_stopping: A test is stopping, before its users stop.
        test_stop: The users have stopped and the figures are final.
        reset_stats: The web UI's "reset stats".
        cpu_warning: This process's CPU went above 90%: ``environment``, ``cpu_usage``.
        heartbeat_sent: The master sent a worker a heartbeat: ``client_id``, ``timestamp``.
        heartbeat_received: A worker heard one: ``client_id``, ``timestamp``.
        usage_monitor: Every 10 s: ``environment``, ``cpu_usage``, ``memory_usage`` (RSS bytes).
    """

    def __init__(self) -> None:
        failures = self._failures = _Failures()
        # Every request: request_type, name, response_time, response_length, exception,
        # context, start_time, url, response.
        self.request = RequestEvent(failures)
        # user_instance, exception, tb: scenario code raised (the exception table counts it).
        self.user_error = EventHook(failures)
        # client_id, data (a dict to add to): each worker report, on the worker.
        self.report_to_master = EventHook(failures)
        # client_id, data (what report_to_master added): each worker report, on the master.
        self.worker_report = EventHook(failures)
        # client_id: a worker joined (on the master).
        self.worker_connect = EventHook(failures)
        # user_count: a ramp reached its target (the total over workers, on a master).
        self.spawning_complete = EventHook(failures)
        # environment: the process is about to exit (results written).
        self.quitting = EventHook(failures)
        # exit_code: last of all, just before the process exits.
        self.quit = EventHook(failures)
        # environment, runner, web_ui: the environment and runner are made, nothing runs yet.
        self.init = EventHook(failures)
        # parser: before the command line is parsed; scenarios add options (their values land
        # in environment.parsed_options).
        self.init_command_line_parser = EventHook(failures)
        # environment: a test starts (on each node); test_stopping before users stop, and
        # test_stop once they have and the figures are final.
        self.test_start = EventHook(failures)
        self.test_stopping = EventHook(failures)
        self.test_stop = EventHook(failures)
        # (no keywords): the web UI's "reset stats".
        self.reset_stats = EventHook(failures)
        # environment, cpu_usage: this process's CPU went above 90 %.
        self.cpu_warning = EventHook(failures)
        # client_id, timestamp: the master sent a heartbeat to a worker / a worker heard one.
        self.heartbeat_sent = EventHook(failures)
        self.heartbeat_received = EventHook(failures)
        # environment, cpu_usage, memory_usage (RSS bytes): every 10 s.
        self.usage_monitor = EventHook(failures)

    @property
    def listener_failures(self) -> int:
        """How many times a listener of these hooks raised (the exit code counts them)."""
        return self._failures.count


events = Events()
