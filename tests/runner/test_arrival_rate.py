"""The open model against real servers: rate accuracy, and latency that a stall cannot hide."""

import asyncio
import math

import pytest
import uvloop

from horde import HttpUser, constant, task
from horde.runner.arrival_rate import ArrivalRateRunner, RateSegment
from horde.runner.environment import Environment
from horde.runner.load import ArrivalRate, Users
from horde.runner.local import LocalRunner
from horde.stats import RequestStats
from horde.stats.histogram import MAX_INDEX, bucket_value
from horde.units import parse_rate

pytestmark = pytest.mark.timeout(90)


PATH = "/open-model"  # counted apart by the server: nothing but this test sends it


class Visitor(HttpUser):
    @task
    def index(self):
        self.client.get(PATH)


class ClosedVisitor(HttpUser):
    wait_time = constant(0.05)

    @task
    async def index(self):
        await self.client.get("/")


def slower_than(stats: RequestStats, ms: float) -> int:
    """Requests whose recorded time is at least ``ms`` (bucket resolution: < 1%)."""
    counts = stats.total.histogram.counts
    limit = ms * 1000
    return sum(counts[i] for i in range(MAX_INDEX + 1) if counts[i] and bucket_value(i) >= limit)


def test_parse_rate_forms():
    assert parse_rate("500/s") == 500
    assert parse_rate("3000/m") == 50
    assert parse_rate("7200/h") == 2
    assert parse_rate("25") == 25
    for bad in ("fast", "-5/s", "5/d", ""):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_rate_segment_integrates_a_ramp_exactly():
    # 0 -> 100/s over 2 s: 100 iterations are due in the ramp, the 100th at exactly t=2.
    segment = RateSegment(0.0, 0.0, 100.0, 50.0)
    t = 0.0
    for _ in range(100):
        t = segment.advance(t, 1.0)
    assert t == pytest.approx(2.0, abs=1e-9)
    # Then constant 100/s.
    assert segment.advance(t, 1.0) == pytest.approx(2.01)
    assert RateSegment(0.0, 0.0, 0.0, math.inf).advance(0.0, 1.0) is None


def test_achieved_rate_is_within_two_percent_of_the_target(queue_target):
    server = queue_target()

    async def scenario():
        env = Environment(user_classes=[Visitor], host=server.url, stats=RequestStats())
        runner = ArrivalRateRunner(env)
        runner.start(ArrivalRate(400))
        await asyncio.sleep(4)
        await runner.stop()
        return env, runner

    env, runner = uvloop.run(scenario())
    summary = runner.summary()
    assert summary["achieved_rate"] == pytest.approx(400, rel=0.02)
    assert summary["dropped_iterations"] == 0
    assert env.stats.total.num_failures == 0
    # The server saw exactly what the stats say.
    served = int(server.get(f"/__count?path={PATH}"))
    assert env.stats.total.num_requests == served
    # Every iteration is one GET, but one that started just as the test stopped is told to stop
    # at its request and sends none.
    assert 0 <= summary["started_iterations"] - served <= 3
    assert env.service_stats.total.num_requests == env.stats.total.num_requests


async def _run_with_stall(runner, server, seconds=3.0):
    """Run ``seconds``, with the server stalling for 1 s from t=1 s."""
    await asyncio.sleep(1.0)
    await asyncio.to_thread(server.get, "/__stall?ms=1000")
    await asyncio.sleep(seconds - 1.0)
    await runner.stop()


def test_a_stall_shows_in_open_model_latencies_and_hides_in_the_closed_model(queue_target):
    server = queue_target()

    async def open_model():
        env = Environment(user_classes=[Visitor], host=server.url, stats=RequestStats())
        runner = ArrivalRateRunner(env)
        runner.start(ArrivalRate(200))
        await _run_with_stall(runner, server)
        return env

    async def closed_model():
        env = Environment(user_classes=[ClosedVisitor], host=server.url, stats=RequestStats())
        runner = LocalRunner(env)
        runner.start(Users(10, 1000))  # about 200 requests/s, like the open model
        await _run_with_stall(runner, server)
        return env

    open_env = uvloop.run(open_model())
    closed_env = uvloop.run(closed_model())
    # ~200 iterations were due during the 1 s stall; those due in its first half waited >= 0.5 s.
    open_slow = slower_than(open_env.stats, 500)
    closed_slow = slower_than(closed_env.stats, 500)
    assert open_slow >= 70, open_slow
    # The closed model's 10 users each saw the stall once: the stall is 10 requests in its stats.
    assert closed_slow <= 10, closed_slow
    assert open_env.stats.total.get_response_time_percentile(0.9) >= 100
    assert closed_env.stats.total.get_response_time_percentile(0.9) < 100


def test_latency_counts_from_the_planned_start_when_iterations_must_wait(queue_target):
    """With 5 iterations in flight at most, those due during the stall wait for a free slot; the
    time they waited is charged to their latency, and the raw service time is kept apart."""
    server = queue_target()

    async def scenario():
        env = Environment(user_classes=[Visitor], host=server.url, stats=RequestStats())
        runner = ArrivalRateRunner(env, max_concurrency=5)
        runner.start(ArrivalRate(200))
        await _run_with_stall(runner, server)
        return env, runner

    env, runner = uvloop.run(scenario())
    summary = runner.summary()
    assert summary["late_iterations"] >= 150
    assert summary["dropped_iterations"] == 0
    assert slower_than(env.stats, 500) >= 70
    # Only the 5 requests in flight during the stall took long on the wire.
    assert slower_than(env.service_stats, 500) <= 5
    assert env.stats.total.num_requests == int(server.get(f"/__count?path={PATH}"))
