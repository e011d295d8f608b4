"""One keep-alive HTTP/1.1 connection: an asyncio protocol that answers one request at a time.

State is a small explicit enum (NEW, ACTIVE, IDLE, CLOSED) as in httpcore. A request is one
write and one Future resolved from ``data_received``. Timeouts cost almost nothing per request:
a timer handle (create + cancel) costs 2.6 µs on uvloop here, a sixth of the whole per-request
budget, so instead one sweep per event loop checks the requests in flight. It wakes when the
earliest of their timeouts can fall due (not on a fixed beat: with a minute's read timeout, a
beat every 50 ms was twenty wake-ups a second for nothing, and each costs tens of µs of CPU on
a VM), and a request that could time out sooner than that moves it earlier.
"""

from __future__ import annotations

import asyncio
import enum
import math
import socket
import ssl
import time
from typing import TYPE_CHECKING, Protocol

from horde.http.body import STREAM_HIGH_WATER
from horde.http.errors import (
    ConnectError,
    ConnectionRefused,
    ConnectionReset,
    ConnectTimeout,
    DNSError,
    ReadTimeout,
    TLSError,
    TotalTimeout,
    with_detail,
)
from horde.http.protocol import ResponseParser

_NO_CHUNKS: list[bytes] = []

if TYPE_CHECKING:
    from horde.http.request import PreparedRequest
    from horde.http.response import BodyReader

__all__ = [
    "SWEEP_INTERVAL",
    "Connection",
    "ConnectionOwner",
    "ConnectionState",
    "open_connection",
]

SWEEP_INTERVAL = 0.01  # the closest two sweeps may follow each other
# uvloop's clock counts whole milliseconds and is read once per loop turn, so a deadline taken
# from it can be up to a millisecond early: sweeps run this much after a deadline, so that no
# timeout ever fires before its time.
SWEEP_SLACK = 0.002
_perf_ns = time.perf_counter_ns


class _TimeoutSweep:
    """Fails the requests in flight on one loop whose read or total timeout has passed."""

    __slots__ = ("_handle", "active", "loop", "next_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.active: set[Connection] = set()
        self._handle: asyncio.TimerHandle | None = None
        self.next_at = math.inf  # the earliest deadline the next sweep covers (loop time)

    def watch(self, connection: Connection) -> None:
        self.active.add(connection)

    def due_by(self, when: float) -> None:
        """Make sure a sweep runs by ``when`` (send() compares with ``next_at`` first, so a
        request whose timeouts fall after the next sweep costs no call)."""
        if when < self.next_at:
            self._arm(when)

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        # ``next_at`` is the deadline covered; the timer itself runs a little after it.
        self.next_at = when
        at = max(when + SWEEP_SLACK, self.loop.time() + SWEEP_INTERVAL)
        self._handle = self.loop.call_at(at, self._tick)

    def _tick(self) -> None:
        self._handle = None
        self.next_at = math.inf
        now = self.loop.time()
        earliest = math.inf
        for connection in list(self.active):
            due = connection._check_deadline(now)
            if due < earliest:
                earliest = due
        if earliest < math.inf:
            self._arm(earliest)


_sweeps: dict[asyncio.AbstractEventLoop, _TimeoutSweep] = {}

# Parsers of finished responses, reused: an httptools parser costs ~700 B, and thousands of idle
# keep-alive connections need none.
_PARSERS: list[ResponseParser] = []
_POOL_LIMIT = 256  # beyond a burst of this many responses at once, parsers are made anew


def _sweep_for(loop: asyncio.AbstractEventLoop) -> _TimeoutSweep:
    sweep = _sweeps.get(loop)
    if sweep is None or sweep.loop.is_closed():
        for old in [k for k in _sweeps if k.is_closed()]:
            del _sweeps[old]
        sweep = _sweeps[loop] = _TimeoutSweep(loop)
    return sweep


class ConnectionState(enum.Enum):
    NEW = 0
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


class ConnectionOwner(Protocol):
    """Whoever keeps a connection (a session's pool): told at once when it closes, by either
    side, so that a closed connection is never kept (with its transport and TLS state)."""

    def forget(self, connection: Connection) -> None: ...


class Connection(asyncio.Protocol):
    __slots__ = (
        "_deadline",
        "_future",
        "_last_data",
        "_loop",
        "_paused",
        "_sweep",
        "_timeout",
        "_waiter",
        "completed_ns",
        "key",
        "owner",
        "parser",
        "read_timeout",
        "reader",
        "received_any",
        "requests_sent",
        "state",
        "streaming",
        "transport",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self._loop = loop
        self.read_timeout = read_timeout
        # Borrowed from the pool for each response: an idle connection holds no parser.
        self.parser: ResponseParser | None = None
        self.state = ConnectionState.NEW
        self.transport: asyncio.Transport | None = None
        self._future: asyncio.Future[ResponseParser] | None = None
        self._last_data = 0.0
        self._deadline: float | None = None
        self._timeout: float | None = None
        self._sweep = _sweep_for(loop)
        self.requests_sent = 0
        # When the last byte of the response arrived: a response is timed to here, not to when
        # its task gets the loop back, which can be later when many responses land at once.
        self.completed_ns = 0
        self.received_any = False
        self.owner: ConnectionOwner | None = None
        self.key: tuple[str, str, int] | None = None  # the origin it is connected to
        # A streamed body is being read: the response has been handed over, the body follows.
        self.streaming = False
        self.reader: BodyReader | None = None  # the streamed response reading from it
        self._waiter: asyncio.Future[None] | None = None  # the task waiting for body bytes
        self._paused = False

    # asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.state = ConnectionState.IDLE
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or (self._future is None and not self.streaming):
            # Bytes nobody asked for (or after a response): the connection cannot be trusted.
            self.close()
            return
        self.received_any = True
        self._last_data = self._loop.time()
        try:
            complete = parser.feed(data)
        except Exception as exc:
            self._finish_error(exc)
            self.close()
            return
        if complete:
            self._finish_ok()
        elif parser.stream is not None and parser.headers_done:
            self._stream_data(parser)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed()
        parser = self.parser
        if self._future is None and (not self.streaming or parser is None or parser.complete):
            return  # nothing in flight (a streamed body that is all in is only being read)
        if parser is not None and parser.finish_on_close():
            self._finish_ok()
        else:
            self._finish_error(
                ConnectionReset(with_detail("connection closed before a complete response", exc))
            )

    # Requests -------------------------------------------------------------------------------------
    def send(self, request: PreparedRequest) -> asyncio.Future[ResponseParser]:
        """Write one request; the future resolves with the parser holding the response (for a
        streamed body, as soon as the head is in)."""
        self.state = ConnectionState.ACTIVE
        self.requests_sent += 1
        self.received_any = False
        parser = self.parser = _PARSERS.pop() if _PARSERS else ResponseParser()
        parser.reset()
        parser.head_only = request.head_only
        parser.mode = request.mode
        parser.limit = request.limit
        future = self._future = self._loop.create_future()
        now = self._last_data = self._loop.time()
        deadline = self._deadline = request.deadline
        self._timeout = request.timeout
        due = now + self.read_timeout
        if deadline is not None and deadline < due:
            due = deadline
        sweep = self._sweep
        if self not in sweep.active:
            sweep.watch(self)
        if due < sweep.next_at:
            sweep.due_by(due)
        self.transport.write(request.raw)  # type: ignore[union-attr]
        return future

    def _check_deadline(self, now: float) -> float:
        """Called by the sweep: fail the request in flight if it is overdue; else the loop time
        at which it could next be (infinity when nothing is in flight)."""
        parser = self.parser
        if self._future is None and (not self.streaming or parser is None or parser.complete):
            # Nothing in flight (a streamed body that is all in waits only for its task).
            self._sweep.active.discard(self)
            return math.inf
        error: Exception
        # While a streamed body waits for its task to read, the server is not the one late.
        read_due = (now if self._paused else self._last_data) + self.read_timeout
        if self._deadline is not None and now >= self._deadline:
            error = TotalTimeout(
                f"the request took longer than its total timeout of {self._timeout:g} s"
                if self._timeout
                else "the request took longer than its total timeout"
            )
        elif now >= read_due:
            error = ReadTimeout(f"no response data for {self.read_timeout:g} s (read timeout)")
        else:
            return read_due if self._deadline is None else min(read_due, self._deadline)
        self._finish_error(error)
        self.close()
        return math.inf

    def _finish_ok(self) -> None:
        self.completed_ns = _perf_ns()
        future = self._future
        self._future = None
        if self.state is not ConnectionState.CLOSED:
            if self.parser.keep_alive:  # type: ignore[union-attr]
                self.state = ConnectionState.IDLE
            else:
                self.close()
        if future is not None and not future.done():
            future.set_result(self.parser)  # type: ignore[arg-type]
        if self.streaming:
            self._sweep.active.discard(self)
            self._wake()

    def release_parser(self) -> None:
        """Give the parser back once its response has been read (only at a message boundary,
        where it holds no state of this stream)."""
        parser = self.parser
        if parser is not None:
            self.parser = None
            # Only from a stream that may go on: after a response that ends its connection
            # (Connection: close) llhttp refuses any further byte, even on a new connection.
            if (
                parser.complete
                and parser.keep_alive
                and parser.error is None
                and len(_PARSERS) < _POOL_LIMIT
            ):
                parser.body = _NO_CHUNKS  # what recycle() does, inline: once per request
                parser.head = b""
                if parser.decoder is not None or parser.stream is not None:
                    parser.recycle()
                _PARSERS.append(parser)

    def _finish_error(self, exc: Exception) -> None:
        future = self._future
        self._future = None
        parser = self.parser
        self.parser = None  # mid-message: never reused
        self._sweep.active.discard(self)
        if future is not None and not future.done():
            future.set_exception(exc)
        elif self.streaming and parser is not None:
            if parser.error is None:
                parser.error = exc
            self._wake()

    # Streamed bodies ------------------------------------------------------------------------------
    def _stream_data(self, parser: ResponseParser) -> None:
        future = self._future
        if future is not None:
            # The head is in: the request returns now and the task reads the body as it comes.
            self._future = None
            self.streaming = True
            if not future.done():
                future.set_result(parser)
        if parser.stream.size > STREAM_HIGH_WATER and not self._paused:  # type: ignore[union-attr]
            self._paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def wait_for_body(self) -> asyncio.Future[None]:
        """A future that resolves when more of a streamed body (or its end) has arrived; reading
        resumes if it had paused because nobody read."""
        if self._paused and self.state is not ConnectionState.CLOSED:
            self._paused = False
            self._last_data = self._loop.time()
            self.transport.resume_reading()  # type: ignore[union-attr]
        waiter = self._waiter = self._loop.create_future()
        return waiter

    def end_stream(self) -> None:
        """The task is done with a streamed body (read to its end or given up)."""
        self.streaming = False
        self._waiter = None
        if self._paused:
            self._paused = False
            if self.state is not ConnectionState.CLOSED:
                self.transport.resume_reading()  # type: ignore[union-attr]

    # Closing --------------------------------------------------------------------------------------
    def abandon(self) -> None:
        """The caller gave up on the request in flight (cancelled): drop the connection."""
        self._future = None
        self.close()

    def close(self) -> None:
        if self.state is not ConnectionState.CLOSED:
            self._closed()
            if self.transport is not None:
                self.transport.close()

    def _closed(self) -> None:
        """Closed by either side: leave the sweep and the owner's pool now, not at some later
        pass (a server that closes every connection would otherwise leave them piling up)."""
        self.state = ConnectionState.CLOSED
        self._sweep.active.discard(self)
        owner = self.owner
        if owner is not None:
            self.owner = None
            owner.forget(self)

    @property
    def usable(self) -> bool:
        return self.state is ConnectionState.IDLE and not self.transport.is_closing()  # type: ignore[union-attr]


async def open_connection(
    loop: asyncio.AbstractEventLoop,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    connect_timeout: float,
    read_timeout: float,
) -> Connection:
    """Open a connection, mapping every way that can fail to one named error."""
    connection = Connection(loop, read_timeout)
    try:
        async with asyncio.timeout(connect_timeout):
            await loop.create_connection(
                lambda: connection,
                host,
                port,
                ssl=ssl_context,
                server_hostname=host if ssl_context is not None else None,
            )
    except TimeoutError:
        connection.close()
        raise ConnectTimeout(
            f"could not connect to {host}:{port} within {connect_timeout:g} s (connect timeout)"
        ) from None
    except ConnectionRefusedError:
        raise ConnectionRefused(f"connection refused by {host}:{port}") from None
    except socket.gaierror as exc:
        raise DNSError(with_detail(f"cannot resolve host {host!r}", exc.strerror or exc)) from None
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc
        raise TLSError(with_detail(f"TLS handshake with {host}:{port} failed", reason)) from None
    except OSError as exc:
        raise ConnectError(
            with_detail(f"cannot connect to {host}:{port}", exc.strerror or exc)
        ) from None
    return connection
