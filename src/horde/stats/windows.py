"""Each second's latency histogram of every request name, kept for comparing runs later.

Whether two runs differ cannot be judged from their totals alone: requests within a run are not
independent draws (a slow second has many slow requests: server state, garbage collection, other
load), so the noise of a run's p95 is only seen by looking at how it varies from second to
second. The runner's tick closes each second here: for every name that had requests, the bucket
counts added since the last tick (exact: histograms subtract exactly) and the failures.

Nothing is added to the request path: at each tick a name's new counts are found by comparing
its cumulative histogram with a copy taken at the previous tick, only over the buckets between
its smallest and largest value. Memory is bounded: past ``capacity`` windows, neighbouring ones
are merged pairwise (exact again), so a run of any length is covered from start to end; and
only the first ``max_names`` names are followed (the aggregate always is).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from horde.stats.histogram import bucket_index

if TYPE_CHECKING:
    from horde.stats.entries import StatsEntry

__all__ = ["AGGREGATE_KEY", "Window", "WindowSeries"]

AGGREGATE_KEY = ("", "Aggregated")
DEFAULT_CAPACITY = 512
DEFAULT_MAX_NAMES = 100

Key = tuple[str, str]


@dataclass(slots=True)
class Window:
    """One interval of the run: for each name, its sparse bucket counts and failures."""

    start: float
    seconds: float
    rows: dict[Key, tuple[array[int], array[int], int]] = field(default_factory=dict)


def _merge_rows(
    a: tuple[array[int], array[int], int], b: tuple[array[int], array[int], int]
) -> tuple[array[int], array[int], int]:
    counts: dict[int, int] = dict(zip(a[0], a[1], strict=True))
    for i, n in zip(b[0], b[1], strict=True):
        counts[i] = counts.get(i, 0) + n
    order = sorted(counts)
    return array("q", order), array("q", (counts[i] for i in order)), a[2] + b[2]


class WindowSeries:
    """The windows of one test, oldest first (``RequestStats.track_windows`` turns it on)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, max_names: int = DEFAULT_MAX_NAMES):
        if capacity < 2:
            raise ValueError("window capacity must be at least 2")
        self.capacity = capacity
        self.max_names = max_names
        self.windows: list[Window] = []
        self.untracked_names = 0
        # key -> (bucket counts at the last tick, requests, failures)
        self._previous: dict[Key, tuple[list[int], int, int]] = {}

    def clear(self) -> None:
        self.windows = []
        self.untracked_names = 0
        self._previous = {}

    def close(
        self, entries: dict[Key, StatsEntry], total: StatsEntry, start: float, end: float
    ) -> None:
        """Close the interval ``start``..``end``: what each name recorded in it."""
        window = Window(start, max(end - start, 1e-9))
        self._add(window, AGGREGATE_KEY, total)
        tracked = len(self._previous) - (AGGREGATE_KEY in self._previous)
        for key, entry in entries.items():
            if key not in self._previous:
                if tracked >= self.max_names:
                    continue
                tracked += 1
            self._add(window, key, entry)
        self.untracked_names = max(0, len(entries) - tracked)
        self.windows.append(window)
        if len(self.windows) > self.capacity:
            self._halve()

    def _add(self, window: Window, key: Key, entry: StatsEntry) -> None:
        histogram = entry.histogram
        count, failures = histogram.count, entry.num_failures
        previous = self._previous.get(key)
        if previous is not None and previous[1] == count and previous[2] == failures:
            return
        counts = histogram.counts
        indices: array[int] = array("q")
        added: array[int] = array("q")
        if count:
            low, high = bucket_index(histogram.min), bucket_index(histogram.max) + 1
            now = counts[low:high]
            then = previous[0][low:high] if previous is not None else [0] * (high - low)
            for i, (n, m) in enumerate(zip(now, then, strict=True)):
                if n != m:
                    indices.append(low + i)
                    added.append(n - m)
        new_failures = failures - (previous[2] if previous is not None else 0)
        self._previous[key] = (counts.copy(), count, failures)
        if indices or new_failures:
            window.rows[key] = (indices, added, new_failures)

    def _halve(self) -> None:
        windows = self.windows
        merged: list[Window] = []
        for i in range(0, len(windows) - 1, 2):
            a, b = windows[i], windows[i + 1]
            rows = dict(a.rows)
            for key, row in b.rows.items():
                rows[key] = _merge_rows(rows[key], row) if key in rows else row
            merged.append(Window(a.start, a.seconds + b.seconds, rows))
        if len(windows) % 2:
            merged.append(windows[-1])
        self.windows = merged

    def to_dict(self) -> dict[str, Any]:
        """A compact JSON form: names listed once, each window's rows by name index as
        ``[index, bucket indices, bucket counts, failures]``."""
        names: dict[Key, int] = {AGGREGATE_KEY: 0}
        windows = []
        for window in self.windows:
            rows = []
            for key, (indices, added, failures) in window.rows.items():
                number = names.setdefault(key, len(names))
                rows.append([number, list(indices), list(added), failures])
            windows.append({"start": window.start, "seconds": window.seconds, "rows": rows})
        return {
            "names": [list(key) for key in names],
            "windows": windows,
            "untracked_names": self.untracked_names,
        }
