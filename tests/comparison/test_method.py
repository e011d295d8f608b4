"""The comparison's method on runs made up in memory, where the truth is known."""

from __future__ import annotations

import math

import pytest

from horde.comparison import (
    IMPROVED,
    NOT_ENOUGH_DATA,
    REGRESSED,
    UNCHANGED,
    compare_runs,
)
from horde.comparison.compare import MetricChange, _decide, _holm
from horde.comparison.estimate import MIN_BLOCK_SECONDS, RunSeries
from horde.comparison.tdist import t_cdf, t_quantile, two_sided_p
from horde.stats.windows import AGGREGATE_KEY
from tests.history.records import make_record


def test_students_t_matches_the_tables():
    assert t_quantile(0.975, 10) == pytest.approx(2.2281, abs=1e-4)
    assert t_quantile(0.995, 30) == pytest.approx(2.7500, abs=1e-4)
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-3)
    assert t_quantile(0.975, 1e7) == pytest.approx(1.95996, abs=1e-4)
    assert t_cdf(-1.5, 5) == pytest.approx(0.09695, abs=1e-5)
    assert two_sided_p(2.2281, 10) == pytest.approx(0.05, abs=1e-4)
    assert two_sided_p(0.0, 3) == 1.0


def test_the_same_run_against_itself_is_unchanged_with_no_change():
    run = make_record(seconds=60, seed=3)
    comparison = compare_runs(run, run)
    assert comparison.verdict == UNCHANGED
    for row in comparison.rows:
        assert row.verdict == UNCHANGED
        for change in row.metrics.values():
            assert change.change == pytest.approx(0.0, abs=1e-12)
            assert change.low is not None and change.high is not None
            assert change.low <= 0.0 <= change.high


def test_a_run_30_percent_slower_is_regressed_and_named():
    baseline = make_record(seconds=60, seed=1)
    candidate = make_record(seconds=60, seed=2, scale=1.3)
    comparison = compare_runs(baseline, candidate)
    assert comparison.verdict == REGRESSED
    assert comparison.regressed
    for row in comparison.rows:
        assert row.verdict == REGRESSED
        p95 = row.metrics["p95"]
        assert p95.verdict == REGRESSED
        assert p95.low is not None and p95.high is not None
        assert p95.low < 0.30 < p95.high  # the interval holds the truth
    assert comparison.headline().startswith("regressed: ")
    assert "GET / p95 +" in comparison.headline() and "GET /item" in comparison.headline()


def test_a_faster_run_is_improved():
    comparison = compare_runs(make_record(seed=1), make_record(seed=2, scale=0.7))
    assert comparison.verdict == IMPROVED
    assert comparison.rows[-1].metrics["p50"].verdict == IMPROVED
    assert not comparison.regressed


def test_too_few_requests_is_not_enough_data():
    baseline = make_record(seconds=3, rate=4, seed=1)
    candidate = make_record(seconds=3, rate=4, seed=2, scale=1.3)
    comparison = compare_runs(baseline, candidate)
    assert comparison.verdict == NOT_ENOUGH_DATA
    p95 = comparison.rows[-1].metrics["p95"]
    assert p95.verdict == NOT_ENOUGH_DATA
    assert "requests (at least 100 needed)" in (p95.reason or "")


def test_a_change_within_the_tolerance_is_unchanged_even_when_measurable():
    """A 3% slowdown measured on a quiet target is significant, and smaller than 5%."""
    baseline = make_record(seconds=120, rate=1000, jitter=0.1, seed=1)
    candidate = make_record(seconds=120, rate=1000, jitter=0.1, seed=2, scale=1.03)
    comparison = compare_runs(baseline, candidate)
    p50 = comparison.rows[-1].metrics["p50"]
    assert p50.significant and p50.low is not None and p50.low > 0
    assert p50.verdict == UNCHANGED
    assert comparison.verdict == UNCHANGED
    # With a tolerance of 1%, the same change matters.
    assert compare_runs(baseline, candidate, tolerance=0.01).verdict == REGRESSED


def test_new_failures_beyond_the_failure_tolerance_are_a_regression():
    baseline = make_record(seconds=60, seed=1)
    candidate = make_record(seconds=60, seed=2, failure_ratio=0.05)
    comparison = compare_runs(baseline, candidate)
    failures = comparison.rows[-1].metrics["fail_ratio"]
    assert failures.verdict == REGRESSED
    assert failures.change == pytest.approx(0.05, abs=0.01)
    assert comparison.verdict == REGRESSED


def test_autocorrelated_runs_get_longer_blocks_and_wider_intervals():
    """The trap: a target whose speed wanders makes a run's seconds alike. Intervals computed
    as if seconds were independent are too narrow; the method lengthens its blocks."""
    wandering = RunSeries.from_dict(
        make_record(seconds=180, drift=0.1, drift_seconds=20, seed=5).samples["windows"]
    )
    steady = RunSeries.from_dict(make_record(seconds=180, seed=5).samples["windows"])
    assert steady.block_length(AGGREGATE_KEY) == MIN_BLOCK_SECONDS
    assert wandering.block_length(AGGREGATE_KEY) > MIN_BLOCK_SECONDS
    from horde.comparison.estimate import estimate_run

    run = RunSeries.from_dict(
        make_record(seconds=180, drift=0.1, drift_seconds=20, seed=6).samples["windows"]
    )
    chosen = estimate_run(run, seed=1)[AGGREGATE_KEY]["p95"].se
    one_second = estimate_run(run, seed=1, block_length=1)[AGGREGATE_KEY]["p95"].se
    assert chosen > 1.5 * one_second


def test_names_in_one_run_only_are_said_and_not_judged():
    baseline = make_record(seconds=30, seed=1)
    candidate = make_record(seconds=30, seed=2, names=(("GET", "/"), ("POST", "/new")))
    rows = {row.label: row for row in compare_runs(baseline, candidate).rows}
    assert rows["GET /item"].verdict == NOT_ENOUGH_DATA
    assert rows["GET /item"].note == "only in the baseline"
    assert rows["POST /new"].note == "only in the candidate"


def test_what_makes_runs_unlike_is_said():
    baseline = make_record(seconds=30, seed=1)
    candidate = make_record(
        seconds=60, seed=2, host="http://elsewhere", meta={"generator_health": {"saturated": True}}
    )
    candidate.scenario_hash = "cd" * 32
    warnings = " | ".join(compare_runs(baseline, candidate).warnings)
    assert "different hosts" in warnings
    assert "scenario file changed" in warnings
    assert "lasted 30 s and 60 s" in warnings
    assert "load generator was saturated during the candidate run" in warnings
    assert "--processes" in warnings


def test_holm_tests_the_smallest_p_at_alpha_over_m_and_stops_at_the_first_failure():
    def change(p: float) -> MetricChange:
        c = MetricChange("p95", 1.0, 1.0)
        c.p_value, c._delta, c._se, c._dof = p, 0.1, 0.1 / 3, 30.0
        return c

    family = [change(p) for p in (0.04, 0.001, 0.03, 0.012)]
    _holm(family, 0.05)
    family.sort(key=lambda c: c.p_value)
    # 0.001 <= 0.05/4; 0.012 <= 0.05/3; 0.03 > 0.05/2: stop; 0.04 (<= 0.05) is not tested.
    assert [c.significant for c in family] == [True, True, False, False]
    assert family[0].level == pytest.approx(1 - 0.05 / 4)
    assert family[1].level == pytest.approx(1 - 0.05 / 3)
    assert family[2].level == family[3].level == pytest.approx(1 - 0.05 / 2)


@pytest.mark.parametrize(
    ("change", "low", "high", "significant", "metric", "verdict"),
    [
        (0.10, 0.05, 0.15, True, "p95", REGRESSED),
        (0.04, 0.01, 0.07, True, "p95", UNCHANGED),  # significant, below the tolerance
        (0.02, -0.03, 0.07, False, "p95", UNCHANGED),  # within twice the tolerance
        (0.08, -0.02, 0.18, False, "p95", NOT_ENOUGH_DATA),  # too wide to tell
        (-0.10, -0.15, -0.05, True, "p95", IMPROVED),
        (-0.10, -0.15, -0.05, True, "rps", REGRESSED),  # less throughput is worse
        (0.10, 0.05, 0.15, True, "rps", IMPROVED),
    ],
)
def test_verdicts(change, low, high, significant, metric, verdict):
    c = MetricChange(metric, 1.0, 1.0, change=change, low=low, high=high)
    c.significant = significant
    _decide(c, 0.05, 0.001)
    assert c.verdict == verdict


def test_detectable_change_shrinks_with_longer_runs():
    short = compare_runs(make_record(seconds=30, seed=1), make_record(seconds=30, seed=2))
    long = compare_runs(make_record(seconds=240, seed=1), make_record(seconds=240, seed=2))
    d_short = short.rows[-1].metrics["p95"].detectable
    d_long = long.rows[-1].metrics["p95"].detectable
    assert d_short is not None and d_long is not None
    assert d_long < d_short
    assert math.isfinite(d_long)


def test_short_runs_of_a_steady_target_are_unchanged():
    """Ten seconds against a target that holds its delay (1% jitter): enough to say unchanged,
    with one name or two."""
    for names in ((("GET", "/"),), (("GET", "/"), ("GET", "/item"))):
        a = make_record(seconds=10, rate=400, jitter=0.01, seed=1, names=names)
        b = make_record(seconds=10, rate=400, jitter=0.01, seed=2, names=names)
        comparison = compare_runs(a, b)
        assert comparison.verdict == UNCHANGED, [
            (row.label, m, c.verdict, c.low, c.high)
            for row in comparison.rows
            for m, c in row.metrics.items()
        ]
