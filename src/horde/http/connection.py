"""One keep-alive HTTP/1.1 connection: an asyncio protocol that answers one request at a time.

State is a small explicit enum (NEW, ACTIVE, IDLE, CLOSED) as in httpcore. A request is one
write and one Future resolved from ``data_received``; the read timeout is one timer handle per
request that re-arms itself from the time of the last bytes received, rather than a timer per
chunk or an ``asyncio.wait_for`` task.
"""

from __future__ import annotations

import asyncio
import enum
import socket
import ssl

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

__all__ = ["Connection", "ConnectionState", "open_connection"]


class ConnectionState(enum.Enum):
    NEW = 0
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


class Connection(asyncio.Protocol):
    __slots__ = (
        "_deadline_error",
        "_future",
        "_last_data",
        "_loop",
        "_timer",
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
        self.parser = ResponseParser()
        self.state = ConnectionState.NEW
        self.transport: asyncio.Transport | None = None
        self._future: asyncio.Future[ResponseParser] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_data = 0.0
        self._deadline_error: type[Exception] = ReadTimeout
        self.requests_sent = 0
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
            complete = self.parser.feed(data)
        except Exception as exc:
            self._finish_error(exc)
            self.close()
            return
        if complete:
            self._finish_ok()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = ConnectionState.CLOSED
        if self._future is not None:
            if self.parser.finish_on_close():
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
        parser = self.parser
        parser.reset()
        parser.head_only = head_only
        future = self._future = self._loop.create_future()
        loop = self._loop
        now = loop.time()
        self._last_data = now
        read_at = now + self.read_timeout
        if deadline is not None and deadline < read_at:
            self._deadline_error = TotalTimeout
            self._timer = loop.call_at(deadline, self._on_timer)
        else:
            self._deadline_error = ReadTimeout
            self._timer = loop.call_at(read_at, self._on_timer)
        self.transport.write(data)  # type: ignore[union-attr]
        return future

    def _on_timer(self) -> None:
        if self._future is None:
            return
        if self._deadline_error is ReadTimeout:
            due = self._last_data + self.read_timeout
            if due > self._loop.time() + 0.001:
                self._timer = self._loop.call_at(due, self._on_timer)
                return
            error: Exception = ReadTimeout(
                f"no response data for {self.read_timeout:g} s (read timeout)"
            )
        else:
            error = self._deadline_error("the request took longer than its total timeout")
        self._finish_error(error)
        self.close()

    def _finish_ok(self) -> None:
        future = self._future
        self._future = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.state is not ConnectionState.CLOSED:
            if self.parser.keep_alive:
                self.state = ConnectionState.IDLE
            else:
                self.close()
        if future is not None and not future.done():
            future.set_result(self.parser)

    def _finish_error(self, exc: Exception) -> None:
        future = self._future
        self._future = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if future is not None and not future.done():
            future.set_exception(exc)

    def abandon(self) -> None:
        """The caller gave up on the request in flight (cancelled): drop the connection."""
        self._future = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
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
