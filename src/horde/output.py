"""Write the files a run was asked for (CSV, JSON, HTML), creating folders as needed.

A path that cannot be written is found before the test starts (``check_output_paths``: one
sentence, exit code 2), not after an hour of load. A file that still cannot be written at the
end (a full disk, a folder removed meanwhile, a report without its web assets) does not stop
the others: each problem is one sentence, and the run then exits non-zero.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from horde.exceptions import ScenarioError
from horde.runner.environment import Environment
from horde.settings import Settings
from horde.stats.csv_export import write_csv_files
from horde.stats.json_export import write_json

__all__ = ["check_output_paths", "requested_files", "write_results"]

CSV_PARTS = ("stats", "stats_history", "failures", "exceptions")


def requested_files(options: Settings) -> list[tuple[str, Path]]:
    """(flag, path) of every file the options ask for."""
    files: list[tuple[str, Path]] = []
    prefix = options.csv_prefix
    if prefix:
        files += [("--csv", Path(f"{prefix}_{part}.csv")) for part in CSV_PARTS]
    if options.json_path:
        files.append(("--json", Path(options.json_path)))
    if options.html_path:
        files.append(("--html", Path(options.html_path)))
    return files


def check_output_paths(options: Settings) -> None:
    """Raise ``ScenarioError`` for the first requested file that could not be written.

    Nothing is created: the nearest existing folder must take a new file (tried with a
    temporary one, which also catches read-only file systems), or the file must be writable.
    """
    for flag, path in requested_files(options):
        problem = _why_unwritable(path)
        if problem:
            raise ScenarioError(f"cannot write {flag} {path}: {problem}")


def _why_unwritable(path: Path) -> str:
    if path.is_dir():
        return "it is a folder"
    if path.exists():
        return "" if os.access(path, os.W_OK) else "permission denied"
    folder = path.parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".horde-check-"):
            pass
    except OSError as exc:
        return f"{folder} does not take new files ({exc.strerror or exc})"
    return ""


def write_results(
    environment: Environment, options: Settings, meta: dict[str, Any]
) -> tuple[list[Path], list[str]]:
    """Write every requested result file; returns the paths written and the problems met."""
    written: list[Path] = []
    problems: list[str] = []
    stats = environment.stats
    if options.csv_prefix:
        prefix = Path(options.csv_prefix)
        try:
            write_csv_files(stats, str(prefix), full_history=bool(options.csv_full_history))
            written += [Path(f"{prefix}_{part}.csv") for part in CSV_PARTS]
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
    if options.html_path:
        from horde.report import ReportError, write_html_report

        try:
            written.append(write_html_report(environment, options.html_path, meta))
        except ReportError as exc:
            problems.append(str(exc))
    return written, problems
