"""The real master with 200 workers speaking the real protocol: none is lost, the sums are exact.

The workers are bench/simulated_workers.py (the scale benchmark's): one child process plays all
200, each with its own DEALER socket and signer, joining with a Hello, obeying Spawn/Stop/Quit,
hearing heartbeats and reporting every second a real stats delta from a fixed pool. The test
runs the real ``MasterRunner`` on the real ``MasterTransport`` in this process, and checks that
every worker joins and runs, that none is marked missing, and that the master's stats equal the
seconds the workers say they sent, added up in a fresh ``RequestStats`` without the wire form.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import uvloop

from horde import User, task
from horde.distributed.master import MasterRunner
from horde.distributed.security import Signer
from horde.distributed.transport import MasterTransport
from horde.events import Events
from horde.runner.environment import Environment
from horde.runner.lifecycle import RunnerState
from horde.runner.load import Users
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(240)

SIMULATOR = Path(__file__).resolve().parents[2] / "bench" / "simulated_workers.py"
DIGEST = "5" * 64
WORKERS = 200
NAMES = 10
RPS = 200  # requests per worker per second, in the pool's deltas
RUNNING_SECONDS = 4.0


def simulator_module():
    spec = importlib.util.spec_from_file_location("simulated_workers", SIMULATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Visitor(User):
    @task
    async def nothing(self) -> None:
        pass


class MarkedMissing(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.workers: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "marked missing" in record.getMessage():
            self.workers.append(record.getMessage())


async def read_line(child: subprocess.Popen[str], timeout: float) -> str:
    assert child.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), timeout)
    assert line, f"the simulated workers exited early (code {child.poll()})"
    return line


def test_the_master_holds_200_workers_and_merges_their_stats_exactly():
    simulated = simulator_module()
    missing = MarkedMissing()

    async def scenario() -> tuple[RequestStats, dict, list[str], int]:
        environment = Environment(user_classes=[Visitor], stats=RequestStats(), events=Events())
        transport = MasterTransport(Signer(simulated.SECRET), "127.0.0.1", 0)
        master = MasterRunner(environment, transport, DIGEST)
        master.serve()
        command = [sys.executable, str(SIMULATOR), "--port", str(transport.port)]
        command += ["--count", str(WORKERS), "--digest", DIGEST, "--names", str(NAMES)]
        command += ["--rps", str(RPS), "--max-seconds", "90"]
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert (await read_line(child, 60)).strip() == "ready"
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
            assert await master.wait_for_workers(WORKERS, 60), "not every worker joined"
            master.start(Users(WORKERS * 2, WORKERS * 2))
            for _ in range(600):
                if master.state == RunnerState.RUNNING:
                    break
                await asyncio.sleep(0.05)
            assert master.state == RunnerState.RUNNING
            assert master.user_count == WORKERS * 2
            await asyncio.sleep(RUNNING_SECONDS)
            reports = min(w.reports for w in master.workers.values())
            await master.stop()
            await master.close()
            tally = json.loads(await read_line(child, 60))
            assert await asyncio.to_thread(child.wait, 30) == 0
        finally:
            await master.close()
            if child.poll() is None:
                child.kill()
                child.wait()
        return environment.stats, tally, missing.workers, reports

    logger = logging.getLogger("horde.distributed")
    logger.addHandler(missing)
    try:
        merged, tally, marked_missing, reports = uvloop.run(scenario())
    finally:
        logger.removeHandler(missing)

    assert marked_missing == []
    assert tally["lost_master"] == 0
    assert tally["quit"] == WORKERS
    assert reports >= RUNNING_SECONDS - 1  # every worker reported about every second

    # What was sent, added up without the wire form: the recorded seconds, bucket list to list.
    sent = RequestStats()
    deltas = 0
    for choice, times in tally["by_delta"].items():
        second = simulated.busy_second(NAMES, RPS, int(choice))
        for _ in range(times):
            sent.merge(second)
            deltas += 1
    assert deltas >= WORKERS * (RUNNING_SECONDS - 1)
    assert merged.total.num_requests == sent.total.num_requests > 0
    assert sorted(merged.entries) == sorted(sent.entries)
    for key, theirs in [*sent.entries.items(), (None, sent.total)]:
        mine = merged.total if key is None else merged.entries[key]
        assert mine.histogram.counts == theirs.histogram.counts, key
        assert (mine.num_requests, mine.num_failures, mine.total_content_length) == (
            theirs.num_requests,
            theirs.num_failures,
            theirs.total_content_length,
        )
        assert (mine.min_response_time, mine.max_response_time) == (
            theirs.min_response_time,
            theirs.max_response_time,
        )
        assert mine.get_response_time_percentiles([0.5, 0.95, 0.99, 0.999]) == (
            theirs.get_response_time_percentiles([0.5, 0.95, 0.99, 0.999])
        )
    assert {k: e.occurrences for k, e in merged.errors.items()} == {
        k: e.occurrences for k, e in sent.errors.items()
    }
