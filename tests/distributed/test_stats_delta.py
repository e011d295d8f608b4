"""Deltas: what workers send every second adds up exactly to what one process would have seen."""

import random

import pytest

from horde.distributed.protocol import Report, decode, encode
from horde.distributed.stats_delta import DeltaTaker, merge_delta
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(180)

QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999, 1.0]


def record(stats: RequestStats, rng: random.Random, n: int) -> None:
    for _ in range(n):
        name = rng.choice(["/", "/about", "/api"])
        entry = stats.entry("GET", name)
        entry.record(int(rng.lognormvariate(9, 1)), rng.randint(0, 2000))
        if rng.random() < 0.05:
            entry.record_failure(f"HTTPError: {rng.choice([500, 503])}")
    if rng.random() < 0.5:
        try:
            raise ValueError("scenario bug")
        except ValueError as exc:
            stats.record_exception(exc, where="task")


def test_merged_deltas_equal_one_process_seeing_every_request():
    rng = random.Random(7)
    workers = [RequestStats() for _ in range(3)]
    takers = [DeltaTaker(s) for s in workers]
    reference, master = RequestStats(), RequestStats()
    counted = 0
    for _second in range(10):
        for worker, taker in zip(workers, takers, strict=True):
            seed = rng.random()
            record(worker, random.Random(seed), 300)
            record(reference, random.Random(seed), 300)
            delta = taker.take()
            # Over the wire, as a report.
            delta = decode(encode(Report("running", 1, {}, 0.0, delta))).stats
            requests, _failures = merge_delta(master, delta)
            counted += requests
    assert counted == reference.total.num_requests == master.total.num_requests == 9000
    for mine, theirs in [(master.total, reference.total)] + [
        (master.entries[k], reference.entries[k]) for k in reference.entries
    ]:
        assert mine.num_requests == theirs.num_requests
        assert mine.num_failures == theirs.num_failures
        assert mine.total_content_length == theirs.total_content_length
        assert mine.min_response_time == theirs.min_response_time
        assert mine.max_response_time == theirs.max_response_time
        assert mine.histogram.counts == theirs.histogram.counts
        for q in QUANTILES:
            assert mine.get_response_time_percentile(q) == theirs.get_response_time_percentile(q)
    assert {k: e.occurrences for k, e in master.errors.items()} == {
        k: e.occurrences for k, e in reference.errors.items()
    }
    assert sum(e.count for e in master.exceptions.values()) == sum(
        e.count for e in reference.exceptions.values()
    )


def test_take_clears_but_rows_held_by_clients_keep_recording():
    stats = RequestStats()
    taker = DeltaTaker(stats)
    row = stats.entry("GET", "/")
    assert taker.take() is None
    row.record(1000, 10)
    first = taker.take()
    assert first is not None and first["total"]["histogram"]["count"] == 1
    assert stats.total.num_requests == 0
    row.record(2000, 10)
    assert taker.take()["total"]["histogram"]["count"] == 1
    assert taker.take() is None


def test_empty_rows_are_not_sent():
    stats = RequestStats()
    taker = DeltaTaker(stats)
    stats.entry("GET", "/idle")
    stats.entry("GET", "/busy").record(500, 1)
    delta = taker.take()
    assert [e["name"] for e in delta["entries"]] == ["/busy"]


def test_deltas_of_many_workers_merge_like_their_recorded_stats_even_read_between_merges():
    """300 workers x 3 seconds through the wire form equal the recorded stats added bucket by
    bucket; reading percentiles mid-way (which flushes the master's packed stage) changes
    nothing, and the counts of the busiest buckets exceed what one byte holds."""
    rng = random.Random(11)
    master, reference = RequestStats(), RequestStats()
    for second in range(3):
        for worker in range(300):
            stats = RequestStats()
            taker = DeltaTaker(stats)
            shape = rng.choice([(9, 1), (7, 2), (11, 0.3)])  # narrow, wide, slow
            for _ in range(rng.randint(1, 400)):
                entry = stats.entry("GET", rng.choice(["/", "/a", "/b"]))
                entry.record(int(rng.lognormvariate(*shape)), 100)
            if worker % 7 == 0:
                stats.entry("GET", "/hot").histogram.record_n(1234, 300)  # 2-byte counts
            reference.merge(stats)
            delta = decode(encode(Report("running", 1, {}, 0.0, taker.take()))).stats
            merge_delta(master, delta)
            if worker == 150:
                assert master.total.get_response_time_percentile(0.99) > 0
        assert master.total.num_requests == reference.total.num_requests, second
    for key, theirs in [*reference.entries.items(), (None, reference.total)]:
        mine = master.total if key is None else master.entries[key]
        assert mine.histogram.counts == theirs.histogram.counts, key
        assert mine.num_requests == theirs.num_requests
        assert mine.histogram.total == theirs.histogram.total
        assert (mine.min_response_time, mine.max_response_time) == (
            theirs.min_response_time,
            theirs.max_response_time,
        )
        for q in QUANTILES:
            assert mine.get_response_time_percentile(q) == theirs.get_response_time_percentile(q)
