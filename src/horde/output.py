"""Write the files a run was asked for (CSV, JSON), creating folders as needed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from horde.runner.environment import Environment
from horde.stats.csv_export import write_csv_files
from horde.stats.json_export import write_json

__all__ = ["write_results"]


def write_results(
    environment: Environment, options: argparse.Namespace, meta: dict[str, Any]
) -> list[Path]:
    """Write every requested result file; returns their paths."""
    written: list[Path] = []
    stats = environment.stats
    if options.csv_prefix:
        prefix = Path(options.csv_prefix)
        write_csv_files(stats, str(prefix), full_history=bool(options.csv_full_history))
        written += [
            Path(f"{prefix}_{part}.csv")
            for part in ("stats", "stats_history", "failures", "exceptions")
        ]
    if options.json_path:
        path = Path(options.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(stats, str(path), meta=meta)
        written.append(path)
    if getattr(options, "html_path", None):
        from horde.report import ReportError, write_html_report

        try:
            written.append(write_html_report(environment, options.html_path, meta))
        except ReportError as exc:  # the other files are written all the same
            print(f"horde: {exc}", file=sys.stderr)
    return written
