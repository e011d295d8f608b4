"""JSON views of the stats: the results document of a run, and Locust's /stats/requests shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from horde.stats.entries import StatsEntry
from horde.stats.history import PERCENTILES
from horde.stats.request_stats import RequestStats

__all__ = ["entry_to_json", "stats_requests_payload", "stats_to_json", "write_json"]

FORMAT_VERSION = 1


def entry_to_json(entry: StatsEntry) -> dict[str, Any]:
    """A row in milliseconds, with every percentile keyed by its number ("50", "99.9")."""
    percentiles = entry.get_response_time_percentiles(list(PERCENTILES))
    return {
        "method": entry.method,
        "name": entry.name,
        "num_requests": entry.num_requests,
        "num_failures": entry.num_failures,
        "fail_ratio": entry.fail_ratio,
        "min_response_time": entry.min_response_time / 1000,
        "median_response_time": entry.median_response_time,
        "avg_response_time": entry.avg_response_time,
        "max_response_time": entry.max_response_time / 1000,
        "percentiles": {f"{q * 100:g}": v for q, v in zip(PERCENTILES, percentiles, strict=True)},
        "avg_content_length": entry.avg_content_length,
        "total_rps": entry.total_rps,
        "total_fail_per_sec": entry.total_fail_per_sec,
    }


def stats_to_json(stats: RequestStats, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole run: metadata, rows, aggregate, failures, exceptions and the time series.

    Times are milliseconds; rates are per second over the run (``start_time``..``end_time``).
    """
    return {
        "format_version": FORMAT_VERSION,
        "meta": dict(meta or {}),
        "start_time": stats.start_time,
        "end_time": stats.end_time,
        "stats": [entry_to_json(e) for e in stats.sorted_entries()],
        "total": entry_to_json(stats.total),
        "failures": [
            e.to_dict() for e in sorted(stats.errors.values(), key=lambda e: -e.occurrences)
        ],
        "exceptions": [
            e.to_dict() for e in sorted(stats.exceptions.values(), key=lambda e: -e.count)
        ],
        "history": stats.history.to_list(),
    }


def write_json(stats: RequestStats, path: str | Path, meta: dict[str, Any] | None = None) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(stats_to_json(stats, meta), indent=2))


def _locust_row(entry: StatsEntry) -> dict[str, Any]:
    row = {
        "method": entry.method,
        "name": entry.name,
        "safe_name": entry.name,
        "num_requests": entry.num_requests,
        "num_failures": entry.num_failures,
        "avg_response_time": entry.avg_response_time,
        "min_response_time": entry.min_response_time / 1000 if entry.num_requests else None,
        "max_response_time": entry.max_response_time / 1000,
        "current_rps": entry.current_rps,
        "current_fail_per_sec": entry.current_fail_per_sec,
        "median_response_time": entry.median_response_time,
        "ninetieth_response_time": entry.get_response_time_percentile(0.9),
        "ninety_ninth_response_time": entry.get_response_time_percentile(0.99),
        "avg_content_length": entry.avg_content_length,
    }
    for q in PERCENTILES:
        row[f"response_time_percentile_{q}"] = entry.get_response_time_percentile(q)
    return row


def stats_requests_payload(stats: RequestStats, user_count: int, state: str) -> dict[str, Any]:
    """Locust's ``/stats/requests`` document (same keys), for dashboards built for Locust."""
    total = stats.total
    rows = [_locust_row(e) for e in stats.sorted_entries()]
    rows.append(_locust_row(total))
    current = stats.current_histogram()
    return {
        "stats": rows,
        "errors": [
            {**e.to_dict(), "occurrences": e.occurrences}
            for e in sorted(stats.errors.values(), key=lambda e: -e.occurrences)
        ],
        "total_rps": total.current_rps,
        "total_fail_per_sec": total.current_fail_per_sec,
        "fail_ratio": total.fail_ratio,
        "current_response_time_percentiles": {
            f"response_time_percentile_{q}": current.percentile(q * 100) / 1000 for q in (0.5, 0.95)
        },
        "total_avg_response_time": total.avg_response_time,
        "user_count": user_count,
        "state": state,
    }
