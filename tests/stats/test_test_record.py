"""What the web UI shows about a test beyond the counts: when each failure was first and last
seen (also across workers), a "Reset stats" that keeps the history, markers and peak load, and a
new test that starts them all afresh."""

import time

from horde.stats import RequestStats


def fail(stats, name="/", error="boom"):
    stats.entry("GET", name).record(1_000, 0)
    stats.entry("GET", name).record_failure(error)


def test_failures_remember_when_they_were_first_and_last_seen():
    stats = RequestStats()
    before = time.time()
    fail(stats)
    time.sleep(0.02)
    fail(stats)
    (error,) = stats.errors.values()
    assert before <= error.first_seen < error.last_seen <= time.time()
    assert error.to_dict()["first_seen"] == error.first_seen


def test_a_master_keeps_the_earliest_first_and_the_latest_last_seen():
    early, late = RequestStats(), RequestStats()
    fail(early)
    time.sleep(0.02)
    fail(late)
    fail(late)
    master = RequestStats()
    master.merge_dict(late.to_dict())  # the later worker reports first
    master.merge_dict(early.to_dict())
    (error,) = master.errors.values()
    (first,) = early.errors.values()
    (last,) = late.errors.values()
    assert error.occurrences == 3
    assert (error.first_seen, error.last_seen) == (first.first_seen, last.last_seen)
    merged = RequestStats()
    merged.merge(RequestStats.from_dict(early.to_dict()))
    merged.merge(RequestStats.from_dict(late.to_dict()))
    (error,) = merged.errors.values()
    assert (error.first_seen, error.last_seen) == (first.first_seen, last.last_seen)


def test_reset_counts_keeps_the_history_markers_and_peak():
    stats = RequestStats()
    fail(stats)
    stats.tick(time.time(), user_count=5)
    stats.mark("load", "start: 5 users")
    stats.reset_counts()
    assert stats.total.num_requests == 0 and not stats.errors
    assert len(stats.history) == 1 and stats.peak_user_count == 5
    stats.mark("reset", "stats reset")
    stats.tick(time.time() + 1, user_count=2)
    assert len(stats.history) == 2 and stats.peak_user_count == 5
    assert [m["kind"] for m in stats.markers] == ["load", "reset"]
    # A new test starts from nothing.
    stats.reset()
    assert len(stats.history) == 0 and stats.peak_user_count == 0 and not stats.markers
