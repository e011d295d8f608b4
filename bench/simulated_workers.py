"""Many simulated workers in one process, speaking the real protocol (for distributed_overhead).

    python bench/simulated_workers.py --port P --first 0 --count 500 --digest HEX [--names 10]

Each simulated worker is what a horde worker is on the wire: its own DEALER socket (the real
``WorkerTransport``; one ZeroMQ context per process, so that 1,000 workers do not start 1,000
I/O threads), its own ``Signer`` (HMAC, timestamps, nonces) and the real ``protocol`` messages.
It follows the worker's side of ``horde.distributed.worker``: a ``Hello`` (again every 5 s until
welcomed), a ``Report`` on every whole second of the wall clock, an immediate report when told
to spawn, a final one when told to stop, and it leaves on ``Quit``. It hears the master's
heartbeats and counts the times the master was silent longer than a worker's default timeout.

What it does not do is run users: its stats deltas come from a pool made once by the real
``DeltaTaker`` over a real ``RequestStats`` (``--names`` request names, ``--rps`` requests a
second, log-normal latencies, 1% failures), because recording 5,000 requests per worker per
second for 1,000 workers would take the harness far more than the master it measures.

The parent talks to this process through its standard streams: it prints ``ready`` once its
sockets are made, starts on ``go``, and when every worker has been told to quit (or after
``--max-seconds``) prints one JSON line: how many times each delta of the pool was sent, the
requests sent per second of the wall clock, heartbeats heard, its CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time
from collections import Counter
from typing import Any

import zmq
import zmq.asyncio

from horde import __version__
from horde.distributed.protocol import (
    Heartbeat,
    Hello,
    Message,
    Quit,
    Report,
    Spawn,
    Stop,
    Welcome,
)
from horde.distributed.security import Signer
from horde.distributed.stats_delta import DeltaTaker
from horde.distributed.transport import WorkerTransport
from horde.stats import RequestStats

SECRET = "bench secret"
MASTER_TIMEOUT = 10.0  # a real worker's default --master-timeout
HELLO_AGAIN = 5.0
POOL = 8


def busy_second(names: int, rps: int, seed: int) -> RequestStats:
    """One second of a busy worker's stats, recorded through the request path."""
    rng = random.Random(seed)
    stats = RequestStats()
    entries = [stats.entry("GET", f"/page/{i}") for i in range(names)]
    for i in range(rps):
        entry = entries[i % names]
        entry.record(int(rng.lognormvariate(9.9, 0.6)), 512)  # ~20 ms median, long tail
        if i % 100 == 0:
            entry.record_failure("HTTPError: 500 Server Error")
    return stats


def make_delta(names: int, rps: int, seed: int) -> dict[str, Any]:
    """``busy_second`` as a worker sends it, taken by the real ``DeltaTaker``."""
    return DeltaTaker(busy_second(names, rps, seed)).take() or {}


def delta_pool(names: int, rps: int) -> list[dict[str, Any]]:
    """The deltas simulated workers send, in turn (``busy_second`` of seeds 0 to POOL - 1)."""
    return [make_delta(names, rps, seed) for seed in range(POOL)]


class SimulatedWorker:
    """One worker's side of the protocol, without users."""

    def __init__(
        self, index: int, context: zmq.asyncio.Context, port: int, digest: str, tally: Tally
    ) -> None:
        self.index = index
        self.id = f"sim-{index}"
        self.digest = digest
        self.tally = tally
        self.transport = WorkerTransport(Signer(SECRET), "127.0.0.1", port, self.id, context)
        self.accepted = False
        self.running = False
        self.quit = False
        self.users: dict[str, int] = {}
        self.seq = 0
        self.hello_sent = 0.0
        self.last_heard = time.monotonic()
        self.lost_master = False

    async def hello(self) -> None:
        self.hello_sent = time.monotonic()
        hello = Hello(self.id, "bench", os.getpid(), __version__, self.digest, ["Visitor"])
        await self.transport.send(hello)

    async def report(self, stats: dict[str, Any] | None = None, final: bool = False) -> None:
        self.seq += 1
        users = sum(self.users.values())
        state = "running" if self.running else "stopped" if final else "ready"
        report = Report(state, users, dict(self.users), 4.0, stats, final, self.seq)
        await self.transport.send(report)

    async def listen(self) -> None:
        """Obey the master, as ``horde.distributed.worker.Worker`` does (without users)."""
        while not self.quit:
            message: Message = await self.transport.recv()
            self.last_heard = time.monotonic()
            if isinstance(message, Heartbeat):
                self.tally.heartbeats += 1
            elif isinstance(message, Welcome):
                self.accepted = True
            elif isinstance(message, Spawn):
                self.users = dict(message.user_classes_count)
                self.running = True
                await self.report()
            elif isinstance(message, Stop):
                self.running = False
                self.users = {}
                await self.report(final=True)
            elif isinstance(message, Quit):
                self.quit = True


class Tally:
    """What this process sent and heard: the parent adds it up and checks the master's totals."""

    def __init__(self) -> None:
        self.by_delta: Counter[int] = Counter()
        self.by_second: Counter[int] = Counter()
        self.heartbeats = 0
        self.lost_master = 0
        self.max_send_lag = 0.0  # after a whole second, until the last report of it was sent


async def simulate(args: argparse.Namespace) -> None:
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAX_SOCKETS, args.count + 64)
    tally = Tally()
    pool = delta_pool(args.names, args.rps)
    requests = [int(d["total"]["histogram"]["count"]) for d in pool]
    workers = [
        SimulatedWorker(args.first + i, context, args.port, args.digest, tally)
        for i in range(args.count)
    ]
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "go"
    listeners = [loop.create_task(w.listen()) for w in workers]
    for w in workers:
        await w.hello()
    deadline = time.monotonic() + args.max_seconds
    while not all(w.quit for w in workers) and time.monotonic() < deadline:
        await asyncio.sleep(1.0 - time.time() % 1.0)
        second = round(time.time())
        now = time.monotonic()
        for w in workers:
            if w.quit:
                continue
            if not w.accepted:
                if now - w.hello_sent > HELLO_AGAIN:
                    await w.hello()
                continue
            if now - w.last_heard > MASTER_TIMEOUT and not w.lost_master:
                w.lost_master = True
                tally.lost_master += 1
            if w.running:
                choice = (w.seq + w.index) % len(pool)
                await w.report(pool[choice])
                tally.by_delta[choice] += 1
                tally.by_second[second] += requests[choice]
            else:
                await w.report()
        tally.max_send_lag = max(tally.max_send_lag, time.time() - second)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for w in workers:
        w.transport.close()
    context.term()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "by_delta": dict(tally.by_delta),
        "by_second": dict(tally.by_second),
        "heartbeats": tally.heartbeats,
        "lost_master": tally.lost_master,
        "max_send_lag": tally.max_send_lag,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "quit": sum(w.quit for w in workers),
    }
    print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--digest", required=True)
    parser.add_argument("--names", type=int, default=10)
    parser.add_argument("--rps", type=int, default=5000)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import uvloop

    uvloop.run(simulate(args))


if __name__ == "__main__":
    main()
