"""What the history commands share: their parser, and opening the store they name."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any, NoReturn

from horde.exceptions import ScenarioError
from horde.history import HistoryError, HistoryStore, open_store
from horde.options import configured
from horde.units import parse_duration

__all__ = ["CommandParser", "add_store_arguments", "open_history", "parse_since"]


class CommandParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so the CLI prints one sentence and exits 2."""

    def error(self, message: str) -> NoReturn:
        raise ScenarioError(message)


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--history",
        metavar="PATH|URL",
        help="the history to read: an SQLite file (default .horde/history.db here) or a "
        "postgresql:// URL; also HORDE_HISTORY or history in horde.toml",
    )
    parser.add_argument("--config", help="config file (default: horde.toml or pyproject.toml)")


def settings_of(options: argparse.Namespace, names: set[str]) -> dict[str, Any]:
    """``names`` from the config file and environment, overridden by the flags given."""
    values = configured(names, options.config)
    for name in names:
        given = getattr(options, name, None)
        if given is not None:
            values[name] = given
    return values


def open_history(location: str | None) -> HistoryStore:
    """The store to read; a missing default file means no run was saved yet."""
    try:
        return open_store(location, create=False)
    except HistoryError as exc:
        raise ScenarioError(str(exc)) from None


def parse_since(text: str) -> float:
    """``2d``, ``12h``, ``30m`` (that long ago) or a date ``2026-11-01[THH:MM]``: a timestamp."""
    try:
        return time.time() - parse_duration(_days(text))
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ScenarioError(
            f"invalid --since {text!r}: use a duration (2d, 12h, 30m) or a date (2026-11-01)"
        ) from None


def _days(text: str) -> str:
    """parse_duration knows s, m and h: days and weeks become hours."""
    text = text.strip()
    for unit, hours in (("d", 24), ("w", 168)):
        if text.endswith(unit) and text[:-1].replace(".", "", 1).isdigit():
            return f"{float(text[:-1]) * hours:g}h"
    return text
