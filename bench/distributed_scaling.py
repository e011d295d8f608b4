"""Requests per second of one process against --processes N (a benchmark, not a test).

    .venv/bin/python bench/distributed_scaling.py [--seconds 10] [--rounds 3] [--max-processes N]

The target (bench/target_server.py) runs in its own process; horde runs the closed-loop scenario
bench/scenarios/horde_async.py (50 users, no wait) as one process, then with --processes 1..N,
in interleaved rounds. Two figures per mode, medians over rounds: requests per second of wall
time, and requests per CPU-second of horde's whole process tree (master and workers, start-up
included, as the kernel bills reaped children). Wall-time scaling needs a free core per worker
plus one for the target: on a machine with C cores it is meaningful for N <= C - 1 only, and the
table says when that is not the case. Per-CPU efficiency shows what distribution itself costs.
Every run's request count is checked against the server's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from doc import results_path, write_block

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "bench" / "scenarios" / "horde_async.py"
USERS = 50


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_target() -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "target_server.py"), "--ready-fd", str(write_fd)],
        pass_fds=(write_fd,),
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        port = int(ready.readline())
    return process, f"http://127.0.0.1:{port}"


def served(url: str) -> int:
    with urllib.request.urlopen(f"{url}/__count", timeout=5) as response:
        return int(response.read())


def run_once(url: str, processes: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, "-m", "horde", "run", str(SCENARIO), "-H", url, "-u", str(USERS)]
        cmd += ["-r", "1000", "-t", f"{seconds}s", "--headless", "--only-summary"]
        cmd += ["--json", str(out)]
        if processes:
            cmd += ["--processes", str(processes)]
        before_count, before_cpu = served(url), children_cpu()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        cpu = children_cpu() - before_cpu
        document = json.loads(out.read_text())
    requests = document["total"]["num_requests"]
    if requests != served(url) - before_count:
        raise SystemExit(f"count mismatch: horde {requests}, server {served(url) - before_count}")
    duration = document["end_time"] - document["start_time"]
    return {"rps": requests / duration, "per_cpu_second": requests / cpu, "requests": requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-processes", type=int, default=2)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    modes = [0, *range(1, args.max_processes + 1)]
    samples: dict[int, list[dict[str, float]]] = {m: [] for m in modes}
    target, url = start_target()
    try:
        for _ in range(args.rounds):
            for mode in modes:
                samples[mode].append(run_once(url, mode, args.seconds))
    finally:
        target.terminate()
        target.wait()
    cores = os.cpu_count() or 1
    single = statistics.median(s["rps"] for s in samples[0])
    single_cpu = statistics.median(s["per_cpu_second"] for s in samples[0])
    rows = []
    for mode in modes:
        rps = statistics.median(s["rps"] for s in samples[mode])
        per_cpu = statistics.median(s["per_cpu_second"] for s in samples[mode])
        workers = max(1, mode)
        rows.append(
            {
                "mode": "one process" if mode == 0 else f"--processes {mode}",
                "rps": round(rps),
                "wall_efficiency": round(rps / (workers * single), 3),
                "per_cpu_second": round(per_cpu),
                "cpu_efficiency": round(per_cpu / single_cpu, 3),
                "meaningful_wall_scaling": workers <= cores - 1,
            }
        )
    result = {"cores": cores, "users": USERS, "seconds": args.seconds, "rows": rows}
    print(json.dumps(result, indent=2))
    results_path("distributed-scaling").write_text(json.dumps(result, indent=2))
    if args.no_doc:
        return
    lines = [
        "| mode | req/s (wall) | vs N x one process | req per CPU-second | vs one process |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        note = "" if row["meaningful_wall_scaling"] else " (cores shared: not a scaling figure)"
        lines.append(
            f"| {row['mode']} | {row['rps']} | {row['wall_efficiency']:.0%}{note} "
            f"| {row['per_cpu_second']} | {row['cpu_efficiency']:.0%} |"
        )
    body = "\n".join(lines) + (
        f"\n\n{cores} cores, shared by the target, the master and the workers; {USERS} users, "
        f"no wait, {args.seconds:.0f} s, median of {args.rounds} rounds. `--processes N` is a "
        "master plus N workers. Wall-time scaling needs one free core per worker plus one for "
        "the target."
    )
    write_block(
        "distributed-scaling",
        "Scaling over processes",
        body,
        "python bench/distributed_scaling.py",
    )


if __name__ == "__main__":
    main()
