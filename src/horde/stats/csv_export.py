"""CSV files with Locust's column names, so existing spreadsheets and scripts keep working."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from horde.stats.entries import StatsEntry
from horde.stats.history import PERCENTILES
from horde.stats.request_stats import RequestStats

__all__ = [
    "exceptions_csv",
    "failures_csv",
    "stats_csv",
    "stats_history_csv",
    "write_csv_files",
]

PERCENTILE_COLUMNS = [f"{q * 100:g}%" for q in PERCENTILES]
STATS_COLUMNS = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
]
HISTORY_COLUMNS = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]
FAILURES_COLUMNS = ["Method", "Name", "Error", "Occurrences"]
EXCEPTIONS_COLUMNS = ["Count", "Message", "Traceback", "Nodes"]


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value else "0"


def _stats_row(entry: StatsEntry) -> list[str]:
    empty = entry.num_requests == 0
    percentiles = entry.get_response_time_percentiles(list(PERCENTILES))
    return [
        entry.method,
        entry.name,
        str(entry.num_requests),
        str(entry.num_failures),
        _num(entry.median_response_time),
        _num(entry.avg_response_time),
        _num(entry.min_response_time / 1000),
        _num(entry.max_response_time / 1000),
        _num(entry.avg_content_length),
        _num(entry.total_rps),
        _num(entry.total_fail_per_sec),
        *(("N/A" if empty else _num(v)) for v in percentiles),
    ]


def _render(columns: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def stats_csv(stats: RequestStats) -> str:
    """One row per name, then the Aggregated row."""
    rows = [_stats_row(e) for e in stats.sorted_entries()]
    rows.append(_stats_row(stats.total))
    return _render(STATS_COLUMNS, rows)


def stats_history_csv(stats: RequestStats, full_history: bool = False) -> str:
    """One Aggregated row per second of the run.

    ``full_history`` is accepted for Locust compatibility; per-name rows are not kept over time
    (that would cost memory per name per second), so only Aggregated rows are written.
    """
    rows = []
    for r in stats.history.rows:
        stamp = datetime.fromtimestamp(r["timestamp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        empty = r["requests"] == 0
        rows.append(
            [
                stamp,
                str(r["user_count"]),
                "",
                "Aggregated",
                _num(r["rps"]),
                _num(r["fail_per_sec"]),
                *(("N/A" if empty else _num(v)) for v in r["percentiles"]),
                str(r["total_requests"]),
                str(r["total_failures"]),
                _num(r["total_median_response_time"]),
                _num(r["total_avg_response_time"]),
                _num(r["total_min_response_time"]),
                _num(r["total_max_response_time"]),
                _num(r["total_avg_content_length"]),
            ]
        )
    return _render(HISTORY_COLUMNS, rows)


def failures_csv(stats: RequestStats) -> str:
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)
    return _render(
        FAILURES_COLUMNS, [[e.method, e.name, e.error, str(e.occurrences)] for e in errors]
    )


def exceptions_csv(stats: RequestStats) -> str:
    exceptions = sorted(stats.exceptions.values(), key=lambda e: -e.count)
    return _render(
        EXCEPTIONS_COLUMNS, [[str(e.count), e.msg, e.traceback, "local"] for e in exceptions]
    )


def write_csv_files(stats: RequestStats, prefix: str, full_history: bool = False) -> list[Path]:
    """Write PREFIX_stats.csv, _stats_history.csv, _failures.csv and _exceptions.csv."""
    parts: dict[str, Callable[[], str]] = {
        "stats": lambda: stats_csv(stats),
        "stats_history": lambda: stats_history_csv(stats, full_history),
        "failures": lambda: failures_csv(stats),
        "exceptions": lambda: exceptions_csv(stats),
    }
    written = []
    for suffix, render in parts.items():
        path = Path(f"{prefix}_{suffix}.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render())
        written.append(path)
    return written
