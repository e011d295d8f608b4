"""The blocked-loop warning names what blocked the loop: the task, or the hook, of any runner."""

import asyncio
import logging
import time

import pytest
import uvloop

from horde import User, constant, task
from horde.runner.arrival_rate import ArrivalRateRunner
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.load import ArrivalRate, Users
from horde.runner.local import LocalRunner
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(60)


class Hooks(User):
    wait_time = constant(0.05)

    def on_start(self):
        time.sleep(0.2)

    @task
    async def fetch(self):
        time.sleep(0.2)  # the mistake, in an async task

    def on_stop(self):
        time.sleep(0.2)


def warnings_of(caplog, make_runner, start):
    async def scenario():
        env = Environment(user_classes=[Hooks], stats=RequestStats())
        watch = BlockWatch()
        watch.start(asyncio.get_running_loop())
        runner = make_runner(env)
        start(runner)
        await asyncio.sleep(1.0)
        await runner.stop()
        await asyncio.sleep(0.1)
        watch.stop()

    with caplog.at_level(logging.WARNING, logger="horde.blocking"):
        uvloop.run(scenario())
    return [r.getMessage() for r in caplog.records if r.name == "horde.blocking"]


def test_hooks_and_async_tasks_are_named_in_the_closed_model(caplog):
    found = warnings_of(caplog, LocalRunner, lambda runner: runner.start(Users(1, 10)))
    for name in ("Hooks.on_start", "Hooks.fetch", "Hooks.on_stop"):
        assert any(w.startswith(f"task {name} blocked the event loop") for w in found), found
    assert not any("?" in w.split("blocked")[0] for w in found)


def test_tasks_are_named_in_the_open_model(caplog):
    found = warnings_of(caplog, ArrivalRateRunner, lambda runner: runner.start(ArrivalRate(5)))
    for name in ("Hooks.on_start", "Hooks.fetch", "Hooks.on_stop"):
        assert any(w.startswith(f"task {name} blocked the event loop") for w in found), found
