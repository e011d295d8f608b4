"""HTTP/1.1 bytes: building requests and parsing responses, without any socket.

Kept free of I/O so that it can be tested by feeding raw bytes (truncated, malformed, chunked
split anywhere), as httpcore does. Parsing uses httptools (llhttp) callbacks; the parser collects
raw header pairs and body chunks and builds nothing else on the request path.
"""

from __future__ import annotations

from typing import Any

import httptools

from horde.http.body import BodyMode, Decoder, StreamBuffer, decoder_for, too_large
from horde.http.errors import MalformedResponse, with_detail

__all__ = ["ResponseParser", "build_request", "parse_head"]

_NO_BODY_STATUS = (204, 304)
_INFINITE = 1 << 62

# How on_body treats the bytes of the response being parsed (chosen when its head is in).
_KEEP = 0  # held in ``body``, counted against ``limit``
_DECODE = 1  # decompressed as it comes, the decoded bytes held and counted against ``limit``
_DISCARD = 2  # counted, not held
_STREAM = 3  # buffered for the task's reads (``stream``)
_DROP = 4  # the body failed (over the cap, undecodable): the rest is ignored
_NO_CHUNKS: list[bytes] = []
_MODE_KEEP = BodyMode.KEEP
_MODE_DISCARD = BodyMode.DISCARD


def build_request(method: bytes, target: bytes, header_lines: bytes, body: bytes | None) -> bytes:
    """One request as bytes, the only place requests are built.

    ``header_lines`` are complete ``Name: value\r\n`` lines; a body adds its Content-Length.
    """
    if body is None:
        return b"%s %s HTTP/1.1\r\n%s\r\n" % (method, target, header_lines)
    return b"%s %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
        method,
        target,
        header_lines,
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

    The body goes where ``mode`` says (``body.BodyMode``): kept, decoded as it comes, under
    ``limit`` decoded bytes; counted and dropped; or buffered in ``stream`` for a task that
    reads it in chunks. ``size`` counts the bytes kept (decoded) or, when dropped or streamed,
    the bytes received. A body over the limit, or one that cannot be decoded, ends the response
    at once with ``error`` set and ``keep_alive`` false: the rest is never read.
    """

    __slots__ = (
        "_buffer",
        "_interim",
        "_parser",
        "_route",
        "body",
        "complete",
        "decoder",
        "encoding",
        "error",
        "head",
        "head_only",
        "headers_done",
        "keep_alive",
        "limit",
        "mode",
        "set_cookie",
        "size",
        "status",
        "stream",
    )

    def __init__(self) -> None:
        self._parser: Any = httptools.HttpResponseParser(self)
        self.head_only = False
        self.mode = BodyMode.KEEP
        self.limit = _INFINITE
        # Set only for a body that failed, is compressed or is streamed; cleared by
        # ``recycle`` (a parser is reused only after a response without an error).
        self.error: Exception | None = None
        self.decoder: Decoder | None = None
        self.stream: StreamBuffer | None = None
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
        self.size = 0
        self._route = _KEEP
        self._buffer = b""
        self._interim = 0

    # httptools callbacks ----------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.headers_done = True
        if 100 <= self.status < 200 and self.status != 101:
            return  # an interim response: its (empty) message completes next
        self._take_head()
        if self.head_only or self.status in _NO_BODY_STATUS:
            # No body follows; llhttp cannot be told about HEAD, so a fresh parser takes over.
            self.keep_alive = self._parser.should_keep_alive()
            self.complete = True

    def on_body(self, body: bytes) -> None:
        if self._route == _KEEP:
            size = self.size = self.size + len(body)
            if size <= self.limit:
                self.body.append(body)
                return
            self._fail(too_large(self.limit))
            return
        self._route_body(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            # An interim response (100 Continue): the real one follows.
            self.headers_done = False
            self._interim += 1
            return
        if self.error is not None:
            return  # the body already failed; the connection closes
        if self._route == _DECODE:
            self._finish_decoding()
        self.status = status
        self.keep_alive = self._parser.should_keep_alive()
        self.complete = True

    # Bodies that are not simply kept ----------------------------------------------------------
    def _route_body(self, body: bytes) -> None:
        route = self._route
        if route == _DECODE:
            try:
                pieces, size = self.decoder.decode(body, self.limit - self.size)  # type: ignore[union-attr]
            except MalformedResponse as exc:
                self._fail(exc)
                return
            self.size += size
            if self.size > self.limit:
                self._fail(too_large(self.limit))
            else:
                self.body += pieces
        elif route == _DISCARD:
            self.size += len(body)
        elif route == _STREAM:
            self.size += len(body)
            self.stream.append(body)  # type: ignore[union-attr]

    def _finish_decoding(self) -> None:
        if self._route != _DECODE:
            return
        tail = self.decoder.finish()  # type: ignore[union-attr]
        if tail:
            self.size += len(tail)
            if self.size > self.limit:
                self._fail(too_large(self.limit))
            else:
                self.body.append(tail)

    def _fail(self, error: Exception) -> None:
        """The body cannot be had: end this response now; the connection must close."""
        self.error = error
        self.body = []
        if self._route <= _DECODE:
            self.size = 0  # nothing kept: the recorded size is that of the content, empty
        self._route = _DROP
        self.keep_alive = False
        self.complete = True

    # Driving ----------------------------------------------------------------------------------
    def feed(self, data: bytes) -> bool:
        """Feed bytes; True once a whole response is in (or its body failed: see ``error``)."""
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
                raise MalformedResponse(with_detail("malformed HTTP response", exc)) from None
        if self.complete and (
            self.head_only or self.status in _NO_BODY_STATUS or self.error is not None
        ):
            self._parser = httptools.HttpResponseParser(self)
        return self.complete

    def _take_head(self) -> None:
        """Keep the raw header block, spot the headers the client acts on, route the body."""
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
        mode = self.mode
        if mode == _MODE_KEEP:
            if self.encoding is not None:
                self.decoder = decoder_for(self.encoding)
                if self.decoder is not None:
                    self._route = _DECODE
        elif mode == _MODE_DISCARD:
            self._route = _DISCARD
        else:
            self._route = _STREAM
            self.stream = StreamBuffer()
            self.decoder = decoder_for(self.encoding)

    def close_delimited(self) -> bool:
        """True when the body runs until the connection closes (no length, not chunked)."""
        lower = self.head.lower()
        return b"\ncontent-length:" not in lower and not (
            b"\ntransfer-encoding:" in lower and b"chunked" in lower
        )

    def finish_on_close(self) -> bool:
        """The connection closed: True when that ends a close-delimited body."""
        if self.headers_done and not self.complete and self.close_delimited():
            self._finish_decoding()
            self.complete = True
            self.keep_alive = False
            # llhttp still waits for the end of the body: a fresh one, so this can be reused.
            self._parser = httptools.HttpResponseParser(self)
        return self.complete

    def recycle(self) -> None:
        """Drop what a finished response left, before the parser serves another stream."""
        self.body = _NO_CHUNKS  # reset() gives it a list of its own
        self.head = b""
        if self.decoder is not None or self.stream is not None:
            self.decoder = None
            self.stream = None

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
