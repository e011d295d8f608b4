"""Write the files a run was asked for (CSV, JSON, HTML), creating folders as needed.

A file that cannot be written (a bad path, a full disk, a report without its web assets) does
not stop the others: each problem is one sentence, and the run then exits non-zero.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from horde.runner.environment import Environment
from horde.stats.csv_export import write_csv_files
from horde.stats.json_export import write_json

__all__ = ["write_results"]


def write_results(
    environment: Environment, options: argparse.Namespace, meta: dict[str, Any]
) -> tuple[list[Path], list[str]]:
    """Write every requested result file; returns the paths written and the problems met."""
    written: list[Path] = []
    problems: list[str] = []
    stats = environment.stats
    if options.csv_prefix:
        prefix = Path(options.csv_prefix)
        try:
            write_csv_files(stats, str(prefix), full_history=bool(options.csv_full_history))
            written += [
                Path(f"{prefix}_{part}.csv")
                for part in ("stats", "stats_history", "failures", "exceptions")
            ]
        except OSError as exc:
            problems.append(f"cannot write the CSV files {prefix}_*.csv: {exc.strerror or exc}")
    if options.json_path:
        path = Path(options.json_path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(stats, str(path), meta=meta)
            written.append(path)
        except OSError as exc:
            problems.append(f"cannot write the JSON results to {path}: {exc.strerror or exc}")
    if getattr(options, "html_path", None):
        from horde.report import ReportError, write_html_report

        try:
            written.append(write_html_report(environment, options.html_path, meta))
        except ReportError as exc:
            problems.append(str(exc))
    return written, problems
