"""One keep-alive HTTP/1.1 connection: an asyncio protocol that answers one request at a time.

State is a small explicit enum (NEW, ACTIVE, IDLE, CLOSED) as in httpcore. A request is one
write and one Future resolved from ``data_received``. Timeouts cost nothing per request: a timer
handle (create + cancel) costs 2.6 µs on uvloop here, a sixth of the whole per-request budget,
so instead one sweep per event loop checks the requests in flight every 50 ms. Timeouts
therefore fire up to 50 ms late, which is far below any timeout worth setting.
"""

from __future__ import annotations

import asyncio
import enum
import socket
import ssl
import time

from horde.http.errors import (
    ConnectError,
    ConnectionRefused,
    ConnectionReset,
    ConnectTimeout,
    DNSError,
    ReadTimeout,
    TLSError,
    TotalTimeout,
)
from horde.http.protocol import ResponseParser

__all__ = ["SWEEP_INTERVAL", "Connection", "ConnectionState", "open_connection"]

SWEEP_INTERVAL = 0.05
_perf_ns = time.perf_counter_ns


class _TimeoutSweep:
    """Checks the deadlines of every request in flight on one loop, every SWEEP_INTERVAL."""

    __slots__ = ("_handle", "active", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.active: set[Connection] = set()
        self._handle: asyncio.TimerHandle | None = None

    def watch(self, connection: Connection) -> None:
        self.active.add(connection)
        if self._handle is None:
            self._handle = self.loop.call_later(SWEEP_INTERVAL, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        for connection in list(self.active):
            connection._check_deadline(now)
        self._handle = self.loop.call_later(SWEEP_INTERVAL, self._tick) if self.active else None


_sweeps: dict[asyncio.AbstractEventLoop, _TimeoutSweep] = {}

# Parsers of finished responses, reused: an httptools parser costs ~700 B, and thousands of idle
# keep-alive connections need none.
_PARSERS: list[ResponseParser] = []
_POOL_LIMIT = 256  # beyond a burst of this many responses at once, parsers are made anew
_NO_CHUNKS: list[bytes] = []


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


class Connection(asyncio.Protocol):
    __slots__ = (
        "_active",
        "_deadline",
        "_future",
        "_last_data",
        "_loop",
        "completed_ns",
        "parser",
        "read_timeout",
        "received_any",
        "requests_sent",
        "state",
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
        self._active = _sweep_for(loop).active
        self.requests_sent = 0
        # When the last byte of the response arrived: a response is timed to here, not to when
        # its task gets the loop back, which can be later when many responses land at once.
        self.completed_ns = 0
        self.received_any = False

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
        future = self._future
        if future is None:
            # Bytes nobody asked for (or after a response): the connection cannot be trusted.
            self.close()
            return
        self.received_any = True
        self._last_data = self._loop.time()
        try:
            complete = self.parser.feed(data)  # type: ignore[union-attr]
        except Exception as exc:
            self._finish_error(exc)
            self.close()
            return
        if complete:
            self._finish_ok()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = ConnectionState.CLOSED
        if self._future is not None:
            if self.parser is not None and self.parser.finish_on_close():
                self._finish_ok()
            else:
                detail = f": {exc}" if exc else ""
                self._finish_error(
                    ConnectionReset(f"connection closed before a complete response{detail}")
                )

    # Requests -------------------------------------------------------------------------------------
    def send(
        self, data: bytes, head_only: bool, deadline: float | None
    ) -> asyncio.Future[ResponseParser]:
        """Write one request; the future resolves with the parser holding the response."""
        self.state = ConnectionState.ACTIVE
        self.requests_sent += 1
        self.received_any = False
        parser = self.parser = _PARSERS.pop() if _PARSERS else ResponseParser()
        parser.reset()
        parser.head_only = head_only
        future = self._future = self._loop.create_future()
        self._last_data = self._loop.time()
        self._deadline = deadline
        if self not in self._active:
            _sweep_for(self._loop).watch(self)
        self.transport.write(data)  # type: ignore[union-attr]
        return future

    def _check_deadline(self, now: float) -> None:
        """Called by the sweep: fail the request in flight if it is overdue."""
        if self._future is None:
            self._active.discard(self)
            return
        error: Exception
        if self._deadline is not None and now >= self._deadline:
            error = TotalTimeout("the request took longer than its total timeout")
        elif now - self._last_data >= self.read_timeout:
            error = ReadTimeout(f"no response data for {self.read_timeout:g} s (read timeout)")
        else:
            return
        self._finish_error(error)
        self.close()

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
            future.set_result(self.parser)

    def release_parser(self) -> None:
        """Give the parser back once its response has been read (only at a message boundary,
        where it holds no state of this stream)."""
        parser = self.parser
        if parser is not None:
            self.parser = None
            if parser.complete and len(_PARSERS) < _POOL_LIMIT:
                parser.body = _NO_CHUNKS
                parser.head = b""
                _PARSERS.append(parser)

    def _finish_error(self, exc: Exception) -> None:
        future = self._future
        self._future = None
        self.parser = None  # mid-message: never reused
        self._active.discard(self)
        if future is not None and not future.done():
            future.set_exception(exc)

    def abandon(self) -> None:
        """The caller gave up on the request in flight (cancelled): drop the connection."""
        self._future = None
        self._active.discard(self)
        self.close()

    def close(self) -> None:
        if self.state is not ConnectionState.CLOSED:
            self.state = ConnectionState.CLOSED
            if self.transport is not None:
                self.transport.close()

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
        raise DNSError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc
        raise TLSError(f"TLS handshake with {host}:{port} failed: {reason}") from None
    except OSError as exc:
        raise ConnectError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
    return connection
