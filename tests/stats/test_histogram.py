"""The histogram against exact percentiles of the same data."""

import math
import random

import pytest

from horde.stats.histogram import BUCKETS, MAX_INDEX, Histogram, bucket_index, bucket_value

QS = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99]


def exact(values, q):
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def distributions():
    rng = random.Random(20261125)
    yield "uniform", [rng.randint(1000, 500_000) for _ in range(50_000)]
    yield "lognormal", [int(rng.lognormvariate(9, 1.2)) for _ in range(50_000)]
    yield (
        "bimodal 5ms/200ms",
        [
            int(rng.gauss(5000, 300)) if rng.random() < 0.9 else int(rng.gauss(200_000, 8000))
            for _ in range(50_000)
        ],
    )
    yield "small", [rng.randint(0, 127) for _ in range(10_000)]
    yield "huge", [rng.randint(10**9, 10**11) for _ in range(10_000)]


@pytest.mark.parametrize(("label", "values"), list(distributions()))
def test_percentiles_within_one_percent_of_exact(label, values):
    h = Histogram()
    for v in values:
        h.record(v)
    assert h.count == len(values)
    assert h.total == sum(values)
    assert h.min == min(values)
    assert h.max == max(values)
    assert h.percentile(0) == min(values)
    assert h.percentile(100) == max(values)
    for q, got in zip(QS, h.percentiles(QS), strict=True):
        truth = exact(values, q)
        assert abs(got - truth) <= 0.01 * truth, (label, q, got, truth)


def test_every_value_maps_into_its_bucket_with_bounded_error():
    for v in [*range(0, 5000), *(2**k + d for k in range(12, 37) for d in (-1, 0, 1))]:
        rep = bucket_value(bucket_index(v))
        assert abs(rep - v) <= v / 128 + 0.5


def test_values_beyond_the_range_are_clamped_but_max_is_true():
    h = Histogram()
    h.record(2**45)
    assert h.counts[BUCKETS - 1] == 1
    assert h.max == 2**45
    assert h.percentile(50) == 2**45  # clamped into [min, max]


def test_merge_equals_the_histogram_of_the_union():
    rng = random.Random(7)
    a_values = [rng.randint(1, 10**6) for _ in range(5000)]
    b_values = [rng.randint(1, 10**7) for _ in range(5000)]
    a, b, union = Histogram(), Histogram(), Histogram()
    for v in a_values:
        a.record(v)
        union.record(v)
    for v in b_values:
        b.record(v)
        union.record(v)
    a.merge(b)
    assert a.counts == union.counts
    assert (a.count, a.total, a.min, a.max) == (union.count, union.total, union.min, union.max)


def test_subtract_gives_the_values_recorded_since_the_copy():
    h = Histogram()
    for v in range(1000, 2000):
        h.record(v)
    older = h.copy()
    for v in range(50_000, 50_100):
        h.record(v)
    delta = h.subtract(older)
    assert delta.count == 100
    assert delta.total == sum(range(50_000, 50_100))
    assert 49_600 <= delta.percentile(50) <= 50_500


def test_wire_roundtrip_is_exact():
    h = Histogram()
    for v in (0, 5, 300, 300, 10**6, 2**40):
        h.record(v)
    clone = Histogram.from_wire(h.to_wire())
    assert clone.counts == h.counts
    assert (clone.count, clone.total, clone.min, clone.max) == (h.count, h.total, h.min, h.max)
    assert Histogram.from_wire(Histogram().to_wire()).count == 0


def same(a: Histogram, b: Histogram) -> bool:
    return a.counts == b.counts and (a.count, a.total, a.min, a.max) == (
        b.count,
        b.total,
        b.min,
        b.max,
    )


def test_wire_form_is_a_few_runs_and_merges_exactly():
    rng = random.Random(3)
    a, b = Histogram(), Histogram()
    for _ in range(2000):
        a.record(int(rng.lognormvariate(9.9, 0.6)))
        b.record(int(rng.lognormvariate(7, 2)))
    b.record(0)
    b.record(2**40)  # the last bucket, far from the others: a run of its own
    wire = b.to_wire()
    assert wire["width"] == 1
    assert 2 <= len(wire["runs"]) < 10
    assert wire["runs"][-1] == [MAX_INDEX, b"\x01"]
    assert len(a.to_wire()["runs"]) <= 2
    merged = a.copy()
    merged.merge_wire(wire)
    merged.record(12_345)  # the request path, between merges, adds to the same buckets
    merged.merge_wire(a.to_wire())
    expected = a.copy()
    expected.merge(b)
    expected.record(12_345)
    expected.merge(a)
    assert same(merged, expected)
    assert merged.percentiles([50, 99, 99.9]) == expected.percentiles([50, 99, 99.9])


@pytest.mark.parametrize(("n", "width"), [(300, 2), (70_000, 4), (2**33, 8)])
def test_counts_too_large_for_two_bytes_travel_wider(n, width):
    h = Histogram()
    h.record_n(1000, n)
    h.record(50)
    wire = h.to_wire()
    assert wire["width"] == width
    assert same(Histogram.from_wire(wire), h)


def test_the_packed_stage_never_overflows_a_bucket():
    h = Histogram()
    h.record_n(1000, 2**31 + 5)  # a whole run's worth in one bucket: 4-byte counts
    wire = h.to_wire()
    merged = Histogram()
    for _ in range(3):  # 3 * (2**31 + 5) values: more than 32 bits can count
        merged.merge_wire(wire)
    assert merged.counts[bucket_index(1000)] == 3 * (2**31 + 5)
    assert merged.count == 3 * (2**31 + 5)


def test_a_run_outside_the_buckets_is_refused():
    h = Histogram()
    bad = {"width": 2, "runs": [[BUCKETS - 1, b"\x01\x00\x01\x00"]], "count": 2, "total": 2,
           "min": 1, "max": 1}  # fmt: skip
    with pytest.raises(ValueError, match="outside"):
        h.merge_wire(bad)
    with pytest.raises(ValueError, match="bytes"):
        h.merge_wire({**bad, "width": 3})


def test_record_n_and_reset():
    h = Histogram()
    h.record_n(1000, 10)
    assert (h.count, h.total, h.min, h.max) == (10, 10_000, 1000, 1000)
    h.reset()
    assert (h.count, h.total, h.min, h.max, sum(h.counts)) == (0, 0, 0, 0, 0)
    assert h.percentile(99) == 0


@pytest.mark.parametrize(("label", "values"), list(distributions()))
def test_the_request_path_buckets_exactly_as_the_measured_histogram(label, values):
    # What production records through (StatsEntry.record, for a row and the aggregate) must be
    # the histogram the accuracy tests above measure, bucket for bucket.
    from horde.stats import RequestStats

    stats = RequestStats()
    row = stats.entry("GET", "/")
    measured = Histogram()
    for v in values:
        row.record(v, 0)
        measured.record(v)
    assert row.histogram.counts == measured.counts
    assert stats.total.histogram.counts == measured.counts
    assert (row.histogram.count, row.histogram.total) == (measured.count, measured.total)
    assert (row.histogram.min, row.histogram.max) == (measured.min, measured.max)
    for q, got in zip(QS, row.histogram.percentiles(QS), strict=True):
        truth = exact(values, q)
        assert abs(got - truth) <= 0.01 * truth, (label, q, got, truth)


def test_an_http_request_is_bucketed_by_the_one_bucket_index(monkeypatch):
    # The HTTP session records through the Recorder into StatsEntry.record, which buckets
    # with histogram.bucket_index: spy on it while one real request is recorded.
    import uvloop

    from horde.http import HttpSession
    from horde.stats import RequestStats, entries
    from tests.http.servers import TestServer

    seen = []

    def spy(value):
        seen.append(value)
        return bucket_index(value)

    monkeypatch.setattr(entries, "bucket_index", spy)

    async def go(url):
        stats = RequestStats()
        client = HttpSession(url, recorder=stats)
        await client.get("/")
        client.close()
        return stats

    with TestServer() as server:
        stats = uvloop.run(go(server.url))
    assert seen == [stats.total.histogram.max]
    assert stats.total.histogram.counts[bucket_index(seen[0])] == 1


def test_bucket_bounds_agree_with_the_index():
    from horde.stats.histogram import LINEAR_LIMIT, SUB_BUCKETS, bucket_high, bucket_low

    assert (LINEAR_LIMIT, SUB_BUCKETS) == (128, 64)
    for index in range(BUCKETS - 1):
        assert bucket_index(bucket_low(index)) == index
        assert bucket_index(bucket_high(index)) == index
        assert bucket_high(index) + 1 == bucket_low(index + 1)
