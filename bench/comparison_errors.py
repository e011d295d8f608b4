"""How often does `horde compare` cry wolf, and how often does it catch a real slowdown?

    nice .venv/bin/python bench/comparison_errors.py   # about 15 minutes; writes the docs page
    .venv/bin/python bench/comparison_errors.py --sessions 0 --pairs 100   # simulation only
    .venv/bin/python bench/comparison_errors.py --reuse --pairs 0   # the last real runs again

The two promises of docs/comparing-runs.md, measured at the default run length of 3 minutes:

- A/A: two runs of the same build against the same server are called "regressed" at most 5%
  of the time;
- power: a true 10% slowdown is called "regressed" at least 90% of the time.

The target is bench/latency_server.py's model, in two noise profiles ("steady", "noisy"):
each request's own lognormal jitter, a slow wander of the server's speed shared by consecutive
requests (an Ornstein-Uhlenbeck process: requests within a run are autocorrelated, the trap of
a naive test), and short stop-the-world stalls; 10 closed-loop users, 20 ms base delay, 20 ms
wait, two request names.

Two measurements, because this machine is shared with other work:

1. Simulation, for the rates: many independent pairs of runs drawn from exactly that model (a
   discrete-event closed loop of the same users against the same server logic, each second's
   requests bucketed as horde stores them). The target's noise is the only noise, so the
   rates measure the method and nothing else, with enough pairs to be precise. A/A pairs are
   two runs with different seeds; A/B pairs make every delay of the candidate 10% longer.
2. Real runs, as a check: in each session, three `horde run`s at the same moment against three
   server processes of the profile (each with its own random state): A, A' (the same build)
   and B (made 10% slower with `/__scale?factor=1.1`). Running them together holds the
   machine's own changes (other processes, here) equal for the runs compared, as a quiet
   machine would; the target's noise stays independent. A/A is (A, A'); power is (A, B) and
   (A', B). Replays add power pairs from the same recordings: A against A' with every latency
   of A' made 10% longer (re-bucketed as horde stores it), and the other way round. Their
   counts are small: they check the simulation, they do not replace it. The sessions record
   in a thread while the main thread simulates at a lower priority.

For contrast, the simulated A/A pairs are also judged with two naive error models: requests as
independent samples, and seconds as independent blocks (one-second blocks).
"""

from __future__ import annotations

import argparse
import bisect
import copy
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Any

from doc import results_path, write_block
from serving import start_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from horde.comparison.compare import REGRESSED, compare_runs  # noqa: E402
from horde.comparison.estimate import (  # noqa: E402
    LATENCY_METRICS,
    METRICS,
    MIN_REQUESTS,
    Estimate,
    RunSeries,
    estimate_run,
)
from horde.history import RunRecord, open_store  # noqa: E402
from horde.stats.histogram import bucket_index, bucket_value  # noqa: E402

SCENARIO = """
from horde import HttpUser, constant, task

class Shopper(HttpUser):
    wait_time = constant(0.02)

    @task(3)
    def home(self):
        self.client.get("/")

    @task
    def item(self):
        self.client.get("/item")
"""
PROFILES: dict[str, dict[str, float]] = {
    "steady": {"jitter": 0.3, "drift": 0.05, "drift_time": 5, "stalls": 1, "stall_ms": 150},
    "noisy": {"jitter": 0.3, "drift": 0.10, "drift_time": 10, "stalls": 2, "stall_ms": 300},
}
DELAY_MS = 20.0
WAIT_MS = 20.0
OVERHEAD_MS = 0.4  # what the loopback and the two event loops add to each request, measured
USERS = 10
DEFAULT_LENGTH = 180
LENGTHS = (60, 180, 300, 600)
SLOWDOWN = 1.10
NAMES = (("GET", "/"), ("GET", "/item"))
DRIFT_STEP = 0.1


# Simulation -------------------------------------------------------------------------------------
def simulate_run(profile: str, seconds: int, scale: float, seed: int) -> RunRecord:
    """A run of the scenario against the profile's server, as horde would store it."""
    p = PROFILES[profile]
    rng = random.Random(seed)
    steps = int(seconds / DRIFT_STEP) + 2
    rho = math.exp(-DRIFT_STEP / p["drift_time"])
    x = rng.gauss(0, p["drift"])
    speed = []
    for _ in range(steps):
        x = rho * x + math.sqrt(1 - rho * rho) * rng.gauss(0, p["drift"])
        speed.append(math.exp(x))
    # Stalls: the server answers nothing from a stall's start to its end.
    starts, ends = [], []
    t = rng.expovariate(p["stalls"] / 60) if p["stalls"] else seconds + 1
    while t < seconds:
        starts.append(t)
        ends.append(t + p["stall_ms"] / 1000)
        t += rng.expovariate(p["stalls"] / 60)
    base = DELAY_MS / 1000 * scale
    per_second: list[dict[int, dict[int, int]]] = [{} for _ in range(seconds)]
    for _user in range(USERS):
        t = rng.random() * 0.01
        while True:
            delay = base * speed[int(t / DRIFT_STEP)] * math.exp(rng.gauss(0, p["jitter"]))
            answer = t + delay
            k = bisect.bisect_right(starts, t) - 1  # a stall under way when the request came
            if k >= 0 and ends[k] > answer:
                answer = ends[k]
            done = answer + OVERHEAD_MS / 1000
            if done >= seconds:
                break
            name = 1 if rng.random() < 0.25 else 0
            index = bucket_index(int((done - t) * 1_000_000))
            counts = per_second[int(done)].setdefault(name, {})
            counts[index] = counts.get(index, 0) + 1
            t = done + WAIT_MS / 1000
    return _record(per_second, seconds, f"sim-{profile}-{seed}-{scale:g}")


def _record(per_second: list[dict[int, dict[int, int]]], seconds: int, name: str) -> RunRecord:
    windows = []
    for second, names in enumerate(per_second):
        rows, total = [], {}
        for number, counts in sorted(names.items()):
            order = sorted(counts)
            rows.append([number + 1, order, [counts[i] for i in order], 0])
            for i, c in counts.items():
                total[i] = total.get(i, 0) + c
        order = sorted(total)
        rows.append([0, order, [total[i] for i in order], 0])
        windows.append({"start": float(second), "seconds": 1.0, "rows": rows})
    requests = sum(sum(r[2]) for w in windows for r in w["rows"] if r[0] == 0)
    return RunRecord(
        uuid=name, started_at=0.0, ended_at=float(seconds), scenario="shop.py",
        scenario_path=None, scenario_hash=None, host="sim", machine="sim", git_commit=None,
        git_dirty=None, mode="headless", load=f"{USERS} users", users=USERS, rate=None,
        requests=requests, failures=0, rps=requests / seconds, p50=0.0, p95=0.0, p99=0.0,
        document={"meta": {}},
        samples={"windows": {"names": [["", "Aggregated"], *map(list, NAMES)],
                             "windows": windows, "untracked_names": 0}},
    )  # fmt: skip


# Real sessions ----------------------------------------------------------------------------------
def session(profile: str, number: int, seconds: int, history: Path, workdir: Path) -> None:
    """A, A' and B (10% slower) at the same moment, each against its own server process."""
    servers, procs = [], []
    scenario = workdir / "shop.py"
    scenario.write_text(SCENARIO)
    horde = str(Path(sys.executable).parent / "horde")
    try:
        for kind in ("A", "A2", "B"):
            seed = zlib.crc32(f"{profile}{number}{kind}".encode())
            args = ["--delay", f"{DELAY_MS:g}", "--seed", str(seed)]
            for key, value in PROFILES[profile].items():
                args += [f"--{key.replace('_', '-')}", str(value)]
            server, url = start_server("latency_server.py", *args)
            servers.append(server)
            if kind == "B":
                urllib.request.urlopen(f"{url}/__scale?factor={SLOWDOWN}", timeout=5).read()
            command = [horde, "run", str(scenario), "-H", url, "-u", str(USERS), "-r", "100",
                       "-t", f"{seconds}s", "--headless", "--only-summary",
                       "--history", str(history)]  # fmt: skip
            procs.append((kind, subprocess.Popen(
                command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True,
            )))  # fmt: skip
        # Every run ends before any server stops (or the others would count refusals).
        ended = [(kind, proc, proc.communicate(timeout=seconds + 120)[1]) for kind, proc in procs]
        for kind, proc, err in ended:
            if proc.returncode != 0 or "saved run #" not in err:
                raise RuntimeError(f"horde run {profile}-{number}-{kind} failed: {err}")
            run_id = int(err.split("saved run #")[1].split()[0])
            subprocess.run(
                [horde, "history", "--history", str(history), "--tag",
                 f"{profile}-{number}-{kind}", str(run_id)],
                check=True, capture_output=True, cwd=workdir,
            )  # fmt: skip
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


def slowed(run: RunRecord, factor: float) -> RunRecord:
    """The same run with every latency multiplied by ``factor`` (re-bucketed)."""
    piece = copy.copy(run)
    piece.uuid = run.uuid + f"-x{factor:g}"
    windows = run.samples["windows"]
    moved = []
    for window in windows["windows"]:
        rows = []
        for index, indices, counts, failures in window["rows"]:
            scaled: dict[int, int] = {}
            for i, c in zip(indices, counts, strict=True):
                j = bucket_index(int(bucket_value(i) * factor))
                scaled[j] = scaled.get(j, 0) + c
            order = sorted(scaled)
            rows.append([index, order, [scaled[j] for j in order], failures])
        moved.append({**window, "rows": rows})
    piece.samples = {"windows": {**windows, "windows": moved}}
    return piece


# The naive error model: requests as independent samples (a Poisson bootstrap of the histogram).
def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def independent_estimates(run: RunRecord, seed: int) -> dict[Any, dict[str, Estimate]]:
    series = RunSeries.from_dict(run.samples["windows"])
    seconds = sum(series.seconds)
    out: dict[Any, dict[str, Estimate]] = {}
    rng = random.Random(seed)
    for key, name in series.names.items():
        counts: dict[int, int] = {}
        for b in name.buckets:
            for i, c in b.items():
                counts[i] = counts.get(i, 0) + c
        order = sorted(counts)
        n = sum(counts.values())
        failures = sum(name.failures)
        samples: dict[str, list[float]] = {m: [] for m in LATENCY_METRICS}
        for _ in range(200):
            drawn = [_poisson(rng, counts[i]) for i in order]
            total = sum(drawn)
            for metric, q in LATENCY_METRICS.items():
                rank, seen = max(1, math.ceil(q * total / 100)), 0
                for i, c in zip(order, drawn, strict=True):
                    seen += c
                    if seen >= rank:
                        samples[metric].append(math.log(bucket_value(i)))
                        break
        estimates = {}
        for metric in METRICS:
            if n < MIN_REQUESTS[metric]:
                estimates[metric] = Estimate(None, requests=n, reason="few")
                continue
            if metric in LATENCY_METRICS:
                values = samples[metric]
                mean = sum(values) / len(values)
                se = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
                rank = max(1, math.ceil(LATENCY_METRICS[metric] * n / 100))
                seen = 0
                for i in order:
                    seen += counts[i]
                    if seen >= rank:
                        value = bucket_value(i) / 1000
                        break
                estimates[metric] = Estimate(value, se, 1e6, n)
            elif metric == "rps":
                estimates[metric] = Estimate(n / seconds, 1 / math.sqrt(n), 1e6, n)
            else:
                p = failures / n
                estimates[metric] = Estimate(p, math.sqrt(max(p * (1 - p), 1e-12) / n), 1e6, n)
        out[key] = estimates
    return out


# Analysis -------------------------------------------------------------------------------------
METHODS = ("horde", "one-second blocks", "independent requests")


def estimates_for(run: RunRecord, method: str, seed: int) -> Any:
    series = RunSeries.from_dict(run.samples["windows"])
    if method == "horde":
        return estimate_run(series, seed)
    if method == "one-second blocks":
        return estimate_run(series, seed, block_length=1)
    return independent_estimates(run, seed)


def wilson(k: int, n: int) -> tuple[float, float]:
    if not n:
        return 0.0, 1.0
    z = 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def judge(pairs: list[tuple[RunRecord, RunRecord]], method: str, cache: dict) -> dict[str, Any]:
    regressed = p95_regressed = 0
    detectable: list[float] = []
    for a, b in pairs:
        for run in (a, b):
            if (run.uuid, method) not in cache:
                cache[(run.uuid, method)] = estimates_for(
                    run, method, zlib.crc32(run.uuid.encode())
                )
        result = compare_runs(a, b, estimates=(cache[(a.uuid, method)], cache[(b.uuid, method)]))
        regressed += result.verdict == REGRESSED
        p95 = result.rows[-1].metrics["p95"]
        p95_regressed += p95.verdict == REGRESSED
        if p95.detectable is not None:
            detectable.append(p95.detectable)
    n = len(pairs)
    detectable.sort()
    return {
        "pairs": n,
        "regressed": regressed,
        "rate": regressed / n if n else None,
        "interval": wilson(regressed, n),
        "p95_regressed": p95_regressed,
        "median_detectable_p95": detectable[len(detectable) // 2] if detectable else None,
    }


def simulated(profiles: list[str], lengths: list[int], pairs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    cache: dict = {}
    for profile in profiles:
        for length in lengths:
            n = pairs if length == DEFAULT_LENGTH else max(1, pairs // 2)
            started = time.time()
            seed = zlib.crc32(f"{profile}{length}".encode())
            aa, ab = [], []
            for i in range(n):
                a = simulate_run(profile, length, 1.0, seed + 3 * i)
                aa.append((a, simulate_run(profile, length, 1.0, seed + 3 * i + 1)))
                ab.append((a, simulate_run(profile, length, SLOWDOWN, seed + 3 * i + 2)))
            entry: dict[str, Any] = {"horde": {"aa": judge(aa, "horde", cache),
                                               "ab": judge(ab, "horde", cache)}}  # fmt: skip
            if length == DEFAULT_LENGTH:
                for method in METHODS[1:]:
                    entry[method] = {"aa": judge(aa, method, cache)}
            cache.clear()
            results[f"{profile}/{length}"] = entry
            print(f"simulated {profile} {length} s: {n} pairs in {time.time() - started:.0f} s "
                  f"{json.dumps(entry['horde'], default=str)[:300]}", flush=True)  # fmt: skip
    return results


def real(history: Path, profiles: list[str]) -> dict[str, Any]:
    store = open_store(str(history), create=False)
    try:
        tags = [row[0] for row in store._query("SELECT name FROM horde_tags ORDER BY name")]
        runs = {tag: store.load(store.tagged(tag)) for tag in tags}
    finally:
        store.close()
    results: dict[str, Any] = {}
    cache: dict = {}
    for profile in profiles:
        numbers = sorted({t.split("-")[1] for t in runs if t.startswith(profile + "-")})
        complete = [
            k for k in numbers if all(f"{profile}-{k}-{x}" in runs for x in ("A", "A2", "B"))
        ]
        aa = [(runs[f"{profile}-{k}-A"], runs[f"{profile}-{k}-A2"]) for k in complete]
        ab = [(runs[f"{profile}-{k}-{x}"], runs[f"{profile}-{k}-B"])
              for k in complete for x in ("A", "A2")]  # fmt: skip
        # Replays: each A run against the other A run with every latency made 10% longer.
        replayed = [(a, slowed(b, SLOWDOWN)) for a, b in aa] + [
            (b, slowed(a, SLOWDOWN)) for a, b in aa
        ]
        if aa:
            own = [run for pair in aa for run in pair] + [b for _, b in ab[::2]]
            results[profile] = {
                "sessions": len(complete),
                "aa": judge(aa, "horde", cache),
                "ab": judge(ab, "horde", cache),
                "replayed": judge(replayed, "horde", cache),
                "generator_saturated": saturated_runs(own),
                "p95_ms": sorted(round(run.p95, 1) for run in own),
            }
    return results


def saturated_runs(runs: list[RunRecord]) -> int | None:
    """How many runs said their generator was saturated (None: this horde does not say)."""
    said = [
        run.document.get("meta", {}).get("generator_health", {}).get("saturated") for run in runs
    ]
    known = [value for value in said if value is not None]
    return sum(bool(value) for value in known) if known else None


def percent(part: dict[str, Any] | None) -> str:
    if not part or part["rate"] is None:
        return "-"
    low, high = part["interval"]
    return f"{part['rate']:.1%} ({part['regressed']}/{part['pairs']}; {low:.1%}-{high:.1%})"


def table(sim: dict[str, Any], measured: dict[str, Any], profiles: list[str],
          lengths: list[int], seconds: int) -> str:  # fmt: skip
    lines = [
        "| profile | run length | A/A called regressed | 10% slower called regressed | median "
        "detectable p95 change |",
        "|---|---|---|---|---|",
    ]
    for profile in profiles:
        for length in lengths:
            entry = sim.get(f"{profile}/{length}")
            if not entry:
                continue
            horde = entry["horde"]
            detect = horde["aa"]["median_detectable_p95"]
            lines.append(
                f"| {profile} | {length} s | {percent(horde['aa'])} | {percent(horde['ab'])} | "
                f"{'-' if detect is None else f'{detect:.1%}'} |"
            )
    if measured:
        lines += [
            "",
            f"Real runs of {seconds} s (A, A' and B at the same moment, each against its own "
            "server process); \"replayed\" judges A against A' with every latency of A' made "
            "10% longer, and the other way round:",
            "",
            "| profile | sessions | A/A called regressed | 10% slower called regressed | "
            "replayed 10% slower called regressed | runs whose generator was saturated |",
            "|---|---|---|---|---|---|",
        ]
        for profile in profiles:
            entry = measured.get(profile)
            if entry:
                saturated = entry["generator_saturated"]
                lines.append(
                    f"| {profile} | {entry['sessions']} | {percent(entry['aa'])} | "
                    f"{percent(entry['ab'])} | {percent(entry['replayed'])} | "
                    f"{'not reported' if saturated is None else saturated} |"
                )
    lines += [
        "",
        f"The same simulated A/A pairs of {DEFAULT_LENGTH} s judged with other error models:",
        "",
        "| profile | error model | A/A called regressed |",
        "|---|---|---|",
    ]
    for profile in profiles:
        entry = sim.get(f"{profile}/{DEFAULT_LENGTH}")
        if entry:
            for method in METHODS:
                lines.append(f"| {profile} | {method} | {percent(entry[method]['aa'])} |")
    return "\n".join(lines)


def record_sessions(count: int, seconds: int, profiles: list[str], history: Path) -> None:
    """``count`` sessions one after the other; in each, every profile's three runs together."""
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(count):
            started = time.time()
            threads = []
            for profile in profiles:
                work = Path(tmp) / profile
                work.mkdir(exist_ok=True)
                thread = threading.Thread(
                    target=session, args=(profile, number, seconds, history, work)
                )
                thread.start()
                threads.append(thread)
            for thread in threads:
                thread.join()
            print(f"session {number} in {time.time() - started:.0f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", default=str(Path(tempfile.gettempdir()) / "horde-ab.db"))
    parser.add_argument("--profiles", nargs="*", default=list(PROFILES))
    parser.add_argument("--pairs", type=int, default=200, help="simulated pairs at 3 minutes")
    parser.add_argument("--sessions", type=int, default=4, help="real sessions")
    parser.add_argument("--seconds", type=int, default=DEFAULT_LENGTH, help="real runs' length")
    parser.add_argument("--reuse", action="store_true", help="analyse earlier real sessions")
    parser.add_argument("--lengths", type=int, nargs="*", default=list(LENGTHS))
    parser.add_argument("--no-doc", action="store_true", help="do not write the docs page")
    args = parser.parse_args()
    history = Path(args.history)
    recorder = None
    if args.sessions and not args.reuse:
        history.unlink(missing_ok=True)
        # The real sessions only wait on their processes: they record in a thread while this
        # one simulates, with a lower priority (on Linux a thread's nice value is its own, and
        # the runs are started by the recording thread), so the simulation yields to the runs.
        recorder = threading.Thread(
            target=record_sessions, args=(args.sessions, args.seconds, args.profiles, history)
        )
        recorder.start()
        os.nice(5)
    sim = simulated(args.profiles, args.lengths, args.pairs) if args.pairs else {}
    if recorder is not None:
        recorder.join()
    measured = real(history, args.profiles) if args.sessions else {}
    print(json.dumps(measured, default=str)[:600], flush=True)
    text = table(sim, measured, args.profiles, args.lengths, args.seconds)
    print(text)
    command = " ".join(["bench/comparison_errors.py", *sys.argv[1:]])
    results_path("comparison-errors").write_text(
        json.dumps({"simulated": sim, "real": measured, "command": command,
                    "profiles": PROFILES}, indent=2, default=str)
    )  # fmt: skip
    if not args.no_doc:
        profiles = "; ".join(
            f"{name}: jitter {p['jitter']}, wander {p['drift']} over {p['drift_time']:g} s, "
            f"{p['stalls']:g} stalls a minute of {p['stall_ms']:g} ms"
            for name, p in PROFILES.items()
        )
        write_block(
            "comparison-errors",
            "Measured error rates (bench/comparison_errors.py)",
            f"{USERS} users, two request names, {DELAY_MS:g} ms base delay ({profiles}). "
            "Each rate: the share of pairs called regressed (count/pairs; 95% interval). "
            f"Simulated: independent pairs, {args.pairs} at {DEFAULT_LENGTH} s and half as many "
            f"at the other lengths. Real: {args.sessions} sessions.\n\n" + text,
            command,
            page="comparing-runs.md",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
