"""Throughput and memory of the whole engine (user loop, task pick, wait, client, stats).

    make bench                       # or: .venv/bin/python bench/simple.py [--seconds 10]

The target server runs in another process pinned to CPU 0; the generator runs here pinned to
CPU 1, with 50 users and no wait, and is billed only its own CPU time (user + system). Each
style is measured in several interleaved rounds and the median is reported. A memory round
starts idle users (one keep-alive connection each, 5 s between requests) and divides the growth
of this process's resident memory by their number. The request count of every round is checked
against the count of the server. Results go to bench/results/<date>-simple.json and
docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from doc import results_path, write_block
from serving import pin_to, start_server

from horde import HttpUser, constant, task
from horde.runner.environment import Environment
from horde.runner.load import Users
from horde.runner.local import LocalRunner
from horde.stats import RequestStats

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"async": 60_000, "blocking": 50_000}
MEMORY_TARGETS_KB = {"async": 8.0, "blocking": 16.0}
MEMORY_SPAWN_RATE = 2000.0


class AsyncUser(HttpUser):
    @task
    async def index(self):
        await self.client.get("/")


class BlockingUser(HttpUser):
    @task
    def index(self):
        self.client.get("/")


class IdleAsyncUser(HttpUser):
    wait_time = constant(5)

    @task
    async def index(self):
        await self.client.get("/")


class IdleBlockingUser(HttpUser):
    wait_time = constant(5)

    @task
    def index(self):
        self.client.get("/")


def server_count(host: str) -> int:
    with urllib.request.urlopen(f"{host}/__count", timeout=5) as response:
        return int(response.read())


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


async def throughput_round(user_class: type, host: str, users: int, seconds: float) -> dict:
    env = Environment(user_classes=[user_class], host=host, stats=RequestStats())
    runner = LocalRunner(env)
    runner.start(Users(users, 1e9))
    await asyncio.sleep(1.0)  # warm up: connections open, caches filled
    before_count = env.stats.total.num_requests
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    measured = env.stats.total.num_requests - before_count
    await runner.stop()
    return {
        "requests": measured,
        "cpu_seconds": cpu1 - cpu0,
        "wall_seconds": wall1 - wall0,
        "per_cpu_second": measured / (cpu1 - cpu0),
        "total_recorded": env.stats.total.num_requests,
        "failures": env.stats.total.num_failures,
    }


async def memory_round(user_class: type, host: str, users: int) -> dict:
    gc.collect()
    env = Environment(user_classes=[user_class], host=host, stats=RequestStats())
    runner = LocalRunner(env)
    # Baseline after the runner exists, so only per-user memory is counted.
    base = rss_kb()
    # Ramp as a load test does (2,000 users/s), so that what is measured is idle users, not a
    # burst of thousands of responses parsed at the same instant.
    runner.start(Users(users, MEMORY_SPAWN_RATE))
    deadline = time.monotonic() + 30 + users / MEMORY_SPAWN_RATE
    while env.stats.total.num_requests < users and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    gc.collect()
    grown = rss_kb() - base
    await runner.stop()
    return {"users": users, "kb_per_user": grown / users, "connected": env.stats.total.num_requests}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per style")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--memory-users", type=int, default=5000)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--memory-round", choices=("async", "blocking"), help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_round:
        import uvloop

        cls = IdleAsyncUser if args.memory_round == "async" else IdleBlockingUser
        print(json.dumps(uvloop.run(memory_round(cls, args.host, args.memory_users))))
        return 0

    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    pin_to(1)
    server, host = start_server("target_server.py", cpu=0)
    results: dict = {"throughput": {"async": [], "blocking": []}, "memory": {}}
    try:
        import uvloop

        for _ in range(args.rounds):
            for style, cls in (("async", AsyncUser), ("blocking", BlockingUser)):
                seen_before = server_count(host)
                r = uvloop.run(throughput_round(cls, host, args.users, args.seconds))
                r["server_count"] = server_count(host) - seen_before
                results["throughput"][style].append(r)
                print(
                    f"{style:9s} {r['per_cpu_second']:>10,.0f} req/CPU-s  "
                    f"(recorded {r['total_recorded']}, server saw {r['server_count']})",
                    flush=True,
                )
        for style in ("async", "blocking"):
            # Each in a fresh process: memory freed by earlier rounds would be reused and hide
            # the real cost.
            out = subprocess.run(
                [sys.executable, __file__, "--memory-round", style, "--host", host,
                 "--memory-users", str(args.memory_users)],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            r = json.loads(out.strip().splitlines()[-1])
            results["memory"][style] = r
            print(f"{style:9s} {r['kb_per_user']:.1f} KB per idle user ({r['users']} users)")
    finally:
        server.terminate()
        server.wait()

    summary = {
        style: statistics.median(x["per_cpu_second"] for x in rounds)
        for style, rounds in results["throughput"].items()
    }
    counts_exact = all(
        x["total_recorded"] == x["server_count"]
        for rs in results["throughput"].values()
        for x in rs
    )
    lines = ["", "| measure | result | target | verdict |", "|---|---|---|---|"]
    for style, value in summary.items():
        ok = value >= TARGETS[style]
        lines.append(
            f"| {style} tasks, requests per CPU-second (median of {args.rounds}) | "
            f"{value:,.0f} | >= {TARGETS[style]:,} | {'PASS' if ok else 'FAIL'} |"
        )
    for style, r in results["memory"].items():
        ok = r["kb_per_user"] <= MEMORY_TARGETS_KB[style]
        lines.append(
            f"| {style} tasks, KB per idle user ({r['users']} users, ramped at "
            f"{MEMORY_SPAWN_RATE:,.0f}/s) | {r['kb_per_user']:.1f} | "
            f"<= {MEMORY_TARGETS_KB[style]:g} | {'PASS' if ok else 'FAIL'} |"
        )
    lines.append(
        f"| request counts equal the server's | {'yes' if counts_exact else 'NO'} | equal | "
        f"{'PASS' if counts_exact else 'FAIL'} |"
    )
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        results["summary"] = summary
        results["machine"] = {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        }
        results["command"] = " ".join(["bench/simple.py", *sys.argv[1:]])
        out = results_path("simple")
        out.write_text(json.dumps(results, indent=2))
        write_block(
            "simple",
            "Engine throughput and memory (bench/simple.py)",
            "Generator pinned to one core, target server on the other; 50 users, no wait.\n"
            + table,
            results["command"],
        )
        print(f"wrote {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
