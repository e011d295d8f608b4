"""CSV files as Locust 2.x writes them, so existing spreadsheets and scripts keep working.

Byte for byte in their header rows, line endings (``\\r\\n``, the ``csv`` module's default that
Locust keeps) and the kind of each value: whole milliseconds for medians and percentiles,
Python's float text for averages, minimums and maximums, ``N/A`` for percentiles of an empty
row, Unix seconds in the history's Timestamp column, UTC times (``2026-01-31T12:00:00Z``) in the
failures' First Seen and Last Seen, and failures' errors as Locust writes them (``repr`` of the
exception: ``HTTPError('404 Client Error: Not Found for url: /missing')``; a failure a task
marked, ``CatchResponseError('text')``). Locust's recorded header rows are the suite's fixtures
(tests/compat/locust_csv/).

One difference: horde keeps no per-name history, so ``--csv-full-history`` adds nothing to the
history file (its Aggregated rows are there).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from horde.stats.entries import StatsEntry
from horde.stats.history import PERCENTILES
from horde.stats.request_stats import RequestStats

__all__ = [
    "EXCEPTIONS_COLUMNS",
    "FAILURES_COLUMNS",
    "HISTORY_COLUMNS",
    "STATS_COLUMNS",
    "exceptions_csv",
    "failures_csv",
    "stats_csv",
    "stats_history_csv",
    "write_csv_files",
]


def _readable(q: float) -> str:
    """Locust's percentile column name: 0.5 -> "50%", 0.999 -> "99.9%"."""
    value = q * 100
    return f"{int(value) if value == int(value) else round(value, 6)}%"


PERCENTILE_COLUMNS = [_readable(q) for q in PERCENTILES]
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
FAILURES_COLUMNS = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
EXCEPTIONS_COLUMNS = ["Count", "Message", "Traceback", "Nodes"]


def _ms(value: float) -> int:
    """A median or percentile, in whole milliseconds (Locust keeps them rounded)."""
    return round(value)


def _time(value: float, empty: bool) -> Any:
    """An average, minimum or maximum: Python's float text, or Locust's 0 of an empty row."""
    return 0 if empty else float(value)


def _stats_row(entry: StatsEntry) -> list[Any]:
    empty = entry.num_requests == 0
    percentiles = entry.get_response_time_percentiles(list(PERCENTILES))
    return [
        entry.method,
        entry.name,
        entry.num_requests,
        entry.num_failures,
        _ms(entry.median_response_time),
        float(entry.avg_response_time),
        _time(entry.min_response_time / 1000, empty),
        _time(entry.max_response_time / 1000, empty),
        _time(entry.avg_content_length, empty),
        float(entry.total_rps),
        float(entry.total_fail_per_sec),
        *(["N/A"] * len(PERCENTILES) if empty else [_ms(v) for v in percentiles]),
    ]


def _render(columns: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # "\r\n" after each row, as Locust's files have
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def _utc(timestamp: float | None) -> str:
    """Locust's ``format_utc_timestamp``: whole seconds, UTC, ``2026-01-31T12:00:00Z``."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stats_csv(stats: RequestStats) -> str:
    """One row per name, then the Aggregated row."""
    rows = [_stats_row(e) for e in stats.sorted_entries()]
    rows.append(_stats_row(stats.total))
    return _render(STATS_COLUMNS, rows)


def stats_history_csv(stats: RequestStats, full_history: bool = False) -> str:
    """One Aggregated row per second of the run (``full_history``: see the module's
    docstring)."""
    rows = []
    for r in stats.history.rows:
        empty = r["requests"] == 0
        total_empty = r["total_requests"] == 0
        rows.append(
            [
                int(r["timestamp"]),
                r["user_count"],
                "",
                "Aggregated",
                f"{r['rps']:2f}",
                f"{r['fail_per_sec']:2f}",
                *(["N/A"] * len(PERCENTILES) if empty else [_ms(v) for v in r["percentiles"]]),
                r["total_requests"],
                r["total_failures"],
                _ms(r["total_median_response_time"]),
                float(r["total_avg_response_time"]),
                _time(r["total_min_response_time"], total_empty),
                _time(r["total_max_response_time"], total_empty),
                _time(r["total_avg_content_length"], total_empty),
            ]
        )
    return _render(HISTORY_COLUMNS, rows)


def failures_csv(stats: RequestStats) -> str:
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)
    rows = [
        [e.method, e.name, e.locust_error, e.occurrences, _utc(e.first_seen), _utc(e.last_seen)]
        for e in errors
    ]
    return _render(FAILURES_COLUMNS, rows)


def exceptions_csv(stats: RequestStats) -> str:
    exceptions = sorted(stats.exceptions.values(), key=lambda e: -e.count)
    return _render(
        EXCEPTIONS_COLUMNS, [[e.count, e.message, e.frames, "local"] for e in exceptions]
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
        # newline="": the rows end in "\r\n" already; no translation on any platform.
        with path.open("w", newline="") as file:
            file.write(render())
        written.append(path)
    return written
