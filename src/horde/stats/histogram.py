"""An HDR-style log-linear histogram of integer latencies (microseconds).

Values below ``LINEAR_LIMIT`` (128) have their own bucket; above, every power of two is split
into ``SUB_BUCKETS`` (64) buckets, so a bucket is at most 1/64 of its lower bound wide and its
midpoint is within 1/128 (0.78%) of any value in it. ``BUCKETS`` (2,048) buckets cover 0 to
2**37 µs (38 hours) in a fixed 16 KB list; merging two histograms adds bucket counts, which is
exact. The bucket index is bit arithmetic only. ``to_wire``/``merge_wire`` are the compact form
that workers send their master every second.

``bucket_index`` is the one place a value is put in a bucket: ``Histogram.record`` and the
request path (``StatsEntry.record``, which fills a row and the aggregate with one index) both
call it, and the accuracy tests measure histograms filled through the request path.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from itertools import compress
from operator import add
from typing import Any

__all__ = [
    "BUCKETS",
    "LINEAR_LIMIT",
    "MAX_INDEX",
    "SUB_BUCKETS",
    "Histogram",
    "bucket_high",
    "bucket_index",
    "bucket_low",
    "bucket_value",
]

SUB_BUCKET_BITS = 6
SUB_BUCKETS = 1 << SUB_BUCKET_BITS  # buckets per power of two above the linear range
SIGNIFICANT_BITS = SUB_BUCKET_BITS + 1  # the top bits of a value that choose its bucket
LINEAR_LIMIT = 1 << SIGNIFICANT_BITS  # values below this have a bucket each (exact)
BUCKETS = 2048
MAX_INDEX = BUCKETS - 1
RUN_GAP = 64  # empty buckets that end a run of the wire form (to_wire)
_EMPTY_MIN = 1 << 62
_PENDING_LIMIT = (1 << 32) - 1  # values in the packed stage: no 32-bit field can overflow
_BIG_ENDIAN = sys.byteorder == "big"
_TYPECODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
if any(array(code).itemsize != width for width, code in _TYPECODES.items()):
    raise ImportError("horde needs 1-, 2-, 4- and 8-byte unsigned C integers (array B H I Q)")


def bucket_index(value: int) -> int:
    """Index of the bucket holding ``value`` (negative values in the first, huge in the last).

    Above the linear range, a value with ``n`` bits is shifted right by ``shift = n - 7``: its
    top seven bits (64..127) pick one of the 64 buckets of that power of two, which start at
    index ``shift * 64 + 64``. On every request: keep it bit arithmetic.
    """
    if value < LINEAR_LIMIT:
        return value if value > 0 else 0
    shift = value.bit_length() - SIGNIFICANT_BITS
    index = (shift << SUB_BUCKET_BITS) + (value >> shift)
    return index if index < MAX_INDEX else MAX_INDEX


def bucket_low(index: int) -> int:
    """The smallest value in a bucket."""
    if index < LINEAR_LIMIT:
        return index
    shift = (index >> SUB_BUCKET_BITS) - 1
    return (index - (shift << SUB_BUCKET_BITS)) << shift


def bucket_high(index: int) -> int:
    """The largest value in a bucket."""
    if index < LINEAR_LIMIT:
        return index
    shift = (index >> SUB_BUCKET_BITS) - 1
    return bucket_low(index) + (1 << shift) - 1


def bucket_value(index: int) -> int:
    """The value reported for a bucket: its midpoint (exact in the linear range)."""
    if index < LINEAR_LIMIT:
        return index
    shift = (index >> SUB_BUCKET_BITS) - 1
    return bucket_low(index) + ((1 << shift) >> 1)


class Histogram:
    """Counts of values per bucket, plus exact count, sum, min and max.

    Values recorded here (``record``, and the request path) go straight into the bucket list.
    Histograms merged from the wire (``merge_wire``: a master adds a delta per name per worker
    per second, 20,000 a second with 2,000 workers) go through a second stage first: their
    runs of fixed-width counts are added into one packed integer, 32 bits per bucket, which is
    one C-level addition per run instead of a Python addition per bucket. Whatever reads the
    buckets (``counts``, percentiles, copies) first flushes that stage into the list, and it is
    flushed before any of its fields could overflow, so the counts stay exact.
    """

    __slots__ = (
        "_counts",
        "_min",
        "_pending",
        "_pending_base",
        "_pending_count",
        "_pending_end",
        "count",
        "max",
        "total",
    )

    def __init__(self) -> None:
        # The request path (StatsEntry.record) increments _counts itself.
        self._counts: list[int] = [0] * BUCKETS
        self.count = 0
        self.total = 0
        self._min = _EMPTY_MIN
        self.max = 0
        self._pending: int = 0  # the packed stage (see the class), buckets base..end
        self._pending_count = 0
        self._pending_base = BUCKETS
        self._pending_end = 0

    @property
    def counts(self) -> list[int]:
        """The count of every bucket (merged histograms included)."""
        if self._pending_count:
            self._flush()
        return self._counts

    @counts.setter
    def counts(self, counts: list[int]) -> None:
        self._clear_pending()
        self._counts = counts

    @property
    def min(self) -> int:
        """Smallest recorded value; 0 when empty."""
        return self._min if self.count else 0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def record(self, value: int) -> None:
        self._counts[bucket_index(value)] += 1
        self.count += 1
        self.total += value
        if value < self._min:
            self._min = value
        if value > self.max:
            self.max = value

    def record_n(self, value: int, n: int) -> None:
        if n <= 0:
            return
        self._counts[bucket_index(value)] += n
        self.count += n
        self.total += value * n
        self._min = min(self._min, value)
        self.max = max(self.max, value)

    def percentile(self, q: float) -> int:
        """The value at percentile ``q`` (0-100), nearest rank; 0 when empty."""
        return self.percentiles([q])[0]

    def percentiles(self, qs: Iterable[float]) -> list[int]:
        """Several percentiles in one pass over the buckets."""
        wanted = list(qs)
        if not self.count:
            return [0] * len(wanted)
        order = sorted(range(len(wanted)), key=lambda i: wanted[i])
        results = [0] * len(wanted)
        low, high = self.min, self.max
        counts = self.counts
        seen = 0
        index = 0
        for i in order:
            q = wanted[i]
            if q <= 0:
                results[i] = low
                continue
            if q >= 100:
                results[i] = high
                continue
            rank = max(1, -(-int(q * self.count * 1000) // 100_000))  # ceil(q/100 * count)
            while seen < rank and index < BUCKETS:
                seen += counts[index]
                index += 1
            value = bucket_value(index - 1)
            results[i] = low if value < low else high if value > high else value
        return results

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s values to this one (exact)."""
        if not other.count:
            return
        counts = self._counts
        for i, n in enumerate(other.counts):
            if n:
                counts[i] += n
        self.count += other.count
        self.total += other.total
        self._min = min(self._min, other._min)
        self.max = max(self.max, other.max)

    def merge_wire(self, data: dict[str, Any]) -> None:
        """Add a ``to_wire()`` form without building a Histogram (see the class: runs of 1, 2 or
        4 bytes per count go through the packed second stage; 8-byte ones, rare, straight in)."""
        count = data["count"]
        if not count:
            return
        width = data["width"]
        if width == 8:
            self._add_runs("Q", data["runs"])
        elif width in (1, 2, 4):
            if self._pending_count + count > _PENDING_LIMIT:
                self._flush()
            self._stage_runs(width, data["runs"])
            self._pending_count += count
        else:
            raise ValueError(f"histogram counts of {width!r} bytes")
        self.count += count
        self.total += data["total"]
        self._min = min(self._min, data["min"])
        self.max = max(self.max, data["max"])

    def _stage_runs(self, width: int, runs: list[list[Any]]) -> None:
        """Add runs into the packed stage: bucket ``i`` is bits 32*(i - base) and up."""
        pending, base, end = self._pending, self._pending_base, self._pending_end
        for start, blob in runs:
            fields = blob if width == 4 else _widen(blob, width)
            stop = start + (len(fields) >> 2)
            if start < 0 or stop > BUCKETS or len(fields) & 3:
                raise ValueError(f"histogram run {start}..{stop} outside 0..{BUCKETS}")
            if start < base:
                pending <<= (base - start) << 5
                base = start
            pending += int.from_bytes(fields, "little") << ((start - base) << 5)
            if stop > end:
                end = stop
        self._pending, self._pending_base, self._pending_end = pending, base, end

    def _flush(self) -> None:
        """Add the packed stage into the bucket list, and empty it."""
        base, end = self._pending_base, self._pending_end
        fields = array("I")
        fields.frombytes(self._pending.to_bytes((end - base) * 4, "little"))
        if _BIG_ENDIAN:
            fields.byteswap()
        counts = self._counts
        counts[base:end] = map(add, counts[base:end], fields)
        self._clear_pending()

    def _clear_pending(self) -> None:
        self._pending = 0
        self._pending_count = 0
        self._pending_base = BUCKETS
        self._pending_end = 0

    def _add_runs(self, typecode: str, runs: list[list[Any]]) -> None:
        """Add runs straight into the bucket list (counts too large for the packed stage)."""
        checked = []
        for start, blob in runs:
            values = array(typecode)
            values.frombytes(blob)
            if _BIG_ENDIAN:
                values.byteswap()
            stop = start + len(values)
            if start < 0 or stop > BUCKETS:
                raise ValueError(f"histogram run {start}..{stop} outside 0..{BUCKETS}")
            checked.append((start, stop, values))
        counts = self._counts
        for start, stop, values in checked:
            counts[start:stop] = map(add, counts[start:stop], values)

    def to_sparse(self) -> dict[str, Any]:
        """The sparse form (non-zero buckets only) that ``merge_sparse`` adds: what a health
        sample carries, small enough for one second's few readings."""
        return {
            "buckets": {i: n for i, n in enumerate(self.counts) if n},
            "count": self.count,
            "total": self.total,
            "min": self.min,
            "max": self.max,
        }

    def merge_sparse(self, data: dict[str, Any]) -> None:
        """Add a sparse form (``{"count", "total", "min", "max", "buckets": {index: n}}``, as
        horde.runner.health sends a second's loop-lag readings) without building a Histogram:
        only its buckets are touched. It goes straight into the buckets, beside the packed
        stage, which holds other merges and is added on its own when read."""
        if not data["count"]:
            return
        counts = self._counts
        for i, n in data["buckets"].items():
            counts[int(i)] += n
        self.count += data["count"]
        self.total += data["total"]
        self._min = min(self._min, data["min"])
        self.max = max(self.max, data["max"])

    def copy(self) -> Histogram:
        clone = Histogram()
        clone._counts = self.counts.copy()
        clone.count, clone.total, clone._min, clone.max = (
            self.count,
            self.total,
            self._min,
            self.max,
        )
        return clone

    def subtract(self, older: Histogram) -> Histogram:
        """Values recorded since ``older`` was copied from this histogram.

        Bucket counts and totals are exact; min and max are bounded by the buckets that changed.
        """
        delta = Histogram()
        counts = delta._counts
        first = last = -1
        for i, (now, then) in enumerate(zip(self.counts, older.counts, strict=True)):
            n = now - then
            if n:
                counts[i] = n
                if first < 0:
                    first = i
                last = i
        delta.count = self.count - older.count
        delta.total = self.total - older.total
        if delta.count > 0 and first >= 0:
            delta._min = max(self._min, bucket_low(first))
            delta.max = min(self.max, bucket_high(last))
        return delta

    def reset(self) -> None:
        counts = self._counts
        for i in range(BUCKETS):
            counts[i] = 0
        self._clear_pending()
        self.count = self.total = self.max = 0
        self._min = _EMPTY_MIN

    def to_wire(self) -> dict[str, Any]:
        """Compact form for the wire: runs ``[first index, counts]`` of the non-empty buckets.

        The counts of a run are little-endian unsigned integers of ``width`` bytes (1 or 2 when
        every count fits, as in a worker's one-second delta; else 4 or 8), so that the receiver
        adds a run with one integer addition (see the class). A run goes on through gaps of
        fewer than ``RUN_GAP`` empty buckets: a latency distribution is one run or a few.
        """
        counts = self.counts
        filled = list(compress(range(BUCKETS), counts))
        runs: list[list[Any]] = []
        width = 1
        if filled:
            top = max(counts[filled[0] : filled[-1] + 1])
            width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4 if top < 1 << 32 else 8
            typecode = _TYPECODES[width]
            start = previous = filled[0]
            for index in [*filled[1:], BUCKETS + RUN_GAP + 1]:
                if index - previous > RUN_GAP:
                    values = array(typecode, counts[start : previous + 1])
                    if _BIG_ENDIAN:
                        values.byteswap()
                    runs.append([start, values.tobytes()])
                    start = index
                previous = index
        return {
            "width": width,
            "runs": runs,
            "count": self.count,
            "total": self.total,
            "min": self.min,
            "max": self.max,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Histogram:
        histogram = cls()
        histogram.merge_wire(data)
        return histogram


def _widen(blob: bytes, width: int) -> bytearray:
    """Little-endian counts of 1 or 2 bytes as 4-byte ones (C-speed strided copies)."""
    wide = bytearray(len(blob) * (4 // width))
    for byte in range(width):
        wide[byte::4] = blob[byte::width]
    return wide
