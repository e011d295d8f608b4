"""The run's log lines for the web UI's Logs tab: the last few hundred, in memory.

The console shows what ``--loglevel`` asks for (WARNING by default); the tab also shows INFO
lines (ramps done, workers joining), as Locust's does, so that someone watching the page sees
what happened without a terminal. Lowering the root logger to INFO for that leaves the
console's handlers at the level they had, so the terminal output does not change.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

__all__ = ["LogBuffer", "install_log_buffer", "remove_log_buffer"]

CAPACITY = 500
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogBuffer(logging.Handler):
    """Keeps the last ``capacity`` records as plain data, and counts warnings and errors."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__(logging.INFO)
        self.records: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.warnings = 0  # WARNING and above since the start, including lines pushed out
        self._line_format = logging.Formatter(LINE_FORMAT)
        self.setFormatter(self._line_format)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + self._line_format.formatException(record.exc_info)
            self.records.append(
                {
                    "time": record.created,
                    "level": record.levelname,
                    "name": record.name,
                    "message": message,
                    "line": self.format(record),
                }
            )
            if record.levelno >= logging.WARNING:
                self.warnings += 1
        except Exception:
            self.handleError(record)

    def payload(self) -> dict[str, Any]:
        """``/logs``: Locust's keys (``master``: the lines; ``workers``) and the records."""
        records = list(self.records)
        return {
            "master": [r["line"] for r in records],
            "workers": {},
            "records": records,
            "warnings": self.warnings,
        }


def install_log_buffer(root: logging.Logger | None = None) -> LogBuffer:
    """Attach a buffer to the root logger, letting INFO through to it alone."""
    root = root or logging.getLogger()
    buffer = LogBuffer()
    if root.level > logging.INFO:
        previous = root.level
        for handler in root.handlers:
            if handler.level < previous:
                handler.setLevel(previous)
        root.setLevel(logging.INFO)
    root.addHandler(buffer)
    return buffer


def remove_log_buffer(buffer: LogBuffer, root: logging.Logger | None = None) -> None:
    (root or logging.getLogger()).removeHandler(buffer)
