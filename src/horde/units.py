"""Values a user types (durations, rates, hosts, counts, percentages), parsed into numbers.

The bottom of the layers: pure functions with no I/O and no horde imports, shared by the command
line, the config file, the environment variables and the web UI's start form, so every source
accepts the same spellings and a bad value gets the same one-sentence ``ValueError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "names",
    "non_negative_int",
    "parse_duration",
    "parse_host",
    "parse_rate",
    "percent",
    "port",
    "positive_duration",
    "positive_float",
    "positive_int",
]

_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$"
)

_RATE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:/\s*(s|sec|m|min|h))?\s*$", re.IGNORECASE)
_PER = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str | float | int) -> float:
    """Seconds from ``30s``, ``5m``, ``1h``, ``1h30m``, or a bare number of seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"invalid duration {text!r}: it cannot be negative")
        return float(text)
    match = _DURATION.match(str(text))
    if not match or not any(match.groups()):
        raise ValueError(f"invalid duration {text!r}: use e.g. 30s, 5m, 1h or 1h30m")
    h, m, s = (float(g) if g else 0.0 for g in match.groups())
    return h * 3600 + m * 60 + s


def parse_host(text: str) -> str:
    """An ``http(s)://host[:port]`` base URL, without a trailing slash."""
    parts = urlsplit(str(text).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"invalid host {text!r}: use a URL like http://127.0.0.1:8000")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"invalid host {text!r}: the port is not a number in 1-65535") from None
    return str(text).strip().rstrip("/")


def parse_rate(text: str | float | int) -> float:
    """Iterations per second from ``500/s``, ``3000/m``, ``10000/h`` or a bare number (per s)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _RATE.match(str(text))
        if not match:
            raise ValueError(f"invalid arrival rate {text!r}: use e.g. 500/s, 3000/m or 500")
        value = float(match.group(1)) / _PER[(match.group(2) or "s").lower()]
    if value < 0 or value == math.inf:
        raise ValueError(f"invalid arrival rate {text!r}: it must be a finite number >= 0")
    return value


def names(value: str | Iterable[object] | None) -> tuple[str, ...]:
    """Names from repeated flags, a config file's list or one string; each item may hold several
    names separated by commas or spaces (``--web-allowed-host``)."""
    if not value:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(name for item in items for name in str(item).replace(",", " ").split())


def non_negative_int(name: str) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        try:
            number = int(str(value))
        except ValueError:
            raise ValueError(f"invalid {name} {value!r}: expected a whole number") from None
        if number < 0:
            raise ValueError(f"invalid {name} {value!r}: it cannot be negative")
        return number

    return convert


def positive_int(name: str) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number = non_negative_int(name)(value)
        if number < 1:
            raise ValueError(f"invalid {name} {value!r}: it must be at least 1")
        return number

    return convert


def port(name: str, listening: bool) -> Callable[[Any], int]:
    """A TCP port: 1-65535, or 0 for a port we listen on (the system picks a free one).

    Out of range, the OS would silently take the number modulo 65536 (99999 serves on 34463).
    """

    def convert(value: Any) -> int:
        number = non_negative_int(name)(value)
        lowest = 0 if listening else 1
        if not lowest <= number <= 65535:
            allowed = "0 (any free port) or 1-65535" if listening else "1-65535"
            raise ValueError(f"invalid {name} {value!r}: a port is {allowed}")
        return number

    return convert


def positive_float(name: str) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        try:
            number = float(str(value))
        except ValueError:
            raise ValueError(f"invalid {name} {value!r}: expected a number") from None
        if not number > 0 or number == float("inf"):
            raise ValueError(f"invalid {name} {value!r}: it must be greater than 0")
        return number

    return convert


def positive_duration(name: str) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValueError(f"invalid {name} {value!r}: it must be longer than 0 s")
        return seconds

    return convert


def percent(name: str) -> Callable[[Any], float]:
    """``5%`` or ``0.05``: a fraction."""

    def convert(value: Any) -> float:
        text = str(value).strip()
        try:
            number = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
        except ValueError:
            raise ValueError(f"invalid {name} {value!r}: use e.g. 5% or 0.05") from None
        if not 0 < number < 1:
            raise ValueError(f"invalid {name} {value!r}: it must be between 0 and 100%")
        return number

    return convert
