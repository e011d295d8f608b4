"""The messages a master and its workers exchange, and their compact encoding (msgpack).

One small frozen dataclass per message type, so a handler receives typed fields instead of
digging in dicts, and a new message is one class here plus one handler, not another branch of
a string ``if/elif``. The encoding is a msgpack map of the fields, tagged with the type name: maps
(rather than positional arrays) let a newer horde decode an older worker's ``Hello`` well enough
to refuse it with a clear message about the version.

``PROTOCOL_VERSION`` numbers the wire format (the messages, their fields and the stats delta
inside a report). A worker says its number in ``Hello`` and the master its own in ``Welcome``;
either side refuses the other in one sentence when they differ. A field an older peer does not
send takes the value it implied (``WIRE_DEFAULTS``), not the constructor's default: an older
worker's ``Hello`` decodes as protocol 1 and is refused as such.

This module knows nothing of sockets or secrets: see ``security`` and ``transport``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgpack

__all__ = [
    "PROTOCOL_VERSION",
    "Bye",
    "Custom",
    "DecodeError",
    "Heartbeat",
    "Hello",
    "Message",
    "Quit",
    "Refused",
    "Report",
    "Spawn",
    "SpawnRate",
    "Stop",
    "StopTest",
    "Welcome",
    "decode",
    "encode",
]

# 1: the first protocol. 2: histograms in stats deltas travel as runs of buckets
# (``Histogram.to_wire``), not as {index: count} maps; Hello and Welcome carry this number.
PROTOCOL_VERSION = 2


class DecodeError(ValueError):
    """Bytes that are not a message of this protocol."""


class Message:
    """Base of every message; ``TYPE`` is the tag written on the wire."""

    __slots__ = ()
    TYPE: ClassVar[str] = ""
    # Fields an older peer does not send, and the value their absence means (see the module).
    WIRE_DEFAULTS: ClassVar[dict[str, Any]] = {}
    # Every message is a dataclass (this says so to the type checker, for dataclasses.fields).
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


_REGISTRY: dict[str, type[Message]] = {}
_FIELD_NAMES: dict[type[Message], tuple[str, ...]] = {}


def _message(cls: type[Message]) -> type[Message]:
    """Register a message class under its ``TYPE`` tag (a decorator)."""
    if not cls.TYPE or cls.TYPE in _REGISTRY:
        raise TypeError(f"message {cls.__name__} needs a unique TYPE")
    _REGISTRY[cls.TYPE] = cls
    # A master decodes thousands of reports a second: look the fields up once, not per message.
    _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return cls


# Worker -> master ----------------------------------------------------------------------------
@_message
@dataclass(frozen=True, slots=True)
class Hello(Message):
    """A worker asks to join: the master checks its version, scenario and user classes."""

    TYPE: ClassVar[str] = "hello"
    WIRE_DEFAULTS: ClassVar[dict[str, Any]] = {"protocol": 1}
    worker_id: str
    host: str
    pid: int
    version: str
    scenario_digest: str
    user_classes: list[str]
    protocol: int = PROTOCOL_VERSION


@_message
@dataclass(frozen=True, slots=True)
class Report(Message):
    """Sent every second, and at once on a change of state; doubles as the worker's heartbeat.

    ``stats`` is what was recorded since the previous report (``None`` when nothing was), so the
    master adds it to its totals; ``final`` marks the last report of a run, sent after the
    worker's users stopped and their in-flight requests were recorded.
    """

    TYPE: ClassVar[str] = "report"
    state: str
    user_count: int
    user_classes_count: dict[str, int]
    cpu_percent: float
    stats: dict[str, Any] | None = None
    final: bool = False
    seq: int = 0
    # Open model only: the run's iteration counters so far, and a delta of the service times.
    open_model: dict[str, Any] | None = None
    # What the worker's ``report_to_master`` listeners added (Locust's event), for the master's
    # ``worker_report`` listeners; None when it has none.
    custom: dict[str, Any] | None = None
    # The worker's own seconds of CPU and event-loop lag since the previous report
    # (``horde.runner.health.HealthSample.to_wire``): the master judges the generator's health.
    health: list[dict[str, Any]] | None = None


@_message
@dataclass(frozen=True, slots=True)
class Bye(Message):
    """The worker is leaving (stopped by its own Ctrl-C or SIGTERM) after its final report."""

    TYPE: ClassVar[str] = "bye"
    reason: str = ""


@_message
@dataclass(frozen=True, slots=True)
class StopTest(Message):
    """Scenario code on the worker raised ``StopTest``: the whole run should end."""

    TYPE: ClassVar[str] = "stop_test"
    reason: str = ""


# Either way ----------------------------------------------------------------------------------
@_message
@dataclass(frozen=True, slots=True)
class Custom(Message):
    """A message of scenario code (Locust's ``runner.send_message(msg_type, data)``), for the
    listener the other side registered with ``register_message``; ``data`` is anything msgpack
    carries (dicts, lists, strings, numbers)."""

    TYPE: ClassVar[str] = "custom"
    msg_type: str
    data: Any = None
    node_id: str = ""


# Master -> worker ----------------------------------------------------------------------------
@_message
@dataclass(frozen=True, slots=True)
class Welcome(Message):
    """The master accepts a worker, and tells it the run's settings that come from the master."""

    TYPE: ClassVar[str] = "welcome"
    WIRE_DEFAULTS: ClassVar[dict[str, Any]] = {"protocol": 1}
    worker_index: int
    settings: dict[str, Any] = field(default_factory=dict)
    protocol: int = PROTOCOL_VERSION


@_message
@dataclass(frozen=True, slots=True)
class Refused(Message):
    """The master will not use this worker; ``reason`` is one sentence for the worker's user."""

    TYPE: ClassVar[str] = "refused"
    reason: str


@_message
@dataclass(frozen=True, slots=True)
class Spawn(Message):
    """Run exactly these users per class, changing ``spawn_rate`` users per second.

    Counts are absolute, so a repeated or re-ordered spawn converges to the same state; the
    master computes them for all workers at once, so the global mix is exact.
    """

    TYPE: ClassVar[str] = "spawn"
    user_classes_count: dict[str, int]
    spawn_rate: float
    run_id: str = ""


@_message
@dataclass(frozen=True, slots=True)
class SpawnRate(Message):
    """Open model: start iterations at ``rate``/s (this worker's share), changing the rate by
    ``ramp``/s (inf: at once), with at most ``max_concurrency`` in flight (None: automatic)."""

    TYPE: ClassVar[str] = "spawn_rate"
    rate: float
    ramp: float
    max_concurrency: int | None = None
    run_id: str = ""


@_message
@dataclass(frozen=True, slots=True)
class Stop(Message):
    """Stop every user, then send the final report of the run. ``hard`` (a second Ctrl-C at the
    master): users stop at their next request, in-flight requests get only the drain grace."""

    TYPE: ClassVar[str] = "stop"
    hard: bool = False


@_message
@dataclass(frozen=True, slots=True)
class Quit(Message):
    """The master is done: stop and exit (with success)."""

    TYPE: ClassVar[str] = "quit"


@_message
@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """The master is alive; a worker that hears nothing from it for a while stops and exits."""

    TYPE: ClassVar[str] = "heartbeat"
    state: str = ""


# Encoding ------------------------------------------------------------------------------------
def encode(message: Message) -> bytes:
    """The message as msgpack: ``[type, {field: value}]``."""
    fields = {name: getattr(message, name) for name in _FIELD_NAMES[type(message)]}
    packed: bytes = msgpack.packb([message.TYPE, fields], use_bin_type=True)
    return packed


def decode(data: bytes) -> Message:
    """The message encoded in ``data``; ``DecodeError`` for anything else.

    Unknown fields are ignored (a newer peer may send more); missing fields without a default
    are an error.
    """
    try:
        kind, fields = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:
        raise DecodeError(f"not a horde message: {exc}") from None
    cls = _REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None or not isinstance(fields, dict):
        raise DecodeError(f"unknown message type {kind!r}")
    if cls.WIRE_DEFAULTS:
        fields = {**cls.WIRE_DEFAULTS, **fields}
    names = _FIELD_NAMES[cls]
    try:
        return cls(**{k: v for k, v in fields.items() if k in names})
    except TypeError as exc:
        raise DecodeError(f"malformed {kind!r} message: {exc}") from None
