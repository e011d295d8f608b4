"""The families in Prometheus's text exposition format (version 0.0.4), built at scrape time.

Served as ``GET /metrics`` by the web UI (behind its own checks) and, with ``--metrics-port``, by
a small server of its own for headless runs and masters (``horde.metrics.server``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from horde.metrics.families import BOUNDS_SECONDS, Family, HistogramSeries, Labels, Series

__all__ = ["CONTENT_TYPE", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LE = (*(repr(b) for b in BOUNDS_SECONDS), "+Inf")


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    add = lines.append
    for family in families:
        name = family.name
        sample = f"{name}_total" if family.kind == "counter" else name
        add(f"# HELP {sample} {_escape_help(family.help)}")
        add(f"# TYPE {sample} {family.kind}")
        if family.kind == "histogram":
            for series in family.series:
                assert isinstance(series, HistogramSeries)
                _histogram(add, name, series)
        else:
            for series in family.series:
                assert isinstance(series, Series)
                add(f"{sample}{_labels(series.labels)} {_number(series.value)}")
    add("")
    return "\n".join(lines)


def _histogram(add: Callable[[str], None], name: str, series: HistogramSeries) -> None:
    inner = _label_text(series.labels)
    prefix = f"{name}_bucket{{{inner}," if inner else f"{name}_bucket{{"
    cumulative = 0
    for le, n in zip(_LE, series.counts, strict=True):
        cumulative += n
        add(f'{prefix}le="{le}"}} {cumulative}')
    tail = _labels(series.labels)
    add(f"{name}_sum{tail} {_number(series.sum)}")
    add(f"{name}_count{tail} {series.count}")


def _labels(labels: Labels) -> str:
    return f"{{{_label_text(labels)}}}" if labels else ""


def _label_text(labels: Labels) -> str:
    return ",".join(f'{key}="{_escape_value(value)}"' for key, value in labels)


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))
