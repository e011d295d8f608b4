"""What happens to a response body as its bytes arrive: kept under a cap, counted and dropped, or
handed to the scenario in chunks; decompressed a bounded step at a time.

A load tester runs many users at once, so what one response may hold is multiplied by the
number of users: a body is never held whole unless it fits under the session's cap, and a
compressed body is inflated as it arrives, in steps of at most ``DECODE_STEP`` output bytes,
stopping as soon as the decoded size passes the cap. A 1 MB gzip bomb that would expand to 1 GB
therefore costs one cap's worth of inflating (milliseconds), never a second of the event loop.
"""

from __future__ import annotations

import zlib
from collections import deque

from horde.http.errors import BodyTooLarge, MalformedResponse, with_detail

__all__ = [
    "DECODE_STEP",
    "DEFAULT_MAX_BODY_SIZE",
    "STREAM_HIGH_WATER",
    "BodyMode",
    "Decoder",
    "StreamBuffer",
    "decoder_for",
]

DEFAULT_MAX_BODY_SIZE = 8 * 1024 * 1024
"""The default cap on a kept body, decoded: 8 MiB.

Every user may hold one body at a time, so the cap bounds a test's memory at users x cap: 10
users on a 200 MB download stay near 100 MB instead of 2 GB, and a gzip bomb stops after 8 MiB
of inflating. 8 MiB is several times the largest pages and API answers a load test checks (HTML
pages and JSON answers are rarely above a few MB even uncompressed), so a real page does not hit
it; whoever downloads files should pass ``stream=True`` or ``keep_body=False``, or raise
``max_body_size`` on the user class, and a body over the cap is a recorded failure that says so.
"""

DECODE_STEP = 256 * 1024
"""The most output one call to zlib may produce: each step costs well under a millisecond."""

STREAM_HIGH_WATER = 1024 * 1024
"""Bytes a streamed body may buffer before the connection stops reading until the task reads."""


class BodyMode:
    """What the session does with a body (plain ints: compared on every response)."""

    KEEP = 0  # held, up to the cap (the default)
    DISCARD = 1  # read to the end and counted, never held (``keep_body=False``)
    STREAM = 2  # handed to the task in chunks as it reads them (``stream=True``)


class Decoder:
    """Incremental gzip/deflate decoding in bounded steps."""

    __slots__ = ("_inflate", "_raw_deflate_tried", "encoding")

    def __init__(self, encoding: bytes) -> None:
        self.encoding = encoding
        self._raw_deflate_tried = False
        wbits = 16 + zlib.MAX_WBITS if encoding in (b"gzip", b"x-gzip") else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(wbits)

    def decode(self, data: bytes, limit: int) -> tuple[list[bytes], int]:
        """Decoded pieces of ``data`` and their size, stopping once the size passes ``limit``
        (the caller then fails the body: the rest is never inflated)."""
        pieces: list[bytes] = []
        size = 0
        inflate = self._inflate
        while data:
            try:
                out = inflate.decompress(data, DECODE_STEP)
            except zlib.error as exc:
                if self.encoding == b"deflate" and not self._raw_deflate_tried and not size:
                    # Some servers send raw deflate without the zlib header: try that once.
                    self._raw_deflate_tried = True
                    inflate = self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise MalformedResponse(
                    with_detail(f"cannot decode {self.encoding.decode()} body", exc)
                ) from None
            self._raw_deflate_tried = True
            if out:
                pieces.append(out)
                size += len(out)
                if size > limit:
                    break
            data = inflate.unconsumed_tail
            if inflate.eof:
                break
        return pieces, size

    def step(self, data: bytes) -> tuple[bytes, bytes]:
        """One bounded step for a streamed body: (decoded bytes, input left for the next)."""
        try:
            out = self._inflate.decompress(data, DECODE_STEP)
        except zlib.error as exc:
            if self.encoding == b"deflate" and not self._raw_deflate_tried:
                self._raw_deflate_tried = True
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.step(data)
            raise MalformedResponse(
                with_detail(f"cannot decode {self.encoding.decode()} body", exc)
            ) from None
        self._raw_deflate_tried = True
        return out, b"" if self._inflate.eof else self._inflate.unconsumed_tail

    def finish(self) -> bytes:
        """What the decoder still holds once the body is complete."""
        try:
            return self._inflate.flush()
        except zlib.error:
            return b""


def decoder_for(encoding: bytes | None) -> Decoder | None:
    """A decoder for a Content-Encoding horde asked for, else None (bytes passed as they are)."""
    if encoding is not None and encoding in (b"gzip", b"x-gzip", b"deflate"):
        return Decoder(encoding)
    return None


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"response body larger than the {_size(limit)} limit (max_body_size); pass "
        "stream=True or keep_body=False to read bodies this large without keeping them"
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


class StreamBuffer:
    """Raw body bytes of a streamed response waiting for the task to read them.

    The connection appends; when more than ``STREAM_HIGH_WATER`` bytes wait it pauses reading
    from the socket, and the reader resumes it once it has taken them: a slow reader holds at
    most about a megabyte, whatever the size of the body.
    """

    __slots__ = ("chunks", "size")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0

    def append(self, data: bytes) -> bool:
        """Keep ``data``; True when the buffer is now over its high-water mark."""
        self.chunks.append(data)
        self.size += len(data)
        return self.size > STREAM_HIGH_WATER

    def take(self) -> bytes:
        chunks = self.chunks
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.size = 0
        return data
