"""One row of statistics: every request recorded under one (method, name).

``record`` is on the path of every request, so it is written out by hand: it puts the time in a
bucket once (``bucket_index``, the histogram's own) and updates this row's histogram and the
aggregated row's in one call, with no clock read (the runner ticks once a
second and time-based figures are computed from those ticks). Times are stored as integer
microseconds and reported in milliseconds, as users of Locust expect.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from horde.stats.histogram import Histogram, bucket_index

if TYPE_CHECKING:
    from horde.stats.request_stats import RequestStats

__all__ = ["CURRENT_WINDOW", "StatsEntry"]

CURRENT_WINDOW = 10.0  # seconds covered by "current" rates


class StatsEntry:
    """Counters and a latency histogram for one request name (or the aggregate of all)."""

    __slots__ = (
        "_samples",
        "histogram",
        "last_request_time",
        "method",
        "name",
        "num_failures",
        "stats",
        "total",
        "total_content_length",
    )

    def __init__(
        self,
        method: str,
        name: str,
        total: StatsEntry | None = None,
        stats: RequestStats | None = None,
    ) -> None:
        self.method = method
        self.name = name
        self.total = total
        self.stats = stats
        self.histogram = Histogram()
        self.num_failures = 0
        self.total_content_length = 0
        self.last_request_time: float | None = None
        # (time, num_requests, num_failures) at each runner tick, for "current" rates.
        self._samples: deque[tuple[float, int, int]] = deque(maxlen=int(CURRENT_WINDOW) + 1)

    # The hot path ------------------------------------------------------------------------------
    def record(self, response_time_us: int, response_length: int) -> None:
        """Count one request (failed ones too) in this row and in the aggregated row."""
        v = response_time_us
        index = bucket_index(v)
        self.total_content_length += response_length
        h = self.histogram
        h._counts[index] += 1
        h.count += 1
        h.total += v
        if v < h._min:
            h._min = v
        if v > h.max:
            h.max = v
        total = self.total
        if total is not None:
            total.total_content_length += response_length
            h = total.histogram
            h._counts[index] += 1
            h.count += 1
            h.total += v
            if v < h._min:
                h._min = v
            if v > h.max:
                h.max = v

    def record_failure(self, error: BaseException | str) -> None:
        """Mark the request just recorded as failed, and group its error."""
        self.num_failures += 1
        if self.total is not None:
            self.total.num_failures += 1
        if self.stats is not None:
            self.stats.record_error(self.method, self.name, error)

    # Reading -------------------------------------------------------------------------------------
    @property
    def num_requests(self) -> int:
        return self.histogram.count

    @property
    def total_response_time(self) -> int:
        """Sum of response times, µs."""
        return self.histogram.total

    @property
    def min_response_time(self) -> int:
        """µs; 0 when nothing was recorded."""
        return self.histogram.min

    @property
    def max_response_time(self) -> int:
        """µs."""
        return self.histogram.max

    @property
    def avg_response_time(self) -> float:
        """ms."""
        return self.histogram.mean / 1000

    @property
    def median_response_time(self) -> float:
        """ms."""
        return self.histogram.percentile(50) / 1000

    def get_response_time_percentile(self, q: float) -> float:
        """ms at quantile ``q`` in 0..1 (Locust's convention: 0.95 is the 95th percentile)."""
        return self.histogram.percentile(q * 100) / 1000

    def get_response_time_percentiles(self, qs: list[float]) -> list[float]:
        return [v / 1000 for v in self.histogram.percentiles([q * 100 for q in qs])]

    @property
    def avg_content_length(self) -> float:
        n = self.num_requests
        return self.total_content_length / n if n else 0.0

    @property
    def fail_ratio(self) -> float:
        n = self.num_requests
        return self.num_failures / n if n else 0.0

    def _elapsed(self) -> float:
        stats = self.stats
        if stats is None or stats.start_time is None:
            return 0.0
        end = stats.end_time if stats.end_time is not None else time.time()
        return max(end - stats.start_time, 1e-9)

    @property
    def total_rps(self) -> float:
        elapsed = self._elapsed()
        return self.num_requests / elapsed if elapsed else 0.0

    @property
    def total_fail_per_sec(self) -> float:
        elapsed = self._elapsed()
        return self.num_failures / elapsed if elapsed else 0.0

    def _current_rate(self, position: int) -> float:
        samples = self._samples
        if len(samples) < 2:
            return self.total_rps if position == 1 else self.total_fail_per_sec
        first, last = samples[0], samples[-1]
        span = last[0] - first[0]
        return (last[position] - first[position]) / span if span > 0 else 0.0

    @property
    def current_rps(self) -> float:
        """Requests per second over the last ~10 s of ticks."""
        return self._current_rate(1)

    @property
    def current_fail_per_sec(self) -> float:
        return self._current_rate(2)

    # Runner and wire -----------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        """Called once a second by the runner (through RequestStats.tick)."""
        samples = self._samples
        count = self.histogram.count
        if samples and samples[-1][1] != count:
            self.last_request_time = now
        samples.append((now, count, self.num_failures))

    def reset(self) -> None:
        """Zero in place: clients keep references to their entries."""
        self.histogram.reset()
        self.num_failures = 0
        self.total_content_length = 0
        self.last_request_time = None
        self._samples.clear()

    def merge(self, other: StatsEntry) -> None:
        """Add ``other``'s requests to this row (exact); not to the aggregate."""
        self.histogram.merge(other.histogram)
        self.num_failures += other.num_failures
        self.total_content_length += other.total_content_length
        if other.last_request_time is not None:
            self.last_request_time = max(self.last_request_time or 0.0, other.last_request_time)

    def merge_dict(self, data: dict[str, Any]) -> None:
        """``merge`` from the wire form, touching only the buckets it lists."""
        self.histogram.merge_wire(data["histogram"])
        self.num_failures += data["num_failures"]
        self.total_content_length += data["total_content_length"]
        last = data.get("last_request_time")
        if last is not None:
            self.last_request_time = max(self.last_request_time or 0.0, last)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "name": self.name,
            "histogram": self.histogram.to_wire(),
            "num_failures": self.num_failures,
            "total_content_length": self.total_content_length,
            "last_request_time": self.last_request_time,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatsEntry:
        entry = cls(data["method"], data["name"])
        entry.histogram = Histogram.from_wire(data["histogram"])
        entry.num_failures = data["num_failures"]
        entry.total_content_length = data["total_content_length"]
        entry.last_request_time = data.get("last_request_time")
        return entry

    def __repr__(self) -> str:
        return f"<StatsEntry {self.method} {self.name} n={self.num_requests} f={self.num_failures}>"
