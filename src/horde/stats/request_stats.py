"""All statistics of a run: rows per (method, name), the aggregate, failures, exceptions, history.

Clients look their row up once per name and keep it (``entry()``), so reset zeroes rows in place
instead of replacing them. The runner calls ``tick()`` once a second; every figure that depends
on time (current rates, windowed percentiles, the history) is computed from those ticks, which
keeps clock reads off the request path.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from horde.stats.entries import CURRENT_WINDOW, StatsEntry
from horde.stats.errors import ExceptionEntry, StatsError, describe_error, locust_error_text
from horde.stats.histogram import Histogram
from horde.stats.history import PERCENTILES, StatsHistory
from horde.stats.windows import WindowSeries

__all__ = ["AGGREGATED_NAME", "RequestStats"]

AGGREGATED_NAME = "Aggregated"
MAX_MARKERS = 1000


class RequestStats:
    def __init__(self, history_capacity: int | None = None) -> None:
        self.entries: dict[tuple[str, str], StatsEntry] = {}
        self.total = StatsEntry("", AGGREGATED_NAME, total=None, stats=self)
        self.errors: dict[tuple[str, str, str], StatsError] = {}
        self.exceptions: dict[str, ExceptionEntry] = {}
        self.history = StatsHistory(history_capacity) if history_capacity else StatsHistory()
        self.start_time: float = time.time()
        self.end_time: float | None = None
        self._window: deque[tuple[float, Histogram]] = deque(maxlen=int(CURRENT_WINDOW) + 1)
        self._last_tick: tuple[float, Histogram, int] | None = None
        # The test's own record, kept through reset_counts() (a "Reset stats" mid-test): the
        # most users (or iterations in flight) seen at a tick, and moments worth marking on its
        # charts (load changes, resets) as {"timestamp", "kind", "label"}.
        self.peak_user_count = 0
        self.markers: deque[dict[str, Any]] = deque(maxlen=MAX_MARKERS)
        # Each second's histogram per name, for comparing runs (off unless asked for).
        self.windows: WindowSeries | None = None

    def track_windows(self, windows: WindowSeries | None = None) -> None:
        """Keep each second's histogram of every name from the next tick on (see
        ``horde.stats.windows``): what the run history stores to compare runs."""
        self.windows = windows or WindowSeries()

    # Recording ---------------------------------------------------------------------------------
    def entry(self, method: str, name: str) -> StatsEntry:
        """The row for (method, name), created on first use and linked to the aggregate."""
        key = (method, name)
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = StatsEntry(method, name, total=self.total, stats=self)
        return found

    def record(
        self,
        method: str,
        name: str,
        response_time_us: int,
        response_length: int,
        error: BaseException | str | None = None,
    ) -> None:
        entry = self.entry(method, name)
        entry.record(response_time_us, response_length)
        if error is not None:
            entry.record_failure(error)

    def record_error(self, method: str, name: str, error: BaseException | str) -> None:
        text = describe_error(error)
        key = (method, name, text)
        found = self.errors.get(key)
        now = time.time()  # failures only: not on the path of a successful request
        if found is None:
            found = self.errors[key] = StatsError(
                method, name, text, first_seen=now, locust_error=locust_error_text(error)
            )
        found.occurrences += 1
        found.last_seen = now

    def record_exception(self, exc: BaseException, where: str = "") -> None:
        """Count an exception raised by scenario code, grouped by its traceback."""
        fresh = ExceptionEntry.from_exception(exc, where)
        found = self.exceptions.get(fresh.traceback)
        if found is None:
            found = self.exceptions[fresh.traceback] = fresh
        found.count += 1

    # Time ----------------------------------------------------------------------------------------
    def tick(self, now: float | None = None, user_count: int = 0) -> None:
        """Close one second: sample rates, snapshot the window, append a history row."""
        now = time.time() if now is None else now
        if user_count > self.peak_user_count:
            self.peak_user_count = user_count
        for entry in self.entries.values():
            entry.tick(now)
        total = self.total
        total.tick(now)
        snapshot = total.histogram.copy()
        if self._last_tick is None:
            since, previous, previous_failures = self.start_time, None, 0
        else:
            since, previous, previous_failures = self._last_tick
        second = snapshot.subtract(previous) if previous is not None else snapshot.copy()
        seconds = max(now - since, 1e-9)
        percentiles = [v / 1000 for v in second.percentiles([q * 100 for q in PERCENTILES])]
        failures = total.num_failures - previous_failures
        self.history.append(
            {
                "timestamp": now,
                "seconds": seconds,
                "user_count": user_count,
                "requests": second.count,
                "failures": failures,
                "rps": second.count / seconds,
                "fail_per_sec": failures / seconds,
                "percentiles": percentiles,
                "p50": percentiles[0],
                "p95": percentiles[5],
                "p99": percentiles[7],
                "total_requests": total.num_requests,
                "total_failures": total.num_failures,
                "total_median_response_time": total.median_response_time,
                "total_avg_response_time": total.avg_response_time,
                "total_min_response_time": total.min_response_time / 1000,
                "total_max_response_time": total.max_response_time / 1000,
                "total_avg_content_length": total.avg_content_length,
            }
        )
        self._window.append((now, snapshot))
        self._last_tick = (now, snapshot, total.num_failures)
        if self.windows is not None:
            self.windows.close(self.entries, total, since, now)

    def current_histogram(self) -> Histogram:
        """Aggregated latencies of the last ~10 s of ticks (the whole run before the first)."""
        if not self._window:
            return self.total.histogram
        return self.total.histogram.subtract(self._window[0][1])

    def current_percentile(self, q: float) -> float:
        """ms at quantile ``q`` (0..1) over the last ~10 s, all names together."""
        return self.current_histogram().percentile(q * 100) / 1000

    # Whole-run operations ------------------------------------------------------------------
    def sorted_entries(self) -> list[StatsEntry]:
        return sorted(self.entries.values(), key=lambda e: (e.name, e.method))

    def reset(self) -> None:
        """Start a new test: counts, history, markers and peak all from zero, keeping row
        objects (clients hold references to them)."""
        self.reset_counts()
        self.history.clear()
        self.markers.clear()
        self.peak_user_count = 0

    def reset_counts(self) -> None:
        """Count afresh within the same test (the UI's "Reset stats"): rows, failures and
        exceptions from zero, while the history (what the charts draw), the markers and the
        peak load stay, because they describe the test rather than the counting."""
        for entry in self.entries.values():
            entry.reset()
        self.total.reset()
        self.errors.clear()
        self.exceptions.clear()
        self._window.clear()
        self._last_tick = None
        if self.windows is not None:
            self.windows.clear()
        self.start_time = time.time()
        self.end_time = None

    def mark(self, kind: str, label: str, timestamp: float | None = None) -> None:
        """Note a moment for the charts: ``kind`` is "load", "reset" or "stop"."""
        when = time.time() if timestamp is None else timestamp
        self.markers.append({"timestamp": when, "kind": kind, "label": label})

    def merge(self, other: RequestStats) -> None:
        """Add another run's (or a worker's delta) counts to this one, exactly."""
        for (method, name), entry in other.entries.items():
            self.entry(method, name).merge(entry)
        self.total.merge(other.total)
        for key, error in other.errors.items():
            found = self.errors.get(key)
            if found is None:
                found = self.errors[key] = StatsError(*key, locust_error=error.locust_error)
            found.occurrences += error.occurrences
            found.seen(error.first_seen, error.last_seen)
        for traceback, exc in other.exceptions.items():
            found_exc = self.exceptions.get(traceback)
            if found_exc is None:
                found_exc = self.exceptions[traceback] = ExceptionEntry(
                    exc.msg, exc.traceback, exc.where, message=exc.message, frames=exc.frames
                )
            found_exc.count += exc.count

    def to_dict(self) -> dict[str, Any]:
        """Counts, histograms, failures and exceptions (no history): for the wire."""
        return {
            "entries": [e.to_dict() for e in self.entries.values()],
            "total": self.total.to_dict(),
            "errors": [e.to_dict() for e in self.errors.values()],
            "exceptions": [e.to_dict() for e in self.exceptions.values()],
        }

    def snapshot(self) -> RequestStats:
        """A frozen copy of the counts now (no history), to measure a window with ``since``."""
        copy = RequestStats.from_dict(self.to_dict())
        copy.start_time = time.time()
        return copy

    def since(self, snapshot: RequestStats) -> RequestStats:
        """What was recorded after ``snapshot`` was taken: exact counts and histograms.

        The capacity search judges each load step on its own requests this way, while the run's
        stats keep counting the whole run.
        """
        window = RequestStats()
        window.start_time = snapshot.start_time
        window.end_time = time.time()
        for (method, name), entry in self.entries.items():
            _subtract_entry(window.entry(method, name), entry, snapshot.entries.get((method, name)))
        _subtract_entry(window.total, self.total, snapshot.total)
        for key, error in self.errors.items():
            before = snapshot.errors.get(key)
            n = error.occurrences - (before.occurrences if before else 0)
            if n > 0:
                window.errors[key] = StatsError(
                    *key, n, error.first_seen, error.last_seen, error.locust_error
                )
        return window

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestStats:
        stats = cls()
        for item in data["entries"]:
            entry = StatsEntry.from_dict(item)
            stats.entry(entry.method, entry.name).merge(entry)
        stats.total.merge(StatsEntry.from_dict(data["total"]))
        for item in data["errors"]:
            error = StatsError.from_dict(item)
            stats.errors[error.key] = error
        for item in data["exceptions"]:
            exc = ExceptionEntry.from_dict(item)
            stats.exceptions[exc.traceback] = exc
        return stats

    def merge_dict(self, data: dict[str, Any]) -> None:
        """``merge`` from the wire form (a worker's delta), without building a RequestStats."""
        for item in data["entries"]:
            self.entry(item["method"], item["name"]).merge_dict(item)
        self.total.merge_dict(data["total"])
        for item in data["errors"]:
            key = (item["method"], item["name"], item["error"])
            found = self.errors.get(key)
            if found is None:
                found = self.errors[key] = StatsError(*key, locust_error=item.get("locust_error"))
            found.occurrences += item["occurrences"]
            found.seen(item.get("first_seen"), item.get("last_seen"))
        for item in data["exceptions"]:
            found_exc = self.exceptions.get(item["traceback"])
            if found_exc is None:
                found_exc = self.exceptions[item["traceback"]] = ExceptionEntry(
                    item["msg"],
                    item["traceback"],
                    item.get("where", ""),
                    message=item.get("message"),
                    frames=item.get("frames"),
                )
            found_exc.count += item["count"]


def _subtract_entry(into: StatsEntry, now: StatsEntry, before: StatsEntry | None) -> None:
    if before is None:
        into.merge(now)
        return
    into.histogram = now.histogram.subtract(before.histogram)
    into.num_failures = now.num_failures - before.num_failures
    into.total_content_length = now.total_content_length - before.total_content_length
