"""Stages and load shapes: parsing, and runs that follow the plan within a second per step."""

import asyncio
import json
import subprocess
import sys
import time

import pytest
import uvloop

from horde import HttpUser, LoadShape, User, constant, task
from horde.runner.arrival_rate import ArrivalRateRunner
from horde.runner.environment import Environment
from horde.runner.local import LocalRunner
from horde.runner.shapes import ShapeDriver
from horde.scenario.shape import Stage, StagesShape, parse_stages
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(90)


class Idle(User):
    wait_time = constant(60)

    @task
    async def nothing(self):
        pass


class Visitor(HttpUser):
    @task
    async def index(self):
        await self.client.get("/")


def test_parse_stages_users_and_rates():
    assert parse_stages("30s:100,1m:100,30s:0") == (
        "users",
        [Stage(30, 100), Stage(60, 100), Stage(30, 0)],
    )
    assert parse_stages("10s:50/s, 1m30s:50/s") == ("arrival_rate", [Stage(10, 50), Stage(90, 50)])
    for bad, words in (
        ("", "empty"),
        ("30s", "invalid stage"),
        ("30s:10,1m:20/s", "mixes users and rates"),
        ("soon:10", "invalid duration"),
        ("10s:2.5", "whole"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_stages(bad)


def test_stages_shape_plans_linear_ramps():
    shape = StagesShape([Stage(10, 100), Stage(10, 100), Stage(5, 0)])
    assert shape.planned(5) == pytest.approx(50)
    assert shape.planned(15) == pytest.approx(100)
    assert shape.planned(22.5) == pytest.approx(50)
    assert shape.duration == 25


def test_closed_model_stages_follow_the_plan_within_a_second():
    plan = [Stage(2, 20), Stage(2, 20), Stage(1, 0)]

    async def scenario():
        env = Environment(user_classes=[Idle], stats=RequestStats())
        runner = LocalRunner(env)
        driver = ShapeDriver(env, runner, StagesShape(plan))
        t0 = time.monotonic()
        driver.start()
        samples = []
        while not env.test_stop_event.is_set() and time.monotonic() - t0 < 10:
            samples.append((time.monotonic() - t0, runner.user_count))
            await asyncio.sleep(0.05)
        ended = time.monotonic() - t0
        driver.stop()
        await runner.stop()
        return samples, ended, env

    samples, ended, env = uvloop.run(scenario())
    shape = StagesShape(plan)
    for t, users in samples:
        # Within one second of the plan: the count now is what the plan said at some moment
        # in the last second (the plan moves 10 users/s at most).
        lo = min(shape.planned(max(0.0, t - 1)), shape.planned(t))
        hi = max(shape.planned(max(0.0, t - 1)), shape.planned(t))
        assert lo - 1 <= users <= hi + 1, (t, users)
    assert max(u for _, u in samples) == 20
    assert 5 <= ended < 6.5
    assert env.stop_reason == "the load shape ended"


def test_open_model_stages_ramp_the_arrival_rate(queue_target):
    server = queue_target()

    async def scenario():
        env = Environment(user_classes=[Visitor], host=server.url, stats=RequestStats())
        runner = ArrivalRateRunner(env)
        _, stages = parse_stages("2s:200/s,2s:200/s")
        driver = ShapeDriver(env, runner, StagesShape(stages, "arrival_rate"))
        driver.start()
        await asyncio.sleep(2.0)
        at_two = runner.started
        await asyncio.sleep(2.0)
        at_four = runner.started
        await env.test_stop_event.wait()
        driver.stop()
        await runner.stop()
        return at_two, at_four

    at_two, at_four = uvloop.run(scenario())
    # A ramp 0 -> 200/s over 2 s starts 200 iterations; the hold at 200/s another 400.
    assert at_two == pytest.approx(200, rel=0.05)
    assert at_four - at_two == pytest.approx(400, rel=0.05)


SHAPE_SCENARIO = """
from horde import LoadShape, User, constant, task

class Idle(User):
    wait_time = constant(60)

    @task
    async def nothing(self):
        pass

class StepShape(LoadShape):
    def tick(self):
        t = self.get_run_time()
        if t < 1.5:
            return 5, 100
        if t < 3:
            return 10, 100
        return None
"""


def test_a_load_shape_in_the_scenario_file_drives_a_headless_run(tmp_path):
    path = tmp_path / "shaped.py"
    path.write_text(SHAPE_SCENARIO)
    result = subprocess.run(
        [sys.executable, "-m", "horde", "run", str(path), "--headless", "--only-summary",
         "--json", str(tmp_path / "out.json")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["meta"]["stop_reason"] == "the load shape ended"
    assert "load shape" in data["meta"]["load_model"]
    rows = data["history"]
    assert [r["target"] for r in rows[:1]] == [5.0]
    assert 10.0 in [r["target"] for r in rows]
    assert max(r["user_count"] for r in rows) == 10
    assert 2.5 < data["meta"]["duration"] < 5


def test_stages_and_arrival_rate_conflicts_are_usage_errors(tmp_path):
    path = tmp_path / "shaped.py"
    path.write_text(SHAPE_SCENARIO)
    for args, words in (
        (["--stages", "1s:5", "--arrival-rate", "5/s"], "--stages and --arrival-rate"),
        (["--arrival-rate", "1/s..5/s"], "add -t"),
        (["--stages", "1s:5,2s"], "invalid stage"),
        (["--max-concurrency", "0", "--arrival-rate", "5/s"], "at least 1"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "horde", "run", str(path), "--headless", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr
        assert "Traceback" not in result.stderr


def test_a_load_shape_class_must_be_unique(tmp_path):
    path = tmp_path / "two.py"
    path.write_text(
        SHAPE_SCENARIO + "\nclass Other(LoadShape):\n    def tick(self):\n        return None\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "horde", "run", str(path), "--headless"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "more than one load shape" in result.stderr
    assert LoadShape.abstract is True


def test_a_rate_ramp_starts_at_its_first_rate(queue_target):
    """--arrival-rate 100/s..200/s over 2 s: 300 iterations (from 100/s, not from zero)."""
    server = queue_target()

    async def scenario():
        env = Environment(user_classes=[Visitor], host=server.url, stats=RequestStats())
        runner = ArrivalRateRunner(env)
        shape = StagesShape([Stage(2, 200)], "arrival_rate", start=100)
        driver = ShapeDriver(env, runner, shape)
        driver.start()
        await asyncio.sleep(2.0)
        started = runner.started
        driver.stop()
        await runner.stop()
        return started

    assert uvloop.run(scenario()) == pytest.approx(300, rel=0.05)
