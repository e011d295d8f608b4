"""HTTP/1.1 bytes: building requests and parsing responses, without any socket.

Kept free of I/O so that it can be tested by feeding raw bytes (truncated, malformed, chunked
split anywhere), as httpcore does. Parsing uses httptools (llhttp) callbacks; the parser collects
raw header pairs and body chunks and builds nothing else on the request path.
"""

from __future__ import annotations

from typing import Any

import httptools

from horde.http.errors import MalformedResponse

__all__ = ["ResponseParser", "build_request"]

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
    """

    __slots__ = (
        "_parser",
        "body",
        "complete",
        "encoding",
        "head_only",
        "headers",
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
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False
        self.headers_done = False
        self.keep_alive = True
        self.encoding: bytes | None = None
        self.set_cookie = False

    # httptools callbacks ----------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        # Two headers change what the client must do; spot them here rather than in a second
        # loop over the headers (only names starting with c or s are looked at twice).
        first = name[0] | 0x20
        if first == 0x63 or first == 0x73:  # c, s
            lower = name.lower()
            if lower == b"content-encoding":
                self.encoding = value.lower()
            elif lower == b"set-cookie":
                self.set_cookie = True

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
            self.reset()
            return
        self.status = status
        self.keep_alive = self._parser.should_keep_alive()
        self.complete = True

    # Driving ----------------------------------------------------------------------------------
    def feed(self, data: bytes) -> bool:
        """Feed bytes; True once a whole response is in."""
        if self.complete:
            return True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.complete = True
        except httptools.HttpParserError as exc:
            if self.complete:  # bytes after a HEAD/204 response confuse llhttp; ignore them
                return True
            raise MalformedResponse(f"malformed HTTP response: {exc}") from None
        if self.complete and (self.head_only or self.status in _NO_BODY_STATUS):
            self._parser = httptools.HttpResponseParser(self)
        return self.complete

    def close_delimited(self) -> bool:
        """True when the body runs until the connection closes (no length, not chunked)."""
        for name, value in self.headers:
            lower = name.lower()
            if lower == b"content-length" or (
                lower == b"transfer-encoding" and b"chunked" in value.lower()
            ):
                return False
        return True

    def finish_on_close(self) -> bool:
        """The connection closed: True when that ends a close-delimited body."""
        if self.headers_done and not self.complete and self.close_delimited():
            self.complete = True
            self.keep_alive = False
        return self.complete

    def new_stream(self) -> None:
        """Forget all parser state (a new connection)."""
        self._parser = httptools.HttpResponseParser(self)
        self.reset()
