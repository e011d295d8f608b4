"""How precisely one run measured each figure: a circular block bootstrap over its seconds.

A run's p95 is one number, but another run of the same build would give another. How far apart
they may fall is not what a formula for independent samples says: requests within a run are
autocorrelated (a slow second is slow for many requests at once), so 50,000 requests may carry
the information of a few dozen independent observations. The bootstrap here resamples whole
blocks of consecutive seconds, long enough that the slow and fast spells of the target stay
inside them, and recomputes each figure from the merged histograms of the resampled blocks;
the spread of those figures is the run's standard error.

The block length is chosen from the run itself: the shortest length (at least
``MIN_BLOCK_SECONDS``) at which the means of consecutive blocks no longer look correlated,
keeping at least ``MIN_BLOCKS`` blocks. Latency and throughput are estimated on a log scale
(their changes are read as ratios), the failure ratio as it is (its changes are differences).

Costs stay small without NumPy: the histogram of every circular block is kept as a cumulative
count over the buckets the name used, so a percentile of a resample is a binary search in which
each step sums one number per chosen block.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from horde.stats.histogram import bucket_value

__all__ = [
    "LATENCY_METRICS",
    "METRICS",
    "MIN_BLOCKS",
    "MIN_BLOCK_SECONDS",
    "Estimate",
    "NameSeries",
    "RunSeries",
    "estimate_run",
]

LATENCY_METRICS = {"p50": 50.0, "p95": 95.0, "p99": 99.0}
METRICS = ("p50", "p95", "p99", "rps", "fail_ratio")
MIN_BLOCK_SECONDS = 5.0
MIN_BLOCKS = 12
REPLICATES = 300
# The least requests a run needs for each figure: a percentile needs some requests above it.
MIN_REQUESTS = {"p50": 20, "p95": 100, "p99": 500, "rps": 20, "fail_ratio": 20}
MIN_WINDOWS = 3
# A bucket's width is 1/64 of its value: its rounding is an error of sd (1/64)/sqrt(12) on the
# log scale, which no resampling sees (every resample rounds alike).
BUCKET_SD = (1 / 64) / math.sqrt(12)

Key = tuple[str, str]


@dataclass(frozen=True)
class Estimate:
    """One figure of one run: its value, the standard error (of its log for latency and
    throughput), the degrees of freedom of that error, and why there is none when there is
    none (``reason``)."""

    value: float | None
    se: float = 0.0
    dof: float = 1.0
    requests: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "se": self.se, "dof": self.dof, "reason": self.reason}


@dataclass
class NameSeries:
    """One name's requests per window: bucket counts (index -> count) and failures."""

    buckets: list[dict[int, int]]
    failures: list[int]

    @property
    def requests(self) -> int:
        return sum(sum(b.values()) for b in self.buckets)


@dataclass
class RunSeries:
    """A run as a series of windows (usually seconds): their lengths, and each name's data."""

    seconds: list[float]
    names: dict[Key, NameSeries]

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RunSeries:
        """From ``WindowSeries.to_dict()`` as stored in the history."""
        if not data or not data.get("windows"):
            return cls([], {})
        keys = [tuple(k) for k in data["names"]]
        windows = data["windows"]
        n = len(windows)
        names = {(str(k[0]), str(k[1])): NameSeries([{} for _ in range(n)], [0] * n) for k in keys}
        for j, window in enumerate(windows):
            for index, indices, counts, failures in window["rows"]:
                method, name = keys[index]
                series = names[(str(method), str(name))]
                series.buckets[j] = dict(zip(indices, counts, strict=True))
                series.failures[j] = failures
        return cls([float(w["seconds"]) for w in windows], names)

    def block_length(self, key: Key) -> int:
        """Windows per block, from the correlation of ``key``'s per-window mean latency."""
        n = len(self.seconds)
        series = self.names.get(key)
        if series is None or n < 4:
            return 1
        window = sorted(self.seconds)[n // 2] or 1.0
        # At least MIN_BLOCK_SECONDS per block, unless that leaves fewer than 4 blocks (a short
        # run: its few blocks then give few degrees of freedom, and wide intervals, honestly).
        length = min(max(1, math.ceil(MIN_BLOCK_SECONDS / window)), max(1, n // 4))
        longest = max(1, n // MIN_BLOCKS)
        if length >= longest:
            return length
        latency = _log_means(series.buckets)
        volume = [float(sum(b.values())) for b in series.buckets]
        while length < longest:
            if not (_correlated(latency, length) or _correlated(volume, length)):
                return length
            length = min(longest, max(length + 1, math.ceil(length * 1.5)))
        return longest


def _log_means(buckets: list[dict[int, int]]) -> list[float]:
    """Each window's mean log latency (the previous window's where one had no request)."""
    out: list[float] = []
    last = 0.0
    for counts in buckets:
        total = sum(counts.values())
        if total:
            last = sum(math.log(max(1, bucket_value(i))) * c for i, c in counts.items()) / total
        out.append(last)
    return out


def _correlated(values: Sequence[float], length: int) -> bool:
    """Whether consecutive block means of ``values`` are clearly correlated (lag-1
    autocorrelation above the 95% band of an uncorrelated series)."""
    blocks = [
        sum(values[i : i + length]) / length for i in range(0, len(values) - length + 1, length)
    ]
    k = len(blocks)
    if k < 4:
        return False
    mean = sum(blocks) / k
    centred = [b - mean for b in blocks]
    variance = sum(c * c for c in centred)
    if variance <= 0:
        return False
    r1 = sum(a * b for a, b in itertools.pairwise(centred)) / variance
    return r1 > 2.0 / math.sqrt(k)


def estimate_run(
    run: RunSeries, seed: int = 0, replicates: int = REPLICATES, block_length: int | None = None
) -> dict[Key, dict[str, Estimate]]:
    """Every figure of every name of a run, each with its standard error (``block_length``
    forces the windows per block: the benchmark uses it to show what shorter blocks miss)."""
    from horde.stats.windows import AGGREGATE_KEY

    length = block_length or run.block_length(AGGREGATE_KEY)
    out: dict[Key, dict[str, Estimate]] = {}
    for number, (key, series) in enumerate(sorted(run.names.items())):
        rng = random.Random(seed * 1_000_003 + number)
        out[key] = _estimate_name(run.seconds, series, length, rng, replicates)
    return out


def _estimate_name(
    seconds: list[float], series: NameSeries, length: int, rng: random.Random, replicates: int
) -> dict[str, Estimate]:
    n = len(seconds)
    requests_per_window = [sum(b.values()) for b in series.buckets]
    requests = sum(requests_per_window)
    failures = sum(series.failures)
    total_seconds = sum(seconds)
    used = sorted({i for b in series.buckets for i in b})
    values = [float(bucket_value(i)) / 1000.0 for i in used]  # ms
    point: dict[str, float | None] = {}
    full = [0] * len(used)
    position = {index: p for p, index in enumerate(used)}
    for counts in series.buckets:
        for i, c in counts.items():
            full[position[i]] += c
    cumulative_full = _cumulate(full)
    for metric, q in LATENCY_METRICS.items():
        point[metric] = _percentile(cumulative_full, values, requests, q) if requests else None
    point["rps"] = requests / total_seconds if total_seconds > 0 else None
    point["fail_ratio"] = failures / requests if requests else None

    active = sum(1 for r in requests_per_window if r)
    reasons: dict[str, str | None] = {}
    for metric in METRICS:
        if n < MIN_WINDOWS or active < MIN_WINDOWS:
            reasons[metric] = f"only {active} second{'s' if active != 1 else ''} with requests"
        elif requests < MIN_REQUESTS[metric]:
            reasons[metric] = f"{requests} requests (at least {MIN_REQUESTS[metric]} needed)"
        else:
            reasons[metric] = None
    if all(reasons[m] is not None for m in METRICS):
        return {m: Estimate(point[m], requests=requests, reason=reasons[m]) for m in METRICS}

    # Circular blocks: block j covers windows j .. j+length-1 (mod n).
    length = max(1, min(length, n))
    dense = []
    for counts in series.buckets:
        row = [0] * len(used)
        for i, c in counts.items():
            row[position[i]] += c
        dense.append(row)
    blocks_cumulative: list[list[int]] = []
    blocks_requests: list[int] = []
    blocks_failures: list[int] = []
    blocks_seconds: list[float] = []
    running = [0] * len(used)
    for j in range(length):
        running = [a + b for a, b in zip(running, dense[j % n], strict=True)]
    r = sum(requests_per_window[j % n] for j in range(length))
    f = sum(series.failures[j % n] for j in range(length))
    s = sum(seconds[j % n] for j in range(length))
    for j in range(n):
        blocks_cumulative.append(_cumulate(running))
        blocks_requests.append(r)
        blocks_failures.append(f)
        blocks_seconds.append(s)
        leaving, entering = j, (j + length) % n
        running = [
            a - b + c for a, b, c in zip(running, dense[leaving], dense[entering], strict=True)
        ]
        r += requests_per_window[entering] - requests_per_window[leaving]
        f += series.failures[entering] - series.failures[leaving]
        s += seconds[entering] - seconds[leaving]

    draws = math.ceil(n / length)
    samples: dict[str, list[float]] = {m: [] for m in METRICS}
    degenerate = 0
    for _ in range(replicates):
        chosen = [rng.randrange(n) for _ in range(draws)]
        req = sum(blocks_requests[j] for j in chosen)
        sec = sum(blocks_seconds[j] for j in chosen)
        if req <= 0 or sec <= 0:
            degenerate += 1
            continue
        cumulatives = [blocks_cumulative[j] for j in chosen]
        for metric, q in LATENCY_METRICS.items():
            rank = max(1, math.ceil(q * req / 100.0))
            samples[metric].append(math.log(values[_search(cumulatives, rank)]))
        samples["rps"].append(math.log(req / sec))
        samples["fail_ratio"].append(sum(blocks_failures[j] for j in chosen) / req)
    dof = max(1.0, n / length - 1.0)
    out: dict[str, Estimate] = {}
    for metric in METRICS:
        value = point[metric]
        reason = reasons[metric]
        if reason is None and degenerate > replicates // 10:
            reason = "too few seconds with requests to resample"
        if reason is None and metric != "fail_ratio" and not value:
            reason = "no value to compare"
        if reason is not None:
            out[metric] = Estimate(value, requests=requests, reason=reason)
            continue
        se = _sd(samples[metric])
        if metric in LATENCY_METRICS:
            se = math.sqrt(se * se + BUCKET_SD * BUCKET_SD)
        out[metric] = Estimate(value, se, dof, requests)
    return out


def _cumulate(counts: list[int]) -> list[int]:
    total = 0
    out = []
    for c in counts:
        total += c
        out.append(total)
    return out


def _percentile(cumulative: list[int], values: list[float], total: int, q: float) -> float:
    rank = max(1, math.ceil(q * total / 100.0))
    return values[min(len(values) - 1, bisect.bisect_left(cumulative, rank))]


def _search(cumulatives: list[list[int]], rank: int) -> int:
    """The first bucket at which the summed cumulative counts reach ``rank``."""
    low, high = 0, len(cumulatives[0]) - 1
    while low < high:
        middle = (low + high) // 2
        if sum(c[middle] for c in cumulatives) >= rank:
            high = middle
        else:
            low = middle + 1
    return low


def _sd(values: list[float]) -> float:
    k = len(values)
    if k < 2:
        return 0.0
    mean = sum(values) / k
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (k - 1))
