"""The exposition itself, on stats filled through the request path: exact buckets, the format
Prometheus's parser reads, escaping, and what a scrape of 100 names looks like."""

from __future__ import annotations

import random

from prometheus_client.parser import text_string_to_metric_families

from horde.metrics import RunInfo, collect
from horde.metrics.families import BOUNDS_SECONDS, BOUNDS_US
from horde.metrics.prometheus import render
from horde.runner.environment import Environment
from horde.stats.histogram import bucket_index, bucket_low


def _environment() -> Environment:
    return Environment(user_classes=[], host="http://127.0.0.1:1")


def test_every_bound_is_the_first_value_of_one_of_hordes_buckets():
    for bound in BOUNDS_US:
        assert bucket_low(bucket_index(bound)) == bound
    assert BOUNDS_SECONDS[0] == 0.000125 and BOUNDS_SECONDS[-1] == 65.536


def test_bucket_counts_are_exact_counts_of_faster_requests():
    env = _environment()
    rng = random.Random(17)
    # Values on both sides of every bound, and spread over the whole range.
    values = [b + d for b in BOUNDS_US for d in (-1, 0, 1)]
    values += [int(rng.lognormvariate(8, 2.5)) for _ in range(20_000)]
    values += [0, 2**40]
    for v in values:
        env.stats.entry("GET", "/a").record(v, 10)
    families = {
        f.name: f for f in text_string_to_metric_families(render(collect(env, RunInfo("headless"))))
    }
    buckets = {
        s.labels["le"]: s.value
        for s in families["horde_response_time_seconds"].samples
        if s.name.endswith("_bucket")
    }
    for bound_us, bound_s in zip(BOUNDS_US, BOUNDS_SECONDS, strict=True):
        # A recorded value is whole µs, truncated: below the bound means faster than it.
        assert buckets[repr(bound_s)] == sum(v < bound_us for v in values), bound_s
    assert buckets["+Inf"] == len(values)
    count = [
        s for s in families["horde_response_time_seconds"].samples if s.name.endswith("_count")
    ]
    assert count[0].value == len(values)
    total = [s for s in families["horde_response_time_seconds"].samples if s.name.endswith("_sum")]
    assert abs(total[0].value - sum(values) / 1e6) < 1e-6 * sum(values) / 1e6


def test_names_with_quotes_and_newlines_survive_the_parser():
    env = _environment()
    odd = 'a "quoted" \\ name\nwith a newline'
    env.stats.record("POST", odd, 1500, 0, error="HTTP 500")
    env.stats.record("GET", "/ok", 900, 0)
    families = {
        f.name: f
        for f in text_string_to_metric_families(render(collect(env, RunInfo("headless", "x.py"))))
    }
    requests = {
        (s.labels["method"], s.labels["name"]): s.value for s in families["horde_requests"].samples
    }
    assert requests == {("POST", odd): 1, ("GET", "/ok"): 1}
    failures = {s.labels["name"]: s.value for s in families["horde_request_failures"].samples}
    assert failures == {odd: 1, "/ok": 0}
    info = families["horde_run_info"].samples[0].labels
    assert info["mode"] == "headless" and info["scenario"] == "x.py" and len(info["run_id"]) == 12


def test_the_aggregate_is_not_exported_twice():
    env = _environment()
    for i in range(100):
        env.stats.record("GET", f"/page/{i}", 1000 + i, 0)
    text = render(collect(env, RunInfo("headless")))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert sum(s.value for s in families["horde_requests"].samples) == 100
    assert "Aggregated" not in text
