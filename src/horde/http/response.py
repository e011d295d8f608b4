"""The response a task gets back, with Locust's attributes, built lazily.

Headers, text and cookies are only decoded when the task reads them: most load-test tasks never
look at a response, and that work would be paid on every request. A streamed response
(``stream=True``) has a ``BodyReader`` instead of ``content``, read a chunk at a time.
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from horde.http.errors import CatchResponseError, MalformedResponse, RequestError, status_error
from horde.http.protocol import ResponseParser, parse_head

if TYPE_CHECKING:
    from types import TracebackType

    from horde.http.connection import Connection
    from horde.http.session import HttpSession

__all__ = ["BodyReader", "Headers", "Response"]

_perf_ns = time.perf_counter_ns


class Headers:
    """Case-insensitive, multi-valued view of raw header pairs."""

    __slots__ = ("_index", "_raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._index: dict[str, list[str]] | None = None

    def _lookup(self) -> dict[str, list[str]]:
        if self._index is None:
            index: dict[str, list[str]] = {}
            for name, value in self._raw:
                index.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
            self._index = index
        return self._index

    def __getitem__(self, name: str) -> str:
        values = self._lookup()[name.lower()]
        return ", ".join(values)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._lookup().get(name.lower())
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._lookup().get(name.lower(), ()))

    getlist = get_all

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup()

    def items(self) -> list[tuple[str, str]]:
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self._raw]

    def keys(self) -> list[str]:
        return list(self._lookup())

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"


class Response:
    """One HTTP response (status 0 and ``error`` set when the request failed on the network).

    Attributes:
        status_code: The HTTP status, or 0 when the request failed on the network.
        url: The URL that answered (after redirects).
        content: The body as bytes, decoded from gzip, deflate or brotli.
        elapsed: Seconds from sending the request to the last byte of the answer.
        error: The network error (refused, reset, timeout, TLS...), or None.
        history: The redirect responses that led here, oldest first.
        request_method: The method of the request (``GET``, ``POST``...).
    """

    __slots__ = (
        "_context",
        "_cookies",
        "_headers",
        "_length",
        "_name",
        "_outcome",
        "_raw_headers",
        "_session",
        "_stream",
        "_time_us",
        "content",
        "elapsed",
        "error",
        "head",
        "history",
        "js",
        "request_method",
        "status_code",
        "url",
    )
    # Set only where they apply (unset slots cost nothing on the hot path): ``js`` by a user's
    # rest() (the parsed JSON body), ``_context`` when the task gave the request a context.
    js: Any
    _context: Mapping[str, Any]

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int = 0,
        head: bytes = b"",
        content: bytes = b"",
        elapsed: float = 0.0,
        error: Exception | None = None,
    ) -> None:
        self.request_method = method
        self.url = url
        self.status_code = status_code
        self.head = head
        self._raw_headers: list[tuple[bytes, bytes]] | None = None
        self.content = content
        self.elapsed = elapsed
        self.error = error
        self.history: list[Response] = []
        self._headers: Headers | None = None
        self._cookies: dict[str, str] | None = None
        # Set while a catch_response result waits for its verdict (recorded in __exit__).
        self._session: HttpSession | None = None
        self._name = ""
        self._time_us = 0
        self._length = 0  # the size recorded: decoded bytes kept, or received when not kept
        self._stream: BodyReader | None = None  # a streamed body, still to be read
        self._outcome: Exception | str | bool | None = False  # False: not decided

    # Reading -------------------------------------------------------------------------------------
    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Header pairs as received, parsed from the raw header block on first use."""
        if self._raw_headers is None:
            self._raw_headers = parse_head(self.head)
        return self._raw_headers

    @property
    def headers(self) -> Headers:
        """The headers, case-insensitive: ``response.headers["Content-Type"]``."""
        if self._headers is None:
            self._headers = Headers(self.raw_headers)
        return self._headers

    @property
    def reason(self) -> str:
        """The status's phrase (``Not Found``)."""
        from http import HTTPStatus

        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def encoding(self) -> str:
        """The charset of ``Content-Type``, else UTF-8: how ``text`` decodes the body."""
        content_type = self.headers.get("content-type", "") or ""
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"'")
        return "utf-8"

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return jsonlib.loads(self.content)

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies set by this response (name -> value)."""
        if self._cookies is None:
            jar: dict[str, str] = {}
            for value in self.headers.get_all("set-cookie"):
                parsed: SimpleCookie = SimpleCookie()
                try:
                    parsed.load(value)
                except Exception:
                    continue
                for name, morsel in parsed.items():
                    jar[name] = morsel.value
            self._cookies = jar
        return self._cookies

    @property
    def ok(self) -> bool:
        """True for an answer with a status below 400."""
        return self.error is None and 0 < self.status_code < 400

    def raise_for_status(self) -> None:
        """Raise the request's error, or ``HTTPError`` for a status of 400 or more; in a
        ``catch_response`` block, what the task decided wins (Locust's): nothing after
        ``success()``, ``CatchResponseError`` (or the exception given) after ``failure()``."""
        outcome = self._outcome
        if outcome is None:
            return
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, str):
            raise CatchResponseError(outcome)
        if self.error is not None:
            raise self.error
        if self.status_code >= 400:
            raise status_error(self.status_code, self.reason, self.url)

    # Streamed bodies ------------------------------------------------------------------------------
    async def aiter_content(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body in pieces as they arrive (decoded), for ``async for`` in an async task.

        Pieces are at most ``chunk_size`` bytes when it is given. A response that was not
        streamed yields its content.
        """
        reader = self._stream
        if reader is None:
            for piece in _slices(self.content, chunk_size):
                yield piece
            return
        while True:
            data = await reader.read()
            if not data:
                return
            for piece in _slices(data, chunk_size):
                yield piece

    def iter_content(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in pieces as they arrive, in a blocking-style task (as in ``requests``)."""
        reader = self._stream
        if reader is None:
            yield from _slices(self.content, chunk_size)
            return
        block = reader.block
        if block is None:
            raise RuntimeError(
                "iter_content() waits for the body, which only a blocking-style task can do; "
                "in an async task use 'async for chunk in response.aiter_content()'"
            )
        while True:
            data = block(reader.read())
            if not data:
                return
            yield from _slices(data, chunk_size)

    def close(self) -> None:
        """Done with a streamed body: what was not read is not read (its connection closes),
        and the request is recorded. Nothing to do for other responses."""
        reader = self._stream
        if reader is not None:
            reader.close()

    # catch_response ------------------------------------------------------------------------------
    def success(self) -> None:
        """Count this response as a success (inside ``with ... catch_response=True``)."""
        self._outcome = None

    def failure(self, reason: Exception | str) -> None:
        """Count this response as a failure with ``reason``."""
        self._outcome = reason if reason else "failure() called without a reason"

    def __enter__(self) -> Response:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        session = self._session
        if session is None:
            return
        self._session = None
        if exc is not None and not isinstance(exc, RequestError):
            # The scenario's control flow (StopUser, RescheduleTask...) is not a failure.
            if isinstance(exc, session.flow_exceptions):
                session._record_response(self, self._default_outcome())
            else:
                session._record_response(self, exc)
            return
        outcome = self._outcome
        if isinstance(outcome, bool):  # neither success() nor failure() was called
            outcome = self._default_outcome()
        session._record_response(self, outcome)

    def _default_outcome(self) -> Exception | None:
        if self.error is not None:
            return self.error
        if self.status_code >= 400:
            return status_error(self.status_code, self.reason, self._name)
        return None

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}] {self.request_method} {self.url}>"


def _slices(data: bytes, size: int | None) -> Iterator[bytes]:
    if not size or len(data) <= size:
        if data:
            yield data
        return
    for start in range(0, len(data), size):
        yield data[start : start + size]


class BodyReader:
    """Reads a streamed body for its response, one piece at a time, and ends it once.

    Raw bytes wait in the parser's ``StreamBuffer`` (the connection stops reading past a
    megabyte); a compressed body is inflated here, a bounded step per read. The request is
    recorded when the body ends: read to its end, failed, or closed by the task, timed to that
    moment and sized by the decoded bytes read.
    """

    __slots__ = ("_pending", "block", "connection", "done", "parser", "response", "session",
                 "size", "started_ns")  # fmt: skip

    def __init__(
        self,
        session: HttpSession,
        response: Response,
        connection: Connection,
        parser: ResponseParser,
        started_ns: int,
    ) -> None:
        self.session = session
        self.response = response
        self.connection = connection
        self.parser = parser
        self.started_ns = started_ns
        self.size = 0
        self.done = False
        self._pending = b""  # compressed input not inflated yet
        # Set by the scenario layer when a blocking-style task made the request: waits for one
        # read through the bridge, so that iter_content() can block.
        self.block: Callable[[Awaitable[bytes]], bytes] | None = None
        connection.reader = self

    async def read(self) -> bytes:
        """The next piece of the body (decoded), or ``b""`` once it has ended."""
        parser = self.parser
        stream = parser.stream
        decoder = parser.decoder
        while not self.done:
            if self._pending:
                try:
                    out, self._pending = decoder.step(self._pending)  # type: ignore[union-attr]
                except MalformedResponse as exc:
                    self._end(exc)
                    break
                if out:
                    self.size += len(out)
                    return out
                continue
            if stream is not None and stream.size:
                data = stream.take()
                if decoder is None:
                    self.size += len(data)
                    return data
                self._pending = data
                continue
            if parser.error is not None:
                self._end(parser.error)
                break
            if parser.complete:
                tail = decoder.finish() if decoder is not None else b""
                decoder = None
                if tail:
                    self.size += len(tail)
                    return tail
                self._end(None)
                break
            await self.connection.wait_for_body()
        return b""

    def close(self) -> None:
        """End the body where it is (the task read enough, or stopped)."""
        if not self.done:
            self._end(None)

    def _end(self, error: Exception | None) -> None:
        self.done = True
        connection = self.connection
        parser = self.parser
        connection.end_stream()
        connection.reader = None
        complete = error is None and parser.complete and not parser.stream.size  # type: ignore[union-attr]
        end = connection.completed_ns if complete else _perf_ns()
        response = self.response
        if error is not None:
            response.error = error
        response.elapsed = (end - self.started_ns) / 1e9
        response._time_us = (end - self.started_ns) // 1000
        response._length = self.size
        reusable = complete and parser.keep_alive and connection.parser is parser
        if reusable:
            connection.release_parser()
        elif connection.parser is parser:
            connection.parser = None
        response._stream = None
        self.session._stream_ended(self, connection, reusable)
