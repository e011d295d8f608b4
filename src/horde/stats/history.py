"""The per-second time series of a run, in bounded memory.

Each runner tick adds one row describing the second that just ended (its requests, failures and
latency percentiles, from the histogram delta of that second) and the run so far. When the rows
reach the capacity, neighbouring rows are merged pairwise, so any run, however long, is covered
from start to end in at most ``capacity`` rows; a row's ``seconds`` says how wide it is. Merged
rows keep exact counts and rates; their percentiles become request-weighted means of the two
rows' (exact percentiles of a merged interval would need its histogram, which is not kept).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PERCENTILES", "StatsHistory"]

PERCENTILES: tuple[float, ...] = (0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0)
DEFAULT_CAPACITY = 20_000
# Row fields that merged rows keep the worse of, rather than the later one's.
WORST_OF = ("generator_cpu", "loop_lag", "generator_saturated")


class StatsHistory:
    """Rows of dicts, oldest first. Percentiles are milliseconds, aligned with PERCENTILES."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 2:
            raise ValueError("history capacity must be at least 2")
        self.capacity = capacity
        self.rows: list[dict[str, Any]] = []

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) > self.capacity:
            self._halve()

    def _halve(self) -> None:
        rows = self.rows
        merged = [_merge(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2)]
        if len(rows) % 2:
            merged.append(rows[-1])
        self.rows = merged

    def clear(self) -> None:
        self.rows = []

    def to_list(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def since(self, timestamp: float) -> list[dict[str, Any]]:
        """Rows newer than ``timestamp`` (for cheap polling by the web UI)."""
        return [dict(r) for r in self.rows if r["timestamp"] > timestamp]

    def __len__(self) -> int:
        return len(self.rows)


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    seconds = a["seconds"] + b["seconds"]
    requests = a["requests"] + b["requests"]
    wa = a["requests"] / requests if requests else 0.5
    wb = 1.0 - wa
    merged = dict(b)
    merged.update(
        timestamp=a["timestamp"],
        seconds=seconds,
        requests=requests,
        failures=a["failures"] + b["failures"],
        rps=requests / seconds if seconds else 0.0,
        fail_per_sec=(a["failures"] + b["failures"]) / seconds if seconds else 0.0,
        percentiles=[
            x * wa + y * wb for x, y in zip(a["percentiles"], b["percentiles"], strict=True)
        ],
    )
    for key, i in (("p50", 0), ("p95", 5), ("p99", 7)):
        merged[key] = merged["percentiles"][i]
    merged["percentiles"][-1] = max(a["percentiles"][-1], b["percentiles"][-1])
    # The load generator's own figures (horde.runner.health): the worse of the two seconds.
    for key in WORST_OF:
        if a.get(key) is not None and b.get(key) is not None:
            merged[key] = max(a[key], b[key])
    return merged
