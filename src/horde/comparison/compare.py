"""Compare two runs: for each request name and the aggregate, how the median, p95, p99,
throughput and failure ratio changed, with confidence intervals, and a verdict.

The method, in short (docs/comparing-runs.md has the long form and the measured error rates):

1. Each run's figures get a standard error from a block bootstrap over its seconds
   (``horde.comparison.estimate``), so the autocorrelation of latencies within a run is
   accounted for.
2. A change is read on the log scale for latency and throughput (a ratio: +10% is +10% at any
   speed) and as a difference for the failure ratio. Its interval uses Student's t with the
   Welch-Satterthwaite degrees of freedom of the two runs' errors.
3. Every (name, figure) pair is one test; the family's false-positive rate is held at
   ``ALPHA`` with Holm's step-down procedure, and each interval is shown at the level its test
   was decided at, so an interval excludes zero exactly when its change is significant.
4. A significant change larger than the tolerance is a regression or an improvement; anything
   else is unchanged when its interval rules out a change of twice the tolerance, and not
   enough data when it does not (or when a run had too few requests to measure the figure).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from horde.comparison.estimate import (
    LATENCY_METRICS,
    METRICS,
    Estimate,
    RunSeries,
    estimate_run,
)
from horde.comparison.tdist import t_quantile, two_sided_p
from horde.history.record import RunRecord
from horde.stats.windows import AGGREGATE_KEY

__all__ = [
    "ALPHA",
    "DEFAULT_FAIL_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "IMPROVED",
    "NOT_ENOUGH_DATA",
    "REGRESSED",
    "UNCHANGED",
    "Comparison",
    "MetricChange",
    "RowComparison",
    "compare_runs",
]

ALPHA = 0.05
POWER = 0.9
DEFAULT_TOLERANCE = 0.05  # 5%: the smallest relative change in latency or throughput that matters
DEFAULT_FAIL_TOLERANCE = 0.001  # 0.1 percentage points of failed requests
REGRESSED, IMPROVED, UNCHANGED, NOT_ENOUGH_DATA = (
    "regressed",
    "improved",
    "unchanged",
    "not enough data",
)
# +1: a rise is worse (latency, failures); -1: a fall is worse (throughput).
WORSE_WHEN = {"p50": 1, "p95": 1, "p99": 1, "rps": -1, "fail_ratio": 1}
METRIC_LABELS = {
    "p50": "median",
    "p95": "p95",
    "p99": "p99",
    "rps": "throughput",
    "fail_ratio": "failure ratio",
}
_Z_POWER = NormalDist().inv_cdf(POWER)

Key = tuple[str, str]


@dataclass
class MetricChange:
    """One figure of one name in both runs, and what changed.

    ``change``, ``low`` and ``high`` are relative for latency and throughput (0.1 = +10%) and
    absolute for the failure ratio (0.01 = one more percentage point); ``detectable`` is the
    smallest change (same unit) these two runs would catch nine times in ten."""

    metric: str
    baseline: float | None
    candidate: float | None
    change: float | None = None
    low: float | None = None
    high: float | None = None
    level: float | None = None
    p_value: float | None = None
    significant: bool = False
    verdict: str = NOT_ENOUGH_DATA
    reason: str | None = None
    detectable: float | None = None
    # What the test needs before Holm: the difference, its error and degrees of freedom.
    _delta: float = 0.0
    _se: float = 0.0
    _dof: float = 1.0
    _few: bool = False

    @property
    def relative(self) -> bool:
        return self.metric != "fail_ratio"

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "change": self.change,
            "low": self.low,
            "high": self.high,
            "unit": "ratio" if self.relative else "difference",
            "confidence": self.level,
            "p_value": self.p_value,
            "significant": self.significant,
            "verdict": self.verdict,
            "reason": self.reason,
            "detectable": self.detectable,
        }


@dataclass
class RowComparison:
    method: str
    name: str
    verdict: str
    metrics: dict[str, MetricChange]
    baseline_requests: int
    candidate_requests: int
    note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.name}".strip()

    @property
    def aggregate(self) -> bool:
        return (self.method, self.name) == AGGREGATE_KEY

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "name": self.name,
            "verdict": self.verdict,
            "note": self.note,
            "baseline_requests": self.baseline_requests,
            "candidate_requests": self.candidate_requests,
            "metrics": {m: c.to_dict() for m, c in self.metrics.items()},
        }


@dataclass
class RunInfo:
    """What the comparison says about each of its runs."""

    id: int | None
    label: str
    started_at: float
    duration: float
    scenario: str
    host: str | None
    load: str
    requests: int
    git_commit: str | None

    @classmethod
    def of(cls, record: RunRecord, label: str | None = None) -> RunInfo:
        return cls(
            id=record.id,
            label=label or (f"#{record.id}" if record.id is not None else "this run"),
            started_at=record.started_at,
            duration=record.ended_at - record.started_at,
            scenario=record.scenario,
            host=record.host,
            load=record.load,
            requests=record.requests,
            git_commit=record.git_commit,
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Comparison:
    baseline: RunInfo
    candidate: RunInfo
    tolerance: float
    fail_tolerance: float
    verdict: str
    rows: list[RowComparison]
    warnings: list[str] = field(default_factory=list)
    alpha: float = ALPHA

    @property
    def regressed(self) -> bool:
        return self.verdict == REGRESSED

    def regressions(self) -> list[tuple[RowComparison, MetricChange]]:
        return [
            (row, change)
            for row in self.rows
            for change in row.metrics.values()
            if change.verdict == REGRESSED
        ]

    def headline(self) -> str:
        """One sentence: the verdict, and which names regressed by how much."""
        versus = f"{self.candidate.label} against {self.baseline.label}"
        if self.verdict == REGRESSED:
            parts = [
                f"{row.label} {METRIC_LABELS[c.metric]} {describe_change(c)}"
                for row, c in self.regressions()
                if not row.aggregate
            ] or [f"{METRIC_LABELS[c.metric]} {describe_change(c)}" for _, c in self.regressions()]
            return f"regressed: {versus}: " + "; ".join(parts)
        if self.verdict == IMPROVED:
            return f"improved: {versus}, beyond the {self.tolerance:.0%} tolerance"
        if self.verdict == UNCHANGED:
            return f"unchanged: {versus}, within the {self.tolerance:.0%} tolerance"
        return f"not enough data to compare {versus}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "headline": self.headline(),
            "baseline": self.baseline.to_dict(),
            "candidate": self.candidate.to_dict(),
            "tolerance": self.tolerance,
            "fail_tolerance": self.fail_tolerance,
            "alpha": self.alpha,
            "method": "circular block bootstrap over seconds; Welch t intervals; Holm across "
            "names and figures",
            "warnings": list(self.warnings),
            "rows": [row.to_dict() for row in self.rows],
        }


def describe_change(change: MetricChange) -> str:
    """``+31.2% (CI +28.0% to +34.5%)`` or, for the failure ratio, percentage points."""
    if change.change is None:
        return change.reason or "-"
    if change.relative:
        text = f"{change.change:+.1%}"
        if change.low is not None and change.high is not None:
            text += f" (CI {change.low:+.1%} to {change.high:+.1%})"
        return text
    text = f"{change.change * 100:+.2f} pp"
    if change.low is not None and change.high is not None:
        text += f" (CI {change.low * 100:+.2f} to {change.high * 100:+.2f} pp)"
    return text


def _seed(record: RunRecord) -> int:
    return zlib.crc32(record.uuid.encode())


def compare_runs(
    baseline: RunRecord,
    candidate: RunRecord,
    tolerance: float = DEFAULT_TOLERANCE,
    fail_tolerance: float = DEFAULT_FAIL_TOLERANCE,
    *,
    alpha: float = ALPHA,
    candidate_label: str | None = None,
    estimates: tuple[dict[Key, dict[str, Estimate]], dict[Key, dict[str, Estimate]]] | None = None,
) -> Comparison:
    """Compare ``candidate`` with ``baseline`` (see the module's docstring for the method).

    ``estimates`` (each run's, from ``estimate_run``) skips the bootstrap: a benchmark that
    compares the same run with many others estimates it once."""
    series_a = RunSeries.from_dict(baseline.samples.get("windows"))
    series_b = RunSeries.from_dict(candidate.samples.get("windows"))
    if estimates is None:
        estimates = (
            estimate_run(series_a, _seed(baseline)),
            estimate_run(series_b, _seed(candidate)),
        )
    estimates_a, estimates_b = estimates
    names = sorted((set(estimates_a) | set(estimates_b)) - {AGGREGATE_KEY})
    only_name = names[0] if len(names) == 1 else None
    rows: list[RowComparison] = []
    for key in [*names, AGGREGATE_KEY]:
        a, b = estimates_a.get(key), estimates_b.get(key)
        rows.append(_row(key, a, b, series_a, series_b))
    # The family of tests: every (name, figure) with an estimate in both runs. With one name,
    # the aggregate is that name again: it is tested once.
    # A figure the same in both runs with no noise in either (no failures on either side)
    # can never be called changed: it is left out rather than made to cost the others power.
    family = [
        change
        for row in rows
        if not (only_name is not None and row.aggregate)
        for change in row.metrics.values()
        if change.reason is None and not (change._se == 0 and change._delta == 0)
    ]
    _holm(family, alpha)
    for change in (c for row in rows for c in row.metrics.values()):
        if change.reason is None and change.level is None:  # certain, and the same: no change
            _interval(change, alpha)
    for row in rows:
        if only_name is not None and row.aggregate:
            twin = next(r for r in rows if (r.method, r.name) == only_name)
            row.metrics = {m: _copy(c) for m, c in twin.metrics.items()}
        for change in row.metrics.values():
            _decide(change, tolerance, fail_tolerance)
        row.verdict = _row_verdict(row)
    aggregate = rows[-1]
    verdicts = {row.verdict for row in rows}
    if REGRESSED in verdicts:
        verdict = REGRESSED
    elif IMPROVED in verdicts:
        verdict = IMPROVED
    else:
        verdict = aggregate.verdict
    return Comparison(
        baseline=RunInfo.of(baseline),
        candidate=RunInfo.of(candidate, candidate_label),
        tolerance=tolerance,
        fail_tolerance=fail_tolerance,
        verdict=verdict,
        rows=rows,
        warnings=comparability_warnings(baseline, candidate, series_a, series_b),
        alpha=alpha,
    )


def _copy(change: MetricChange) -> MetricChange:
    return MetricChange(**{k: v for k, v in change.__dict__.items()})


def _row(
    key: Key,
    a: dict[str, Estimate] | None,
    b: dict[str, Estimate] | None,
    series_a: RunSeries,
    series_b: RunSeries,
) -> RowComparison:
    method, name = key
    metrics: dict[str, MetricChange] = {}
    note = None
    if a is None or b is None:
        if not series_a.seconds or not series_b.seconds:
            missing = "baseline" if not series_a.seconds else "candidate"
            note = f"the {missing} run kept no per-second data"
        else:
            note = "only in the candidate" if a is None else "only in the baseline"
    for metric in METRICS:
        ea = a[metric] if a is not None else None
        eb = b[metric] if b is not None else None
        change = MetricChange(
            metric, ea.value if ea is not None else None, eb.value if eb is not None else None
        )
        if ea is None or eb is None:
            change.reason, change._few = note, True
        elif ea.reason is not None or eb.reason is not None:
            which = "baseline" if ea.reason is not None else "candidate"
            change.reason, change._few = f"{which}: {ea.reason or eb.reason}", True
        else:
            _measure(change, ea, eb)
        metrics[metric] = change
    requests_a = next(iter(a.values())).requests if a else 0
    requests_b = next(iter(b.values())).requests if b else 0
    return RowComparison(method, name, NOT_ENOUGH_DATA, metrics, requests_a, requests_b, note)


def _measure(change: MetricChange, a: Estimate, b: Estimate) -> None:
    """The difference and its error, before the family decides what is significant."""
    assert a.value is not None and b.value is not None
    if change.relative:
        change._delta = math.log(b.value) - math.log(a.value)
    else:
        change._delta = b.value - a.value
    variance = a.se**2 + b.se**2
    change._se = math.sqrt(variance)
    # Welch-Satterthwaite: how many degrees of freedom the combined error has.
    denominator = (a.se**4) / a.dof + (b.se**4) / b.dof
    change._dof = variance**2 / denominator if denominator > 0 else max(a.dof, b.dof)
    if change._se > 0:
        change.p_value = two_sided_p(change._delta / change._se, change._dof)
    else:
        change.p_value = 1.0 if change._delta == 0 else 0.0


def _holm(family: list[MetricChange], alpha: float) -> None:
    """Holm's step-down: the i-th smallest p-value is tested at alpha / (m - i) until one
    fails; that level then holds for all the rest. Each interval is drawn at its test's level,
    so it excludes zero exactly when the change is significant."""
    m = len(family)
    ranked = sorted(family, key=lambda c: c.p_value if c.p_value is not None else 1.0)
    stopped, stop_level = False, alpha
    for i, change in enumerate(ranked):
        level = alpha / (m - i)
        if stopped:
            level = stop_level
        elif change.p_value is not None and change.p_value <= level:
            change.significant = True
        else:
            stopped, stop_level = True, level
        _interval(change, level)


def _interval(change: MetricChange, level: float) -> None:
    change.level = 1.0 - level
    multiplier = t_quantile(1.0 - level / 2.0, change._dof) if change._se > 0 else 0.0
    half = multiplier * change._se
    detect = (multiplier + _Z_POWER) * change._se
    delta = change._delta
    if change.relative:
        change.change = math.expm1(delta)
        change.low, change.high = math.expm1(delta - half), math.expm1(delta + half)
        change.detectable = math.expm1(detect)
    else:
        change.change, change.low, change.high = delta, delta - half, delta + half
        change.detectable = detect


def _decide(change: MetricChange, tolerance: float, fail_tolerance: float) -> None:
    if change.reason is not None or change.change is None:
        change.verdict = NOT_ENOUGH_DATA
        return
    tol = tolerance if change.relative else fail_tolerance
    direction = WORSE_WHEN[change.metric]
    worse = change.change * direction
    assert change.low is not None and change.high is not None
    if change.significant and worse > tol:
        change.verdict = REGRESSED
    elif change.significant and worse < -tol:
        change.verdict = IMPROVED
    elif change.low >= -2 * tol and change.high <= 2 * tol:
        change.verdict = UNCHANGED
    else:
        change.verdict = NOT_ENOUGH_DATA
        change.reason = f"the interval is too wide to rule out a change of {2 * tol:.0%}"
        if not change.relative:
            change.reason = (
                f"the interval is too wide to rule out a change of {2 * tol * 100:.2g} pp"
            )


def _row_verdict(row: RowComparison) -> str:
    changes = list(row.metrics.values())
    verdicts = {c.verdict for c in changes}
    if REGRESSED in verdicts:
        return REGRESSED
    if IMPROVED in verdicts:
        return IMPROVED
    if all(c._few for c in changes):
        return NOT_ENOUGH_DATA
    if any(c.verdict == NOT_ENOUGH_DATA and not c._few for c in changes):
        return NOT_ENOUGH_DATA
    return UNCHANGED


def comparability_warnings(
    baseline: RunRecord, candidate: RunRecord, series_a: RunSeries, series_b: RunSeries
) -> list[str]:
    """What makes the two runs less than like for like (said, never silently ignored)."""
    a, b = baseline, candidate
    out: list[str] = []
    if a.scenario != b.scenario:
        out.append(f"the runs are of different scenarios ({a.scenario}, {b.scenario})")
    elif a.scenario_hash and b.scenario_hash and a.scenario_hash != b.scenario_hash:
        out.append(
            f"the scenario file changed between the runs ({a.scenario_hash[:8]} -> "
            f"{b.scenario_hash[:8]}): differences may come from the test, not the target"
        )
    if a.host != b.host:
        out.append(f"the runs hit different hosts ({a.host}, {b.host})")
    if a.load != b.load:
        out.append(f"the load differs ({a.load} against {b.load}): throughput is not comparable")
    da, db = a.ended_at - a.started_at, b.ended_at - b.started_at
    if min(da, db) > 0 and max(da, db) / min(da, db) > 1.25:
        out.append(f"the runs lasted {da:.0f} s and {db:.0f} s")
    for record, label in ((a, "baseline"), (b, "candidate")):
        health = record.document.get("meta", {}).get("generator_health") or {}
        if isinstance(health, dict) and health.get("saturated"):
            out.append(
                f"the load generator was saturated during the {label} run (#{record.id}): its "
                "latencies include horde's own queueing; run it with --processes"
                if record.id is not None
                else f"the load generator was saturated during the {label} run: its latencies "
                "include horde's own queueing; run it with --processes"
            )
    for series, label in ((series_a, "baseline"), (series_b, "candidate")):
        if not series.seconds:
            out.append(f"the {label} run kept no per-second data: it cannot be compared")
    for record, label in ((a, "baseline"), (b, "candidate")):
        untracked = (record.samples.get("windows") or {}).get("untracked_names") or 0
        if untracked:
            out.append(
                f"the {label} run had {untracked} names beyond the first "
                f"{len((record.samples.get('windows') or {}).get('names', [])) - 1} "
                "followed second by second: those are in the aggregate only"
            )
    if a.horde_version != b.horde_version:
        out.append(f"the runs were made by different horde versions ({a.horde_version}, "
                   f"{b.horde_version})")  # fmt: skip
    return out


def metric_value_text(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric in LATENCY_METRICS:
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.2f} ms"
    if metric == "rps":
        return f"{value:,.1f}/s"
    return f"{value:.2%}"
