"""Locust's console printing of statistics, for library scripts (``locust.stats``, ``locust.log``).

A script that runs Locust as a library prints the stats itself: ``gevent.spawn(
stats_printer(env.stats))``, ``print_stats``, ``print_percentile_stats``, ``print_error_report``,
with ``setup_logging("INFO")`` first. These write Locust's tables, line for line in Locust's
format, through the ``locust.stats_logger`` logger as Locust does. ``stats_history`` needs no
work: horde's runner records the history itself, once a second.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import socket
from collections.abc import Callable
from typing import Any

__all__ = [
    "get_error_report_summary",
    "get_percentile_stats_summary",
    "get_stats_summary",
    "print_error_report",
    "print_percentile_stats",
    "print_stats",
    "print_stats_json",
    "save_stats_json",
    "setup_logging",
    "stats_history",
    "stats_printer",
    "update_stats_history",
]

STATS_NAME_WIDTH = 80
STATS_TYPE_WIDTH = 8
CONSOLE_STATS_INTERVAL_SEC = 2
HISTORY_STATS_INTERVAL_SEC = 5
PERCENTILES_TO_REPORT = [0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0]
HOSTNAME = re.sub(r"\..*", "", socket.gethostname())

console_logger = logging.getLogger("locust.stats_logger")


def _entry_line(entry: Any, current: bool = True) -> str:
    """Locust's ``StatsEntry.to_string`` for one of horde's rows (times in ms)."""
    rps = entry.current_rps if current else entry.total_rps
    fail_per_sec = entry.current_fail_per_sec if current else entry.total_fail_per_sec
    return (
        "%-" + str(STATS_TYPE_WIDTH) + "s %-" + str((STATS_NAME_WIDTH - STATS_TYPE_WIDTH) + 4)
        + "s %7d %12s |%7d %7d %7d%7d | %7.2f %11.2f"
    ) % (
        ((entry.method and entry.method + " ") or ""),
        entry.name,
        entry.num_requests,
        f"{entry.num_failures}({entry.fail_ratio * 100:.2f}%)",
        entry.avg_response_time,
        entry.min_response_time / 1000,
        entry.max_response_time / 1000,
        entry.median_response_time,
        rps or 0,
        fail_per_sec or 0,
    )  # fmt: skip


def _readable(percentiles: list[float]) -> list[str]:
    return [
        f"{int(p * 100) if (p * 100).is_integer() else round(100 * p, 6)}%" for p in percentiles
    ]


def get_stats_summary(stats: Any, current: bool = True) -> list[str]:
    name_width = (STATS_NAME_WIDTH - STATS_TYPE_WIDTH) + 4
    summary = [
        ("%-" + str(STATS_TYPE_WIDTH) + "s %-" + str(name_width) + "s %7s %12s |%7s %7s %7s%7s | "
         "%7s %11s")
        % ("Type", "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s")
    ]  # fmt: skip
    separator = (
        f"{'-' * STATS_TYPE_WIDTH}|{'-' * name_width}|{'-' * 7}|{'-' * 13}|{'-' * 7}|"
        f"{'-' * 7}|{'-' * 7}|{'-' * 7}|{'-' * 8}|{'-' * 11}"
    )
    summary.append(separator)
    for entry in stats.sorted_entries():
        summary.append(_entry_line(entry, current))
    summary.append(separator)
    summary.append(_entry_line(stats.total, current))
    return summary


def print_stats(stats: Any, current: bool = True) -> None:
    for line in get_stats_summary(stats, current):
        console_logger.info(line)
    console_logger.info("")


def get_percentile_stats_summary(stats: Any) -> list[str]:
    summary = ["Response time percentiles (approximated)"]
    columns = " ".join(["%6s"] * len(PERCENTILES_TO_REPORT))
    headers = ("Type", "Name", *_readable(PERCENTILES_TO_REPORT), "# reqs")
    summary.append(f"%-{STATS_TYPE_WIDTH}s %-{STATS_NAME_WIDTH}s %8s {columns}" % headers)
    separator = (
        f"{'-' * STATS_TYPE_WIDTH}|{'-' * STATS_NAME_WIDTH}|{'-' * 8}|"
        f"{('-' * 6 + '|') * len(PERCENTILES_TO_REPORT)}"
    )[:-1]
    summary.append(separator)
    rows = [*stats.sorted_entries()]
    for entry in rows:
        if entry.num_requests:
            summary.append(_percentile_line(entry))
    summary.append(separator)
    if stats.total.num_requests:
        summary.append(_percentile_line(stats.total))
    return summary


def _percentile_line(entry: Any) -> str:
    columns = " ".join(["%6d"] * len(PERCENTILES_TO_REPORT))
    values = tuple(entry.get_response_time_percentiles(PERCENTILES_TO_REPORT))
    template = f"%-{STATS_TYPE_WIDTH}s %-{STATS_NAME_WIDTH}s %8d {columns}"
    return template % ((entry.method or "", entry.name, *values, entry.num_requests))


def print_percentile_stats(stats: Any) -> None:
    for line in get_percentile_stats_summary(stats):
        console_logger.info(line)
    console_logger.info("")


def get_error_report_summary(stats: Any) -> list[str]:
    summary = ["Error report", f"{'# occurrences':18} {'Error':100}"]
    separator = f"{'-' * 18}|{'-' * ((80 + STATS_NAME_WIDTH) - 19)}"
    summary.append(separator)
    for error in stats.errors.values():
        text = f"{error.method} {error.name}: {error.error}"
        summary.append(f"{error.occurrences:<18d} {text:<100}")
    summary.append(separator)
    summary.append("")
    return summary


def print_error_report(stats: Any) -> None:
    if stats.errors:
        for line in get_error_report_summary(stats):
            console_logger.info(line)


def _serialize(stats: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": e.name,
            "method": e.method,
            "num_requests": e.num_requests,
            "num_failures": e.num_failures,
            "total_response_time": e.total_response_time / 1000,
            "min_response_time": e.min_response_time / 1000,
            "max_response_time": e.max_response_time / 1000,
            "total_content_length": e.total_content_length,
        }
        for e in stats.sorted_entries()
    ]


def print_stats_json(stats: Any) -> None:
    print(json.dumps(_serialize(stats), indent=4))


def save_stats_json(stats: Any, filename: str) -> None:
    with open(f"{filename}.json", "w") as file:
        json.dump(_serialize(stats), file, indent=4)


def stats_printer(stats: Any) -> Callable[[], None]:
    """A function printing the stats every 2 s, for ``gevent.spawn``."""

    def stats_printer_func() -> None:
        from horde.compat.gevent.greenlets import sleep

        while True:
            print_stats(stats)
            sleep(CONSOLE_STATS_INTERVAL_SEC)

    return stats_printer_func


def update_stats_history(runner: Any, timestamp: str | None = None) -> None:
    """Nothing to do: horde's runner adds a history row itself every second."""


def stats_history(runner: Any) -> None:
    """Locust's greenlet that keeps the charts' history; horde's runner keeps it itself (every
    second, in ``stats.history``), so this only lives as long as a greenlet would."""
    from horde.compat.gevent.greenlets import sleep

    while True:
        sleep(HISTORY_STATS_INTERVAL_SEC)


def setup_logging(loglevel: str, logfile: str | None = None) -> None:
    """Locust's logging set-up: the root logger at ``loglevel`` and the stats tables
    (``locust.stats_logger``) as plain lines."""
    level = loglevel.upper()
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"format": f"[%(asctime)s] {HOSTNAME}/%(levelname)s/%(name)s: %(message)s"},
            "plain": {"format": "%(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "default"},
            "console_plain": {"class": "logging.StreamHandler", "formatter": "plain"},
        },
        "loggers": {
            "locust": {"handlers": ["console"], "level": level, "propagate": False},
            "locust.stats_logger": {
                "handlers": ["console_plain"],
                "level": "INFO",
                "propagate": False,
            },
        },
        "root": {"handlers": ["console"], "level": level},
    }
    if logfile:
        config["handlers"]["file"] = {
            "class": "logging.FileHandler",
            "filename": logfile,
            "formatter": "default",
        }
        config["loggers"]["locust"]["handlers"] = ["file"]
        config["root"]["handlers"] = ["file"]
    logging.config.dictConfig(config)
