"""CPU cost of the master with 8 to 2,000 workers reporting every second, and what it gets right.

    .venv/bin/python bench/distributed_overhead.py [--workers 8,250,500,1000,2000] [--seconds 60]

This process runs the real ``MasterRunner`` on the real transport (ZeroMQ ROUTER, HMAC, msgpack),
pinned to one core. Simulated workers (bench/simulated_workers.py) run in other processes pinned
to the other cores, many per process: each has its own socket and secret-checked messages, joins
with a Hello, obeys Spawn/Stop/Quit, hears heartbeats, and every second sends a Report with a
real stats delta (``--names`` request names, ``--rps`` requests a second, log-normal latencies).

For each number of workers it measures:

- **join**: from the moment every simulated worker says Hello until the master has welcomed them
  all, and the master's CPU time meanwhile; then the spawn (every worker told its users and
  running them);
- **steady state**: the master's CPU time (user + system, all its threads, ZeroMQ's included)
  over ``--seconds`` of wall time, as % of one core; the budget is 25% at 1,000 workers and 50%
  at 2,000 (5% at 8);
- **missing**: how many times the master marked a worker missing (its real 3 s heartbeat
  timeout), and how many times a worker went 10 s without hearing its master;
- **merge exactness**: after the stop, every row of the master's stats (counts, failures,
  content length, every histogram bucket, hence every percentile) equals the seconds the
  workers sent, added up bucket list to bucket list without the wire form;
- **history**: the per-second rows that hold exactly the requests sent in that second (the
  master closes each second 0.3 s after it, so this needs the simulators to send on time; it
  is shown, not judged).

Results go to bench/results/<date>-distributed.json and docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from doc import results_path, write_block
from simulated_workers import SECRET, busy_second, delta_pool

from horde import User, task
from horde.distributed.master import MasterRunner
from horde.distributed.protocol import Report, encode
from horde.distributed.security import Signer
from horde.distributed.transport import MasterTransport
from horde.events import Events
from horde.runner.environment import Environment
from horde.runner.lifecycle import RunnerState
from horde.runner.load import Users
from horde.stats import RequestStats
from horde.stats.history import PERCENTILES

THIS = Path(__file__).resolve()
SIMULATOR = THIS.parent / "simulated_workers.py"
DIGEST = hashlib.sha256(THIS.read_bytes()).hexdigest()
BUDGETS = {8: 5.0, 1000: 25.0, 2000: 50.0}  # % of one core
WORKERS_PER_PROCESS = 500
USERS_PER_WORKER = 10


class Visitor(User):
    @task
    async def nothing(self) -> None:
        pass


class MissingCount(logging.Handler):
    """Counts the master's "marked missing" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "marked missing" in record.getMessage():
            self.count += 1


class ReportDelays:
    """How long after its whole second each report with stats was handled by the master."""

    def __init__(self, master: MasterRunner) -> None:
        self.delays: list[float] = []
        handle = master._handlers[Report]

        def timed(worker_id: str, report: Report) -> None:
            handle(worker_id, report)
            if report.stats:
                self.delays.append(time.time() % 1.0)

        master._handlers[Report] = timed

    def worst(self) -> float:
        return max(self.delays, default=0.0)


# The simulated workers -----------------------------------------------------------------------
async def start_simulators(
    port: int, workers: int, names: int, rps: int, cores: set[int]
) -> list[asyncio.subprocess.Process]:
    processes = []
    for first in range(0, workers, WORKERS_PER_PROCESS):
        count = min(WORKERS_PER_PROCESS, workers - first)
        command = [str(SIMULATOR), "--port", str(port), "--first", str(first)]
        command += ["--count", str(count), "--digest", DIGEST, "--names", str(names)]
        command += ["--rps", str(rps), "--max-seconds", "900"]
        child = await asyncio.create_subprocess_exec(
            sys.executable, *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        os.sched_setaffinity(child.pid, cores)
        processes.append(child)
    return processes


async def read_line(child: asyncio.subprocess.Process, timeout: float) -> str:
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), timeout)
    if not line:
        raise SystemExit(f"simulated workers (pid {child.pid}) exited early")
    return line.decode()


def progress(workers: int, stage: str) -> None:
    print(f"{workers} workers: {stage}", file=sys.stderr, flush=True)


# The checks ----------------------------------------------------------------------------------
def scaled(stats: RequestStats, times: int) -> RequestStats:
    """``stats`` recorded ``times`` times over (in place): bucket counts times ``times``."""
    for entry in [*stats.entries.values(), stats.total]:
        h = entry.histogram
        h.counts = [n * times for n in h.counts]
        h.count *= times
        h.total *= times
        entry.num_failures *= times
        entry.total_content_length *= times
    for error in stats.errors.values():
        error.occurrences *= times
    return stats


def differences(merged: RequestStats, sent: RequestStats) -> list[str]:
    """Where the master's totals differ from what the workers sent; empty when exact."""
    found = []
    keys = set(merged.entries) | set(sent.entries)
    pairs = [(k, merged.entries.get(k), sent.entries.get(k)) for k in sorted(keys)]
    pairs.append((("", "Aggregated"), merged.total, sent.total))
    qs = [q * 100 for q in PERCENTILES]
    for key, mine, theirs in pairs:
        if mine is None or theirs is None:
            found.append(f"{key}: only on one side")
            continue
        a, b = mine.histogram, theirs.histogram
        if (a.count, a.total, a.min, a.max) != (b.count, b.total, b.min, b.max):
            found.append(f"{key}: count/sum/min/max {a.count} vs {b.count}")
        if a.counts != b.counts or a.percentiles(qs) != b.percentiles(qs):
            found.append(f"{key}: histogram buckets differ")
        if (mine.num_failures, mine.total_content_length) != (
            theirs.num_failures,
            theirs.total_content_length,
        ):
            found.append(f"{key}: failures or content length differ")
    errors = {k: e.occurrences for k, e in merged.errors.items()}
    if errors != {k: e.occurrences for k, e in sent.errors.items()}:
        found.append("failure groups differ")
    return found


def history_check(stats: RequestStats, by_second: dict[int, int]) -> tuple[int, int]:
    """(seconds whose history row holds exactly the requests sent in it, regular rows)."""
    rows = [r for r in stats.history.rows if float(r["timestamp"]).is_integer()]
    exact = sum(1 for r in rows if r["requests"] == by_second.get(int(r["timestamp"]), 0))
    return exact, len(rows)


# One measurement -----------------------------------------------------------------------------
async def measure(
    workers: int, names: int, rps: int, seconds: float, sim_cores: set[int]
) -> dict[str, Any]:
    environment = Environment(user_classes=[Visitor], stats=RequestStats(), events=Events())
    transport = MasterTransport(Signer(SECRET), "127.0.0.1", 0)
    master = MasterRunner(environment, transport, DIGEST)
    missing = MissingCount()
    logging.getLogger("horde.distributed").addHandler(missing)
    delays = ReportDelays(master)
    master.serve()
    simulators = await start_simulators(transport.port, workers, names, rps, sim_cores)
    sims_started = time.monotonic()
    closed = False
    try:
        for child in simulators:
            await read_line(child, 120)  # "ready": sockets made
        progress(workers, "joining")
        cpu0, wall0 = time.process_time(), time.monotonic()
        for child in simulators:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        if not await master.wait_for_workers(workers, 120):
            raise SystemExit(f"only {master.worker_count} of {workers} workers joined in 120 s")
        join_seconds, join_cpu = time.monotonic() - wall0, time.process_time() - cpu0

        progress(workers, "spawning")
        cpu0, wall0 = time.process_time(), time.monotonic()
        master.start(Users(workers * USERS_PER_WORKER, workers * USERS_PER_WORKER))
        while master.state != RunnerState.RUNNING:
            if time.monotonic() - wall0 > 60:
                raise SystemExit("the simulated workers did not all report running in 60 s")
            await asyncio.sleep(0.05)
        spawn_seconds, spawn_cpu = time.monotonic() - wall0, time.process_time() - cpu0

        progress(workers, f"steady state, {seconds:.0f} s")
        await asyncio.sleep(2.0)
        reports_before = sum(w.reports for w in master.workers.values())
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        reports = sum(w.reports for w in master.workers.values()) - reports_before

        progress(workers, "stopping")
        stop0 = time.monotonic()
        await master.stop()
        stop_seconds = time.monotonic() - stop0
        # A master that fell behind still holds reports received but not handled: let it finish
        # them (until none with stats comes for 2 s) before closing, so the merge is checked on
        # everything sent, and say how long that took.
        handled, drain0 = len(delays.delays), time.monotonic()
        while time.monotonic() - drain0 < 120:
            await asyncio.sleep(2.0)
            if len(delays.delays) == handled:
                break
            handled = len(delays.delays)
        drain_seconds = time.monotonic() - drain0 - 2.0
        progress(workers, "quitting")
        closed = True
        await master.close()
        tallies = [json.loads(await read_line(child, 60)) for child in simulators]
        for child in simulators:
            await asyncio.wait_for(child.wait(), 30)
    finally:
        if not closed:
            await master.close()
        logging.getLogger("horde.distributed").removeHandler(missing)
        for child in simulators:
            if child.returncode is None:
                child.kill()
                await child.wait()
    sim_cpu = sum(t["cpu_seconds"] for t in tallies) / (time.monotonic() - sims_started)

    # What was sent, added up without the wire form (the recorded seconds, bucket by bucket).
    sent = RequestStats()
    by_second: dict[int, int] = {}
    for tally in tallies:
        for choice, times in tally["by_delta"].items():
            sent.merge(scaled(busy_second(names, rps, int(choice)), times))
        for second, requests in tally["by_second"].items():
            by_second[int(second)] = by_second.get(int(second), 0) + requests
    merged = environment.stats
    wrong = differences(merged, sent)
    exact_seconds, history_seconds = history_check(merged, by_second)
    sample = delta_pool(names, rps)[0]
    return {
        "workers": workers,
        "names": names,
        "requests_per_worker_per_second": rps,
        "report_bytes": len(encode(Report("running", 10, {"Visitor": 10}, 4.0, sample))),
        "join_seconds": round(join_seconds, 2),
        "join_master_cpu_seconds": round(join_cpu, 2),
        "spawn_seconds": round(spawn_seconds, 2),
        "spawn_master_cpu_seconds": round(spawn_cpu, 2),
        "seconds": round(wall, 2),
        "reports": reports,
        "reports_per_second": round(reports / wall),
        "master_cpu_percent": round(100.0 * cpu / wall, 2),
        "master_cpu_us_per_report": round(1e6 * cpu / max(reports, 1)),
        "budget_percent": BUDGETS.get(workers),
        "stop_seconds": round(stop_seconds, 2),
        "backlog_after_stop_seconds": round(drain_seconds, 1),
        "keeps_up": reports >= 0.97 * workers * wall,
        "marked_missing": missing.count,
        "lost_master": sum(t["lost_master"] for t in tallies),
        "merged_requests": merged.total.num_requests,
        "sent_requests": sent.total.num_requests,
        "merge_exact": not wrong,
        "merge_differences": wrong[:5],
        "history_seconds": history_seconds,
        "history_seconds_exact": exact_seconds,
        "latest_report_after_its_second_ms": round(1000 * delays.worst()),
        "simulator_send_lag_ms": round(1000 * max(t["max_send_lag"] for t in tallies)),
        "simulator_cpu_percent": round(100.0 * sim_cpu, 1),
    }


# Reporting -----------------------------------------------------------------------------------
def verdict(row: dict[str, Any]) -> str:
    budget = row["budget_percent"]
    ok = (
        row["marked_missing"] == 0
        and row["lost_master"] == 0
        and row["merge_exact"]
        and row["keeps_up"]
        and (budget is None or row["master_cpu_percent"] < budget)
    )
    return "PASS" if ok else "FAIL"


def table(rows: list[dict[str, Any]], seconds: float, cores: str) -> str:
    lines = [
        "| workers | reports/s | join | master CPU, steady (% of one core) | budget "
        "| per report | marked missing | merge exact | history seconds exact | latest report "
        "| verdict |",
        "|---:|---:|---|---:|---:|---:|---:|---|---|---:|---|",
    ]
    for r in rows:
        budget = f"< {r['budget_percent']:.0f}" if r["budget_percent"] is not None else "-"
        behind = "" if r["keeps_up"] else " (behind)"
        lines.append(
            f"| {r['workers']:,} | {r['reports_per_second']:,}{behind} "
            f"| {r['join_seconds']:.1f} s, {r['join_master_cpu_seconds']:.2f} CPU-s "
            f"| {r['master_cpu_percent']:.1f} | {budget} "
            f"| {r['master_cpu_us_per_report']} µs | {r['marked_missing']} "
            f"| {'yes' if r['merge_exact'] else 'NO'} "
            f"| {r['history_seconds_exact']} of {r['history_seconds']} "
            f"| {r['latest_report_after_its_second_ms']} ms | {verdict(r)} |"
        )
    first = rows[0]
    return "\n".join(lines) + (
        f"\n\nEach worker reports every second a stats delta of {first['names']} request names "
        f"and {first['requests_per_worker_per_second']:,} requests "
        f"({first['report_bytes']:,} bytes signed and encoded), and hears the master's "
        f"heartbeat every second. The master runs pinned to one core ({cores}); the simulated "
        f"workers ({WORKERS_PER_PROCESS} per process, bench/simulated_workers.py) speak the real "
        "protocol from the other cores. *Master CPU* is its process's CPU time over "
        f"{seconds:.0f} s at steady state (all its threads, ZeroMQ's I/O thread included); "
        "*per report*: that CPU time divided by the reports handled meanwhile (heartbeats and "
        "ticks included). *Join*: every worker says Hello at once; the time "
        "until the master has welcomed them all, and its CPU time meanwhile. *Marked missing*: "
        "workers the master declared missing (3 s without a report) over the whole run. *Merge "
        "exact*: every row's counts, failures and histogram buckets (hence every percentile) "
        "equal the sum of what the workers sent. *History seconds exact*: the per-second rows "
        "(charts, CSV history) whose request count is exactly what was sent in that second; "
        "it depends on the simulated workers sending each second's reports within the 300 ms "
        "before the master closes it, which they do not when their cores are busy, so it is "
        "shown but not part of the verdict. *Latest report*: how long after its whole second "
        "the master handled the last report of it. *Verdict*: PASS when the master handled "
        "every report as it came (at least 97% of workers x seconds: a master that falls "
        "behind, e.g. because other processes share its core, shows a CPU figure below what it "
        "needs; it then finishes its backlog after the stop, before the merge is checked), "
        "its CPU is under budget, no worker was marked missing or lost its master, and the "
        "merge is exact."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", default="8,250,500,1000,2000", help="comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="steady state, per size")
    parser.add_argument("--names", type=int, default=10)
    parser.add_argument("--rps", type=int, default=5000, help="requests per worker per second")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    import uvloop

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    allowed = sorted(os.sched_getaffinity(0))
    master_core = allowed[0]
    sim_cores = set(allowed[1:]) or {master_core}
    os.sched_setaffinity(0, {master_core})
    cores = f"core {master_core}; workers on {', '.join(map(str, sorted(sim_cores)))}"
    rows = []
    for workers in [int(n) for n in args.workers.split(",")]:
        row = uvloop.run(measure(workers, args.names, args.rps, args.seconds, sim_cores))
        rows.append(row)
        print(json.dumps(row, indent=2), flush=True)
        print(
            f"{workers} workers: master CPU {row['master_cpu_percent']:.1f}% of one core, joined "
            f"in {row['join_seconds']:.1f} s, {row['marked_missing']} marked missing, merge "
            f"{'exact' if row['merge_exact'] else 'NOT exact'}, "
            f"{row['master_cpu_us_per_report']} µs per report, "
            f"{'kept up' if row['keeps_up'] else 'FELL BEHIND'}: {verdict(row)}",
            flush=True,
        )
    results_path("distributed").write_text(json.dumps(rows, indent=2))
    if not args.no_doc:
        write_block(
            "distributed-overhead",
            "Master overhead of a distributed run",
            table(rows, args.seconds, cores),
            "python bench/distributed_overhead.py",
        )


if __name__ == "__main__":
    main()
