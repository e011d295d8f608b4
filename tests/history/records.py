"""Runs made up in memory, for the store's and the comparison's tests: each second's requests
drawn from a known latency distribution, in the form a real run stores."""

from __future__ import annotations

import math
import random
import uuid

from horde.history import RunRecord
from horde.stats.histogram import bucket_index

NAMES = (("GET", "/"), ("GET", "/item"))


def make_record(
    *,
    seconds: int = 120,
    rate: float = 200.0,
    median_ms: float = 20.0,
    jitter: float = 0.3,
    drift: float = 0.0,
    drift_seconds: float = 5.0,
    failure_ratio: float = 0.0,
    scale: float = 1.0,
    seed: int = 1,
    names: tuple[tuple[str, str], ...] = NAMES,
    scenario: str = "shop.py",
    host: str = "http://127.0.0.1:8000",
    started_at: float = 1_800_000_000.0,
    meta: dict | None = None,
) -> RunRecord:
    """A run: ``rate`` requests a second over ``names``, lognormal latencies around
    ``median_ms x scale`` with sd ``jitter`` (log), a shared speed wander of sd ``drift`` over
    ``drift_seconds`` (what makes consecutive requests alike), failures at ``failure_ratio``."""
    rng = random.Random(seed)
    keys = [("", "Aggregated"), *names]
    windows = []
    x = rng.gauss(0, drift) if drift else 0.0
    rho = math.exp(-1 / drift_seconds)
    totals = {key: [0, 0] for key in keys}
    for second in range(seconds):
        if drift:
            x = rho * x + math.sqrt(1 - rho * rho) * rng.gauss(0, drift)
        rows = []
        aggregate: dict[int, int] = {}
        aggregate_failures = 0
        for number, key in enumerate(names, start=1):
            counts: dict[int, int] = {}
            failures = 0
            n = int(rate / len(names))
            for _ in range(n):
                ms = median_ms * scale * math.exp(x + rng.gauss(0, jitter))
                i = bucket_index(int(ms * 1000))
                counts[i] = counts.get(i, 0) + 1
                failures += rng.random() < failure_ratio
            for i, c in counts.items():
                aggregate[i] = aggregate.get(i, 0) + c
            aggregate_failures += failures
            totals[key][0] += n
            totals[key][1] += failures
            order = sorted(counts)
            rows.append([number, order, [counts[i] for i in order], failures])
        order = sorted(aggregate)
        rows.append([0, order, [aggregate[i] for i in order], aggregate_failures])
        totals[keys[0]][0] += sum(aggregate.values())
        totals[keys[0]][1] += aggregate_failures
        windows.append({"start": started_at + second, "seconds": 1.0, "rows": rows})
    requests, failures = totals[keys[0]]
    return RunRecord(
        uuid=uuid.uuid4().hex,
        started_at=started_at,
        ended_at=started_at + seconds,
        scenario=scenario,
        scenario_path=f"/tmp/{scenario}",
        scenario_hash="ab" * 32,
        host=host,
        machine="test",
        git_commit=None,
        git_dirty=None,
        mode="headless",
        load="10 users",
        users=10,
        rate=None,
        requests=requests,
        failures=failures,
        rps=requests / seconds,
        p50=median_ms * scale,
        p95=median_ms * scale * math.exp(1.645 * jitter),
        p99=median_ms * scale * math.exp(2.326 * jitter),
        settings={"users": 10},
        document={"meta": dict(meta or {}), "history": []},
        samples={"windows": {"names": [list(k) for k in keys], "windows": windows,
                             "untracked_names": 0}},
    )  # fmt: skip
