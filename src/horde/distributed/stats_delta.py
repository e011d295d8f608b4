"""What a worker sends every second, and how the master adds it up exactly.

A worker sends what its users recorded since its previous report (a delta), then starts again
from zero: counters add, histograms add bucket by bucket, so the master's totals and percentiles
are exactly those of one process that saw every request, and a worker that dies costs at most
the requests of its last interval. Taking and clearing happen in one step of the event loop, so
no request falls between them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from horde.stats import RequestStats

__all__ = ["DeltaTaker", "merge_delta"]


class DeltaTaker:
    """Takes the worker's stats recorded since the last ``take()``, clearing them."""

    def __init__(self, stats: RequestStats) -> None:
        self._stats = stats

    def take(self) -> dict[str, Any] | None:
        """The delta as plain data for msgpack; ``None`` when nothing was recorded.

        ``RequestStats.reset`` zeroes rows in place, so clients that hold their rows keep
        recording into the live stats.
        """
        stats = self._stats
        total = stats.total
        if not (total.num_requests or total.num_failures or stats.errors or stats.exceptions):
            return None
        delta = stats.to_dict()
        delta["entries"] = [
            e for e in delta["entries"] if e["histogram"]["count"] or e["num_failures"]
        ]
        stats.reset()
        return delta


def merge_delta(stats: RequestStats, delta: dict[str, Any]) -> tuple[int, int]:
    """Add a worker's delta to the master's ``stats``; returns its (requests, failures)."""
    stats.merge_dict(delta)
    total = delta["total"]
    return int(total["histogram"]["count"]), int(total["num_failures"])
