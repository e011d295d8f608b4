"""What horde's self-check costs: CPU per second when idle, and CPU per request under load.

    .venv/bin/python bench/health_cost.py [--seconds 5] [--rounds 5] [--no-write]

Every run samples its own CPU and event-loop lag (``horde.runner.health``) on the blocked-loop
watch's thread, which wakes every 20 ms anyway. Three setups, in interleaved rounds, pinned to
CPU 1, median reported:

- **no watch**: the event loop alone;
- **watch**: the blocked-loop watch as it was before the self-check (heartbeat and thread);
- **watch + health**: the same with the sampler (a lag reading per wake, one sample a second).

Idle: an event loop with nothing to do, CPU per second of wall time. Under load: 50 users of
``bench/python_cost.py`` (a fake transport answers every request on the next turn of the loop,
so only horde's code runs), CPU per request. Nothing is added to the request path, so the
per-request figures should agree within the noise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

import uvloop
from doc import results_path, write_block
from python_cost import AsyncUser, open_answering

from horde.http import session as session_module
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.load import Users
from horde.runner.local import LocalRunner
from horde.stats import RequestStats

SETUPS = ("no watch", "watch", "watch + health")


def start_watch(setup: str, environment: Environment) -> BlockWatch | None:
    if setup == "no watch":
        return None
    environment.health.announce = False  # the load rounds saturate horde on purpose
    watch = BlockWatch(health=environment.health if setup == "watch + health" else None)
    watch.start(asyncio.get_running_loop())
    return watch


async def idle_round(setup: str, seconds: float) -> float:
    """CPU per second of wall time, µs, of an idle loop (with the watch as ``setup`` says)."""
    environment = Environment(user_classes=[], stats=RequestStats())
    watch = start_watch(setup, environment)
    await asyncio.sleep(1.0)  # the sampler's first second, the thread's start
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    if watch is not None:
        watch.stop()
    if setup == "watch + health":
        assert environment.health.sampled, "the sampler took no sample"
    return cpu / wall * 1e6


async def load_round(setup: str, seconds: float) -> float:
    """CPU per request, µs, of 50 users against the fake transport."""
    environment = Environment(
        user_classes=[AsyncUser], host="http://127.0.0.1:9", stats=RequestStats()
    )
    watch = start_watch(setup, environment)
    runner = LocalRunner(environment)
    runner.start(Users(50, 100_000))
    await asyncio.sleep(1.0)
    cpu, count = time.process_time(), environment.stats.total.num_requests
    await asyncio.sleep(seconds)
    cpu, count = time.process_time() - cpu, environment.stats.total.num_requests - count
    await runner.stop()
    if watch is not None:
        watch.stop()
    return cpu / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    session_module.open_connection = open_answering  # type: ignore[assignment]
    idle: dict[str, list[float]] = {s: [] for s in SETUPS}
    load: dict[str, list[float]] = {s: [] for s in SETUPS}
    for _ in range(args.rounds):
        for setup in SETUPS:  # interleaved: a busy moment of the machine hits every setup
            idle[setup].append(uvloop.run(idle_round(setup, args.seconds)))
            load[setup].append(uvloop.run(load_round(setup, args.seconds)))
    idle_median = {s: statistics.median(v) for s, v in idle.items()}
    load_median = {s: statistics.median(v) for s, v in load.items()}
    for setup in SETUPS:
        print(
            f"{setup:16s} idle: {idle_median[setup]:7.0f} µs of CPU per second "
            f"({idle_median[setup] / 1e4:.3f}% of a core);  under load: "
            f"{load_median[setup]:.2f} µs of CPU per request"
        )
    sampler = idle_median["watch + health"] - idle_median["watch"]
    print(f"the sampler alone: {sampler:.0f} µs of CPU per second")
    if args.no_write:
        return
    command = " ".join(["bench/health_cost.py", *sys.argv[1:]])
    results_path("health-cost").write_text(
        json.dumps(
            {"idle_us_per_s": idle, "load_us_per_request": load, "command": command}, indent=2
        )
    )
    rows = "\n".join(
        f"| {s} | {idle_median[s]:,.0f} µs ({idle_median[s] / 1e4:.3f}% of a core) | "
        f"{load_median[s]:.2f} µs |"
        for s in SETUPS
    )
    write_block(
        "health-cost",
        "What horde's self-check costs (bench/health_cost.py)",
        "CPU of an idle event loop per second of wall time, and CPU per request of 50 users "
        "against a fake transport (as bench/python_cost.py), without the blocked-loop watch, "
        "with it, and with it sampling horde's CPU and loop lag "
        f"(docs/generator-health.md). Pinned to CPU 1, median of {args.rounds} interleaved "
        f"rounds of {args.seconds:g} s.\n\n"
        "| setup | idle: CPU per second | under load: CPU per request |\n|---|---|---|\n"
        f"{rows}\n\nThe sampler itself: {sampler:,.0f} µs of CPU per second.",
        command,
    )


if __name__ == "__main__":
    main()
