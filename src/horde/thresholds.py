"""Pass/fail thresholds on a run's results, for CI: ``--threshold "p95<300ms"``.

A threshold is ``[METHOD NAME:]METRIC OP VALUE[UNIT]``:
- METRIC: ``pNN`` (any percentile, e.g. p95, p99.9), ``avg``, ``med``, ``min``, ``max`` (times),
  ``fail_ratio``, ``rps`` (requests per second over the run), ``requests``, ``failures``;
- OP: ``<``, ``<=``, ``>``, ``>=``;
- UNIT: ``ms`` or ``s`` for times (default ms), ``%`` for fail_ratio (default: a fraction);
- without a selector the aggregated row is checked; ``GET /pages/:p99<800ms`` checks one row,
  and ``/pages/:p99<800ms`` every method of that name.
Thresholds are parsed with the options, so a bad one stops the run before any load is sent.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from horde.stats import RequestStats, StatsEntry

__all__ = ["Threshold", "evaluate", "parse_threshold"]

_PATTERN = re.compile(
    r"^\s*(?:(?P<selector>.+):)?\s*(?P<metric>[a-z_]+|p\d+(?:\.\d+)?)\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|%)?\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TIME_METRICS = {"avg", "med", "min", "max"}
_OTHER_METRICS = {"fail_ratio", "rps", "requests", "failures"}


@dataclass(frozen=True)
class Threshold:
    expression: str
    method: str | None
    name: str | None
    metric: str
    op: str
    limit: float  # ms for times, a fraction for fail_ratio

    def measure(self, entry: StatsEntry) -> float:
        m = self.metric
        if m.startswith("p"):
            return entry.get_response_time_percentile(float(m[1:]) / 100)
        return {
            "avg": lambda: entry.avg_response_time,
            "med": lambda: entry.median_response_time,
            "min": lambda: entry.min_response_time / 1000,
            "max": lambda: entry.max_response_time / 1000,
            "fail_ratio": lambda: entry.fail_ratio,
            "rps": lambda: entry.total_rps,
            "requests": lambda: float(entry.num_requests),
            "failures": lambda: float(entry.num_failures),
        }[m]()

    def unit(self) -> str:
        if self.metric.startswith("p") or self.metric in _TIME_METRICS:
            return "ms"
        return ""


def parse_threshold(text: str) -> Threshold:
    """Parse one threshold; ``ValueError`` with one sentence when it cannot be understood."""
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(
            f"invalid threshold {text!r}: use e.g. p95<300ms, fail_ratio<1%, "
            "or 'GET /pages/:p99<800ms'"
        )
    metric, unit = match["metric"], match["unit"]
    value = float(match["value"])
    is_time = metric.startswith("p") or metric in _TIME_METRICS
    if not is_time and metric not in _OTHER_METRICS:
        known = "pNN, avg, med, min, max, fail_ratio, rps, requests, failures"
        raise ValueError(f"invalid threshold {text!r}: unknown metric {metric!r} (use {known})")
    if metric.startswith("p") and not 0 < float(metric[1:]) <= 100:
        raise ValueError(f"invalid threshold {text!r}: a percentile is between p0 and p100")
    if is_time:
        if unit == "%":
            raise ValueError(f"invalid threshold {text!r}: {metric} is a time, use ms or s")
        value = value * 1000 if unit == "s" else value
    elif metric == "fail_ratio":
        if unit in ("ms", "s"):
            raise ValueError(f"invalid threshold {text!r}: fail_ratio is a ratio, use % or 0.01")
        value = value / 100 if unit == "%" else value
    elif unit:
        raise ValueError(f"invalid threshold {text!r}: {metric} takes no unit")
    method = name = None
    if match["selector"]:
        selector = match["selector"].strip()
        first, _, rest = selector.partition(" ")
        if rest and first.isupper():
            method, name = first, rest.strip()
        else:
            name = selector
    return Threshold(text.strip(), method, name, metric, match["op"], value)


def evaluate(thresholds: list[Threshold], stats: RequestStats) -> list[dict[str, Any]]:
    """One result per threshold (and per matching row): measured value and verdict."""
    results: list[dict[str, Any]] = []
    for t in thresholds:
        if t.name is None:
            rows = [stats.total]
        else:
            rows = [
                e
                for e in stats.entries.values()
                if e.name == t.name and (t.method is None or e.method == t.method)
            ]
        if not rows:
            results.append(
                {
                    "threshold": t.expression,
                    "row": t.name,
                    "measured": None,
                    "passed": False,
                    "message": "no request with this name was made",
                }
            )
            continue
        for row in rows:
            measured = t.measure(row)
            passed = row.num_requests > 0 and _OPS[t.op](measured, t.limit)
            results.append(
                {
                    "threshold": t.expression,
                    "row": f"{row.method} {row.name}".strip(),
                    "measured": measured,
                    "unit": t.unit(),
                    "passed": passed,
                }
            )
    return results
