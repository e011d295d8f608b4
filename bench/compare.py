"""horde against Locust and wrk: requests per CPU-second of each generator (issue: benchmarks).

    make bench-compare          # or: .venv/bin/python bench/compare.py [--seconds 10 --rounds 3]

nginx serves a small static file on 127.0.0.1, pinned to CPU 0; each generator runs pinned to
CPU 1 with the same concurrency (50 users/connections, no wait) for the same time, in
interleaved rounds (A, B, C, A, B, C, ...). A generator is billed the CPU time (user + system)
of its whole process tree, start-up included, as measured by the kernel for reaped children.
The figure is requests per CPU-second; the ratio is to Locust's FastHttpUser of the same rounds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doc import results_path, write_block

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCENARIOS = ROOT / "bench" / "scenarios"
TARGETS = {"horde async": 60_000, "horde blocking": 50_000}
MIN_RATIO = 5.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if shutil.which("taskset") else argv


def ensure_debian_tools() -> list[str]:
    """nginx and wrk from Debian's packages when root; otherwise say what is missing."""
    missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool)]
    if missing and os.geteuid() == 0:
        packages = ["nginx-light" if t == "nginx" else t for t in missing]
        subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=False)
        missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool)]
    for tool in missing:
        print(f"note: {tool} is not installed (apt-get install {tool} as root); skipped")
    return missing


class Nginx:
    def __init__(self, workdir: Path, port: int) -> None:
        (workdir / "html").mkdir()
        (workdir / "html" / "index.html").write_text("ok\n")
        (workdir / "logs").mkdir()
        conf = workdir / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ root {workdir}/html; }}
    }}
}}
"""
        )
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            pinned(0, ["nginx", "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"])
        )
        time.sleep(0.5)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def csv_total(prefix: Path) -> int:
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    return int(rows[-1]["Request Count"])


def run_generator(name: str, url: str, seconds: int, users: int, workdir: Path) -> dict:
    prefix = workdir / name.replace(" ", "_")
    if name.startswith("horde"):
        scenario = SCENARIOS / ("horde_async.py" if "async" in name else "horde_blocking.py")
        argv = [
            str(VENV_BIN / "horde"),
            "run",
            str(scenario),
            "-H",
            url,
            "-u",
            str(users),
            "-r",
            "10000",
            "-t",
            f"{seconds}s",
            "--headless",
            "--only-summary",
            "--csv",
            str(prefix),
        ]
    elif name.startswith("locust"):
        scenario = SCENARIOS / ("locust_fast.py" if "Fast" in name else "locust_http.py")
        argv = [
            str(VENV_BIN / "locust"),
            "-f",
            str(scenario),
            "-H",
            url,
            "-u",
            str(users),
            "-r",
            "10000",
            "-t",
            f"{seconds}s",
            "--headless",
            "--only-summary",
            "--csv",
            str(prefix),
            "--loglevel",
            "ERROR",
        ]
    else:  # wrk
        argv = ["wrk", "-t1", f"-c{users}", f"-d{seconds}s", url]
    cpu0 = children_cpu()
    started = time.perf_counter()
    result = subprocess.run(pinned(1, argv), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    cpu = children_cpu() - cpu0
    if name == "wrk":
        match = re.search(r"(\d+) requests in", result.stdout)
        requests = int(match.group(1)) if match else 0
    else:
        requests = csv_total(prefix) if Path(f"{prefix}_stats.csv").exists() else 0
    if requests == 0:
        print(f"{name} produced no result:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return {
        "requests": requests,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "per_cpu_second": requests / cpu if cpu else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()

    missing = ensure_debian_tools()
    if "nginx" in missing:
        print("nginx is required for this benchmark")
        return 1
    generators = ["horde async", "horde blocking", "locust FastHttpUser", "locust HttpUser"]
    if not shutil.which(str(VENV_BIN / "locust")):
        print("note: locust is not installed (make bench installs the bench group); skipped")
        generators = [g for g in generators if not g.startswith("locust")]
    if "wrk" not in missing:
        generators.append("wrk")

    runs: dict[str, list[dict]] = {g: [] for g in generators}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "nginx").mkdir()
        server = Nginx(workdir / "nginx", free_port())
        try:
            for round_no in range(args.rounds):
                for name in generators:
                    r = run_generator(name, server.url, args.seconds, args.users, workdir)
                    runs[name].append(r)
                    print(
                        f"round {round_no + 1} {name:20s} {r['per_cpu_second']:>10,.0f} "
                        f"req/CPU-s ({r['requests']} requests, {r['cpu_seconds']:.2f} CPU-s)",
                        flush=True,
                    )
        finally:
            server.stop()

    medians = {g: statistics.median(r["per_cpu_second"] for r in rs) for g, rs in runs.items()}
    base = medians.get("locust FastHttpUser")
    lines = [
        "| generator | requests per CPU-second (median) | vs Locust FastHttpUser | target |",
        "|---|---|---|---|",
    ]
    for g, value in medians.items():
        ratio = f"{value / base:.1f}x" if base else "-"
        target = ""
        if g in TARGETS:
            ok = value >= TARGETS[g] and (base is None or value / base >= MIN_RATIO)
            target = f">= {TARGETS[g]:,} and >= {MIN_RATIO:g}x: {'PASS' if ok else 'FAIL'}"
        lines.append(f"| {g} | {value:,.0f} | {ratio} | {target} |")
    table = "\n".join(lines)
    print(table)
    command = " ".join(["bench/compare.py", *sys.argv[1:]])
    out = results_path("compare")
    out.write_text(json.dumps({"runs": runs, "medians": medians, "command": command}, indent=2))
    write_block(
        "compare",
        "Throughput per CPU against Locust and wrk (bench/compare.py)",
        f"nginx on CPU 0, each generator on CPU 1, {args.users} users, no wait, "
        f"{args.seconds} s per run, {args.rounds} interleaved rounds.\n\n{table}",
        command,
    )
    print(f"wrote {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
