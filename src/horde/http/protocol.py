"""HTTP/1.1 bytes: building requests and parsing responses, without any socket.

Kept free of I/O so that it can be tested by feeding raw bytes (truncated, malformed, chunked
split anywhere), as httpcore does. Parsing uses httptools (llhttp) callbacks; the parser collects
raw header pairs and body chunks and builds nothing else on the request path.
"""

from __future__ import annotations

from typing import Any

import httptools

from horde.http.errors import MalformedResponse

__all__ = ["ResponseParser", "build_request", "parse_head"]

_NO_BODY_STATUS = (204, 304)


def build_request(
    method: bytes, target: bytes, head: bytes, extra: bytes, body: bytes | None
) -> bytes:
    """One request as bytes: ``head`` holds the constant header lines of the connection."""
    if body is None:
        return b"%s %s HTTP/1.1\r\n%s%s\r\n" % (method, target, head, extra)
    return b"%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n%s" % (
        method,
        target,
        head,
        extra,
        len(body),
        body,
    )


class ResponseParser:
    """Parses one response after another from a byte stream.

    After ``feed`` returns True, the fields hold a complete response; ``reset`` prepares for the
    next one. ``head_only`` is set for HEAD requests, whose responses have no body whatever
    their Content-Length says.

    Headers are not collected through per-header callbacks (eight Python calls for a typical
    response, about 2 µs): the raw header block is kept as bytes (``head``) and split into pairs
    only when someone reads them. The two headers the client must act on, Content-Encoding and
    Set-Cookie, are found with one search of the lower-cased block.
    """

    __slots__ = (
        "_buffer",
        "_interim",
        "_parser",
        "body",
        "complete",
        "encoding",
        "head",
        "head_only",
        "headers_done",
        "keep_alive",
        "set_cookie",
        "status",
    )

    def __init__(self) -> None:
        self._parser: Any = httptools.HttpResponseParser(self)
        self.head_only = False
        self.reset()

    def reset(self) -> None:
        self.status = 0
        self.head = b""
        self.body: list[bytes] = []
        self.complete = False
        self.headers_done = False
        self.keep_alive = True
        self.encoding: bytes | None = None
        self.set_cookie = False
        self._buffer = b""
        self._interim = 0

    # httptools callbacks ----------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.headers_done = True
        if self.head_only or self.status in _NO_BODY_STATUS:
            # No body follows; llhttp cannot be told about HEAD, so a fresh parser takes over.
            self.keep_alive = self._parser.should_keep_alive()
            self.complete = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            # An interim response (100 Continue): the real one follows.
            self.headers_done = False
            self._interim += 1
            return
        self.status = status
        self.keep_alive = self._parser.should_keep_alive()
        self.complete = True

    # Driving ----------------------------------------------------------------------------------
    def feed(self, data: bytes) -> bool:
        """Feed bytes; True once a whole response is in."""
        if self.complete:
            return True
        if not self.head:
            self._buffer = self._buffer + data if self._buffer else data
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.complete = True
            self._parser = httptools.HttpResponseParser(self)  # llhttp is done with this stream
        except httptools.HttpParserError as exc:
            if not self.complete:
                raise MalformedResponse(f"malformed HTTP response: {exc}") from None
        if self.headers_done and not self.head:
            self._take_head()
        if self.complete and (self.head_only or self.status in _NO_BODY_STATUS):
            self._parser = httptools.HttpResponseParser(self)
        return self.complete

    def _take_head(self) -> None:
        buffer = self._buffer
        begin = 0
        if self._interim:  # skip the heads of interim responses (100 Continue)
            for _ in range(self._interim):
                begin = buffer.index(b"\r\n\r\n", begin) + 4
        end = buffer.find(b"\r\n\r\n", begin)
        head = self.head = buffer[begin:end] if end >= 0 else buffer[begin:]
        self._buffer = b""
        lower = head.lower()
        if b"\nset-cookie:" in lower:
            self.set_cookie = True
        at = lower.find(b"\ncontent-encoding:")
        if at >= 0:
            line_end = lower.find(b"\r", at + 1)
            self.encoding = lower[at + 18 : line_end if line_end >= 0 else None].strip()

    def close_delimited(self) -> bool:
        """True when the body runs until the connection closes (no length, not chunked)."""
        lower = self.head.lower()
        return b"\ncontent-length:" not in lower and not (
            b"\ntransfer-encoding:" in lower and b"chunked" in lower
        )

    def finish_on_close(self) -> bool:
        """The connection closed: True when that ends a close-delimited body."""
        if self.headers_done and not self.complete and self.close_delimited():
            self.complete = True
            self.keep_alive = False
            # llhttp still waits for the end of the body: a fresh one, so this can be reused.
            self._parser = httptools.HttpResponseParser(self)
        return self.complete

    def new_stream(self) -> None:
        """Forget all parser state (a new connection)."""
        self._parser = httptools.HttpResponseParser(self)
        self.reset()


def parse_head(head: bytes) -> list[tuple[bytes, bytes]]:
    """Header pairs of a raw header block (the status line is skipped)."""
    pairs = []
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            pairs.append((name.strip(), value.strip()))
    return pairs
