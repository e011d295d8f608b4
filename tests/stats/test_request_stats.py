"""Rows, the aggregate, failures, exceptions, ticks, history and merges."""

import pytest

from horde.stats import RequestStats, StatsEntry
from horde.stats.history import StatsHistory


def test_record_updates_the_row_and_the_aggregate():
    stats = RequestStats()
    home = stats.entry("GET", "/")
    assert stats.entry("GET", "/") is home
    home.record(10_000, 100)
    home.record(30_000, 300)
    stats.record("POST", "/form", 5_000, 10, error="HTTPError: 403 Forbidden")
    assert home.num_requests == 2
    assert home.avg_response_time == 20.0
    assert home.min_response_time == 10_000
    assert home.avg_content_length == 200
    assert stats.total.num_requests == 3
    assert stats.total.num_failures == 1
    assert stats.total.fail_ratio == pytest.approx(1 / 3)
    (error,) = stats.errors.values()
    assert (error.method, error.name, error.occurrences) == ("POST", "/form", 1)


def test_errors_group_without_memory_addresses():
    stats = RequestStats()
    entry = stats.entry("GET", "/")
    for _ in range(3):
        entry.record(1, 0)
        entry.record_failure(RuntimeError(f"object at {hex(id(object()))} broke"))
    (error,) = stats.errors.values()
    assert error.occurrences == 3
    assert error.error == "RuntimeError: object at 0x... broke"


def test_exceptions_grouped_by_traceback():
    stats = RequestStats()
    for _ in range(2):
        try:
            raise ValueError("bad data")
        except ValueError as exc:
            stats.record_exception(exc, where="Visitor.home")
    (exc,) = stats.exceptions.values()
    assert exc.count == 2
    assert exc.msg == "ValueError: bad data"
    assert "Traceback" in exc.traceback
    assert exc.where == "Visitor.home"


def test_reset_keeps_row_objects():
    stats = RequestStats()
    row = stats.entry("GET", "/")
    row.record(1000, 1)
    stats.tick(stats.start_time + 1, 1)
    stats.reset()
    assert stats.entry("GET", "/") is row
    assert row.num_requests == 0
    assert stats.total.num_requests == 0
    assert len(stats.history) == 0
    row.record(1000, 1)
    assert stats.total.num_requests == 1


def test_ticks_give_current_rates_and_a_history_row_per_second():
    stats = RequestStats()
    t0 = stats.start_time
    row = stats.entry("GET", "/")
    for second in range(1, 16):
        for _ in range(100 if second <= 5 else 10):
            row.record(2000 if second <= 5 else 50_000, 0)
        stats.tick(t0 + second, user_count=7)
    # The last ten seconds had 10 requests a second at 50 ms.
    assert row.current_rps == pytest.approx(10.0)
    assert stats.current_percentile(0.5) == pytest.approx(50.0, rel=0.01)
    assert len(stats.history) == 15
    first, last = stats.history.rows[0], stats.history.rows[-1]
    assert (first["requests"], first["rps"], first["user_count"]) == (100, 100.0, 7)
    assert first["p50"] == pytest.approx(2.0, rel=0.01)
    assert last["p99"] == pytest.approx(50.0, rel=0.01)
    assert last["total_requests"] == 600


def test_history_stays_bounded_and_covers_the_whole_run():
    history = StatsHistory(capacity=100)
    for second in range(1000):
        history.append(
            {
                "timestamp": float(second),
                "seconds": 1.0,
                "requests": 10,
                "failures": 1,
                "rps": 10.0,
                "fail_per_sec": 1.0,
                "percentiles": [1.0] * 11,
                "p50": 1.0,
                "p95": 1.0,
                "p99": 1.0,
                "user_count": 1,
            }
        )
    assert len(history) <= 100
    assert history.rows[0]["timestamp"] == 0.0
    assert sum(r["seconds"] for r in history.rows) == 1000
    assert sum(r["requests"] for r in history.rows) == 10_000
    assert all(r["rps"] == pytest.approx(10.0) for r in history.rows)


def test_merge_and_wire_roundtrip_are_exact():
    a, b, both = RequestStats(), RequestStats(), RequestStats()
    for i in range(1, 500):
        target = a if i % 2 else b
        for stats in (target, both):
            stats.record("GET", f"/p{i % 3}", i * 37, i, error="boom" if i % 50 == 0 else None)
    merged = RequestStats()
    merged.merge_dict(a.to_dict())
    merged.merge(RequestStats.from_dict(b.to_dict()))
    assert merged.total.histogram.counts == both.total.histogram.counts
    assert merged.total.num_failures == both.total.num_failures
    for key, entry in both.entries.items():
        assert merged.entries[key].histogram.counts == entry.histogram.counts
        assert merged.entries[key].total_content_length == entry.total_content_length
    assert {k: e.occurrences for k, e in merged.errors.items()} == {
        k: e.occurrences for k, e in both.errors.items()
    }
    clone = StatsEntry.from_dict(both.total.to_dict())
    assert clone.histogram.counts == both.total.histogram.counts
