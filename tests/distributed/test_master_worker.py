"""Master and workers in one event loop, over real ZeroMQ sockets on loopback.

Users here make no network requests: they record through ``events.request.fire`` (the door of
custom clients), each into its own worker's stats, so the test knows exactly what every worker
recorded and can check the master's merged totals, its plan, its handling of a lost worker, and
the refusal of foreign workers, in well under a second of load each.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
import uvloop

from horde import StopTest, User, constant, task
from horde.distributed.master import MasterRunner
from horde.distributed.protocol import PROTOCOL_VERSION, Bye, Hello, Refused, Welcome
from horde.distributed.registry import MISSING
from horde.distributed.security import Signer
from horde.distributed.transport import MasterTransport, WorkerTransport
from horde.distributed.worker import Worker
from horde.events import Events
from horde.runner.environment import Environment
from horde.runner.load import Users
from horde.runner.local import RunnerState
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(180)

DIGEST = "d" * 64


class Reader(User):
    weight = 3
    wait_time = constant(0.01)

    @task
    async def read(self):
        latency = 5.0 + (id(self) % 7)  # a few distinct latencies
        self.environment.events.request.fire(
            request_type="GET", name="/read", response_time=latency, response_length=10
        )


class Writer(User):
    fixed_count = 1
    wait_time = constant(0.01)
    calls = itertools.count()

    @task
    async def write(self):
        self.environment.events.request.fire(
            request_type="POST",
            name="/write",
            response_time=40.0,
            response_length=3,
            exception=RuntimeError("boom") if next(self.calls) % 2 else None,
        )


CLASSES = [Reader, Writer]


def env(classes=CLASSES) -> Environment:
    return Environment(user_classes=classes, stats=RequestStats(), events=Events())


async def eventually(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


class Cluster:
    """A master and workers on one loop; ``close()`` ends everything."""

    def __init__(self, secret: str = "s", classes=CLASSES, **master_kwargs) -> None:
        self.secret = secret
        self.classes = classes
        self.master_env = env(classes)
        transport = MasterTransport(Signer(secret), "127.0.0.1", 0)
        self.master = MasterRunner(self.master_env, transport, DIGEST, **master_kwargs)
        self.master.serve()
        self.workers: list[tuple[Worker, asyncio.Task[int]]] = []

    def add_worker(self, secret: str | None = None, digest: str = DIGEST) -> Worker:
        name = f"w{len(self.workers)}"
        transport = WorkerTransport(
            Signer(self.secret if secret is None else secret),
            "127.0.0.1",
            self.master.transport.port,
            name,
        )
        worker = Worker(env(self.classes), transport, name, digest, "loopback", master_timeout=5.0)
        self.workers.append((worker, asyncio.get_running_loop().create_task(worker.run())))
        return worker

    async def close(self) -> None:
        await self.master.close()
        for worker, running in self.workers:
            try:
                await asyncio.wait_for(running, 10)
            except (TimeoutError, asyncio.CancelledError):
                running.cancel()
            worker.transport.close()


def worker_totals(worker: Worker) -> int:
    return worker.environment.stats.total.num_requests


def test_users_are_planned_per_class_and_stats_merge_exactly():
    async def scenario():
        cluster = Cluster()
        try:
            workers = [cluster.add_worker() for _ in range(3)]
            assert await cluster.master.wait_for_workers(3, 10)
            cluster.master.start(Users(10, 100))
            await eventually(lambda: cluster.master.state == RunnerState.RUNNING)
            assert cluster.master.user_classes_count == {"Reader": 9, "Writer": 1}
            assert sorted(w.runner.user_count for w in workers) == [3, 3, 4]
            await asyncio.sleep(1.5)
            # Re-targeting reaches every worker.
            cluster.master.change(Users(4, 100))
            await eventually(
                lambda: (
                    cluster.master.state == RunnerState.RUNNING and cluster.master.user_count == 4
                )
            )
            await cluster.master.stop()
            recorded = sum(worker_totals(w) for w in workers)
            merged = cluster.master_env.stats
            # The workers' stats were reset after each report: what they still hold is zero,
            # and the master counted every request they recorded.
            assert recorded == 0
            info = cluster.master.workers_info()
            assert merged.total.num_requests == sum(w["num_requests"] for w in info) > 100
            assert merged.total.num_failures == sum(w["num_failures"] for w in info) > 0
            assert {e.name for e in merged.sorted_entries()} == {"/read", "/write"}
            assert merged.errors
            assert [w["state"] for w in info] == ["stopped"] * 3
        finally:
            await cluster.close()
        assert [w.exit_code for w, _ in cluster.workers] == [0, 0, 0]

    uvloop.run(scenario())


def test_lost_worker_is_marked_missing_and_its_users_go_to_the_others():
    async def scenario():
        cluster = Cluster(heartbeat_timeout=1.0)
        try:
            first, second = cluster.add_worker(), cluster.add_worker()
            assert await cluster.master.wait_for_workers(2, 10)
            cluster.master.start(Users(6, 100))
            await eventually(lambda: cluster.master.state == RunnerState.RUNNING)
            await asyncio.sleep(1.2)
            # Silence the first worker as a crash would: no more reports, no goodbye.
            first_task = cluster.workers[0][1]
            first_task.cancel()
            await asyncio.gather(first_task, return_exceptions=True)
            first.transport.close()
            counted_before = cluster.master.workers["w0"].num_requests
            await eventually(lambda: cluster.master.workers["w0"].state == MISSING, 5)
            await eventually(lambda: second.runner.user_count == 6, 5)
            await eventually(lambda: cluster.master.state == RunnerState.RUNNING, 5)
            assert cluster.master.user_count == 6
            # Its stats up to its last report are kept.
            assert cluster.master.workers["w0"].num_requests == counted_before > 0
            # A restarted worker rejoins and gets its share back.
            third = cluster.add_worker()
            await eventually(lambda: third.runner.user_count == 3, 5)
            await eventually(lambda: second.runner.user_count == 3, 5)
            await cluster.master.stop()
        finally:
            await cluster.close()

    uvloop.run(scenario())


def test_redistribution_can_be_turned_off():
    async def scenario():
        cluster = Cluster(heartbeat_timeout=1.0, redistribute=False)
        try:
            cluster.add_worker()
            second = cluster.add_worker()
            assert await cluster.master.wait_for_workers(2, 10)
            cluster.master.start(Users(4, 100))
            await eventually(lambda: cluster.master.state == RunnerState.RUNNING)
            first_task = cluster.workers[0][1]
            first_task.cancel()
            await asyncio.gather(first_task, return_exceptions=True)
            cluster.workers[0][0].transport.close()
            await eventually(lambda: cluster.master.workers["w0"].state == MISSING, 5)
            await asyncio.sleep(0.5)
            assert second.runner.user_count == 2
            await cluster.master.stop()
        finally:
            await cluster.close()

    uvloop.run(scenario())


@pytest.mark.parametrize(
    ("hello", "reason"),
    [
        (Hello("x", "h", 1, "0.0.1", DIGEST, ["Reader", "Writer"]), "runs horde 0.0.1"),
        (Hello("x", "h", 1, None, "e" * 64, ["Reader", "Writer"]), "scenario file differs"),
        (Hello("x", "h", 1, None, DIGEST, ["Reader"]), "does not run user class Writer"),
        (
            Hello("x", "h", 1, None, DIGEST, ["Reader", "Writer"], protocol=1),
            "speaks version 1 of the worker protocol but the master speaks version 2",
        ),
    ],
)
def test_foreign_workers_are_refused_with_a_reason(hello, reason):
    from dataclasses import replace

    from horde import __version__

    if hello.version is None:
        hello = replace(hello, version=__version__)

    async def scenario():
        cluster = Cluster()
        transport = WorkerTransport(Signer("s"), "127.0.0.1", cluster.master.transport.port, "x")
        try:
            await transport.send(hello)
            answer = await asyncio.wait_for(transport.recv(), 5)
            assert isinstance(answer, Refused)
            assert reason in answer.reason
            assert cluster.master.worker_count == 0
        finally:
            transport.close()
            await cluster.close()

    uvloop.run(scenario())


def test_worker_leaves_a_master_of_another_protocol_with_code_2():
    async def scenario():
        master = MasterTransport(Signer("s"), "127.0.0.1", 0)
        transport = WorkerTransport(Signer("s"), "127.0.0.1", master.port, "w0")
        worker = Worker(env(), transport, "w0", DIGEST, "loopback", master_timeout=5.0)
        running = asyncio.get_running_loop().create_task(worker.run())
        try:
            worker_id, hello = await asyncio.wait_for(master.recv(), 5)
            assert isinstance(hello, Hello) and hello.protocol == PROTOCOL_VERSION
            await master.send(worker_id, Welcome(0, {}, protocol=1))
            assert await asyncio.wait_for(running, 10) == 2
            assert not worker.accepted
            _, bye = await asyncio.wait_for(master.recv(), 5)
            assert isinstance(bye, Bye) and "protocol" in bye.reason
        finally:
            running.cancel()
            transport.close()
            master.close()

    uvloop.run(scenario())


def test_worker_with_the_wrong_secret_exits_with_code_2():
    async def scenario():
        cluster = Cluster(secret="right")
        try:
            worker = cluster.add_worker(secret="wrong")
            assert await asyncio.wait_for(cluster.workers[0][1], 10) == 2
            assert not worker.accepted
            assert cluster.master.worker_count == 0
        finally:
            await cluster.close()

    uvloop.run(scenario())


class Quitter(User):
    wait_time = constant(0.01)

    @task
    async def give_up(self):
        raise StopTest()


def test_stop_test_on_a_worker_ends_the_whole_run_on_the_master():
    async def scenario():
        cluster = Cluster(classes=[Quitter])
        try:
            cluster.add_worker()
            assert await cluster.master.wait_for_workers(1, 10)
            cluster.master.start(Users(1, 10))
            await asyncio.wait_for(cluster.master_env.test_stop_event.wait(), 10)
            assert cluster.master_env.stop_reason == "StopTest raised by a task"
            await cluster.master.stop()
        finally:
            await cluster.close()

    uvloop.run(scenario())


def test_each_second_is_closed_once_even_when_the_timer_wakes_a_little_early(monkeypatch):
    """A timer that fires 1 ms early used to close the same second twice, then skip one."""
    import horde.distributed.master as master_module

    clock = [1000.5]
    closed: list[float] = []

    async def early_sleep(delay: float) -> None:
        clock[0] += max(delay - 0.001, 0.0)  # wakes a millisecond before it was asked
        if len(closed) >= 6:
            raise asyncio.CancelledError

    monkeypatch.setattr(master_module.time, "time", lambda: clock[0])
    monkeypatch.setattr(master_module.asyncio, "sleep", early_sleep)
    runner = MasterRunner.__new__(MasterRunner)
    runner.close_second = closed.append  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(runner._tick_every_second())
    assert closed == [1001.0, 1002.0, 1003.0, 1004.0, 1005.0, 1006.0]

    # Woken 1.5 s late after closing 1001: the next second due comes at once, the one missed
    # shares its row.
    assert master_module.next_tick(1002.8, 1001) == (0.5, 1003)
