"""An HDR-style log-linear histogram of integer latencies (microseconds).

Values below ``LINEAR_LIMIT`` (128) have their own bucket; above, every power of two is split
into ``SUB_BUCKETS`` (64) buckets, so a bucket is at most 1/64 of its lower bound wide and its
midpoint is within 1/128 (0.78%) of any value in it. ``BUCKETS`` (2,048) buckets cover 0 to
2**37 µs (38 hours) in a fixed 16 KB list; merging two histograms adds bucket counts, which is
exact. The bucket index is bit arithmetic only.

``bucket_index`` is the one place a value is put in a bucket: ``Histogram.record`` and the
request path (``StatsEntry.record``, which fills a row and the aggregate with one index) both
call it, and the accuracy tests measure histograms filled through the request path.
"""

from __future__ import annotations

from collections.abc import Iterable
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
_EMPTY_MIN = 1 << 62


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
    """Counts of values per bucket, plus exact count, sum, min and max."""

    __slots__ = ("_min", "count", "counts", "max", "total")

    def __init__(self) -> None:
        self.counts: list[int] = [0] * BUCKETS
        self.count = 0
        self.total = 0
        self._min = _EMPTY_MIN
        self.max = 0

    @property
    def min(self) -> int:
        """Smallest recorded value; 0 when empty."""
        return self._min if self.count else 0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def record(self, value: int) -> None:
        self.counts[bucket_index(value)] += 1
        self.count += 1
        self.total += value
        if value < self._min:
            self._min = value
        if value > self.max:
            self.max = value

    def record_n(self, value: int, n: int) -> None:
        if n <= 0:
            return
        self.counts[bucket_index(value)] += n
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
        counts = self.counts
        for i, n in enumerate(other.counts):
            if n:
                counts[i] += n
        self.count += other.count
        self.total += other.total
        self._min = min(self._min, other._min)
        self.max = max(self.max, other.max)

    def merge_sparse(self, data: dict[str, Any]) -> None:
        """Add a ``to_sparse()`` form without building a Histogram: only its buckets are touched.

        A distributed master merges one of these per name per worker per second.
        """
        if not data["count"]:
            return
        counts = self.counts
        for i, n in data["buckets"].items():
            counts[int(i)] += n
        self.count += data["count"]
        self.total += data["total"]
        self._min = min(self._min, data["min"])
        self.max = max(self.max, data["max"])

    def copy(self) -> Histogram:
        clone = Histogram()
        clone.counts = self.counts.copy()
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
        counts = delta.counts
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
        counts = self.counts
        for i in range(BUCKETS):
            counts[i] = 0
        self.count = self.total = self.max = 0
        self._min = _EMPTY_MIN

    def to_sparse(self) -> dict[str, Any]:
        """Compact form for the wire: only non-zero buckets."""
        return {
            "buckets": {i: n for i, n in enumerate(self.counts) if n},
            "count": self.count,
            "total": self.total,
            "min": self.min,
            "max": self.max,
        }

    @classmethod
    def from_sparse(cls, data: dict[str, Any]) -> Histogram:
        histogram = cls()
        for i, n in data["buckets"].items():
            histogram.counts[int(i)] = n
        histogram.count = data["count"]
        histogram.total = data["total"]
        histogram.max = data["max"]
        histogram._min = data["min"] if data["count"] else _EMPTY_MIN
        return histogram
