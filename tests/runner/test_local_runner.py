"""The local runner with users that use no network: spawning, stopping, task styles, hooks.

Requests are recorded through ``events.request.fire``, the door any custom client uses, so these
tests also cover the custom-client path into the stats.
"""

import asyncio
import logging
import time

import pytest
import uvloop

from horde import (
    SequentialTaskSet,
    StopTest,
    StopUser,
    TaskSet,
    User,
    constant,
    events,
    sleep,
    task,
)
from horde.runner.environment import Environment
from horde.runner.load import ArrivalRate, Users
from horde.runner.local import LocalRunner, RunnerState
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(60)


def record(name: str, ms: float = 1.0, exc=None):
    events.request.fire(
        request_type="CUSTOM", name=name, response_time=ms, response_length=10, exception=exc
    )


def make_env(*classes, **kwargs) -> Environment:
    return Environment(user_classes=list(classes), stats=RequestStats(), **kwargs)


def run(coro):
    return uvloop.run(coro)


def test_blocking_and_async_tasks_run_side_by_side_on_one_loop():
    class Mixed(User):
        wait_time = constant(0.01)

        @task
        def blocking(self):
            sleep(0.01)  # blocking style: hands the wait to the loop
            record("blocking")

        @task
        async def non_blocking(self):
            await sleep(0.01)
            record("async")

    async def scenario():
        env = make_env(Mixed)
        runner = LocalRunner(env)
        runner.start(Users(20, 1000))
        await asyncio.sleep(0.5)
        await runner.stop()
        return env

    env = run(scenario())
    names = {e.name: e.num_requests for e in env.stats.sorted_entries()}
    # 20 users, ~50 tasks/s each, both styles interleaved: the loop was never blocked.
    assert names["blocking"] > 50
    assert names["async"] > 50
    assert env.stats.total.num_requests == names["blocking"] + names["async"]


def test_spawn_rate_and_user_count_over_time():
    class Idle(User):
        wait_time = constant(60)

        @task
        async def nothing(self):
            pass

    async def scenario():
        env = make_env(Idle)
        runner = LocalRunner(env)
        t0 = time.monotonic()
        runner.start(Users(10, 10))  # 10 users at 10/s: about 1 s of ramp
        samples = []
        while runner.state == RunnerState.SPAWNING:
            samples.append((time.monotonic() - t0, runner.user_count))
            await asyncio.sleep(0.05)
        ramp = time.monotonic() - t0
        assert runner.user_count == 10
        runner.change(Users(4, 100))  # ramp down
        while runner.state == RunnerState.SPAWNING:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        down = runner.user_count
        await runner.stop()
        return samples, ramp, down

    samples, ramp, down = run(scenario())
    assert 0.8 <= ramp <= 1.6
    # At any sample, users started ~= elapsed * rate (+1 for the first one at t=0).
    for elapsed, count in samples:
        assert abs(count - (int(elapsed * 10) + 1)) <= 2
    assert down == 4


def test_weights_and_fixed_count_decide_the_mix():
    class Many(User):
        weight = 3
        wait_time = constant(60)

        @task
        async def t(self):
            pass

    class Few(User):
        weight = 1
        wait_time = constant(60)

        @task
        async def t(self):
            pass

    class Admin(User):
        fixed_count = 1
        wait_time = constant(60)

        @task
        async def t(self):
            pass

    async def scenario():
        runner = LocalRunner(make_env(Many, Few, Admin))
        runner.start(Users(9, 1e6))
        await asyncio.sleep(0.1)
        counts = runner.user_classes_count
        await runner.stop()
        return counts

    assert run(scenario()) == {"Many": 6, "Few": 2, "Admin": 1}


def test_hooks_task_sets_interrupt_and_exceptions():
    trace = []

    class Steps(SequentialTaskSet):
        def on_start(self):
            trace.append("set start")

        @task
        def one(self):
            trace.append("one")

        @task
        def two(self):
            trace.append("two")
            self.interrupt()

        def on_stop(self):
            trace.append("set stop")

    class Shopper(User):
        wait_time = constant(0)
        tasks = [Steps]

        async def on_start(self):
            trace.append("user start")

        def on_stop(self):
            trace.append("user stop")

    class Broken(User):
        wait_time = constant(0.05)

        @task
        def fails(self):
            raise ValueError("scenario bug")

    async def scenario():
        env = make_env(Shopper, Broken)
        runner = LocalRunner(env)
        runner.start(Users(2, 1000))
        await asyncio.sleep(0.3)
        await runner.stop()
        return env

    env = run(scenario())
    assert trace[:5] == ["user start", "set start", "one", "two", "set stop"]
    assert trace[-1] == "user stop"
    (exc,) = env.stats.exceptions.values()
    assert exc.count >= 2
    assert "ValueError: scenario bug" in exc.traceback


def test_stop_user_and_stop_test():
    class Once(User):
        wait_time = constant(0)

        @task
        def only_once(self):
            record("once")
            raise StopUser()

    class Ender(User):
        wait_time = constant(0.2)

        @task
        async def end(self):
            await sleep(0.2)
            raise StopTest()

    async def scenario():
        env = make_env(Once, Ender)
        runner = LocalRunner(env)
        runner.start(Users(4, 1000))
        await asyncio.wait_for(env.test_stop_event.wait(), 5)
        await runner.stop()
        return env

    env = run(scenario())
    assert env.stats.entry("CUSTOM", "once").num_requests == 2  # two Once users, once each
    assert env.stop_reason == "StopTest raised by a task"


def test_stop_timeout_lets_the_current_task_finish():
    finished = []

    class Slow(User):
        wait_time = constant(0)

        @task
        async def slow(self):
            await asyncio.sleep(0.3)
            finished.append(1)
            record("slow")

    async def scenario(stop_timeout):
        env = make_env(Slow, stop_timeout=stop_timeout)
        runner = LocalRunner(env)
        runner.start(Users(3, 1000))
        await asyncio.sleep(0.1)
        await runner.stop()
        return env

    finished.clear()
    run(scenario(1.0))
    assert len(finished) == 3  # all three finished their task within the stop timeout


def test_blocking_the_loop_is_warned_once_per_task(caplog):
    from horde.runner.blockwatch import BlockWatch

    class Sleepy(User):
        wait_time = constant(0)

        @task
        def naps(self):
            time.sleep(0.25)  # the mistake: blocks every user

    async def scenario():
        env = make_env(Sleepy)
        watch = BlockWatch()
        watch.start(asyncio.get_running_loop())
        runner = LocalRunner(env)
        runner.start(Users(1, 10))
        await asyncio.sleep(1.0)
        await runner.stop()
        watch.stop()

    with caplog.at_level(logging.WARNING, logger="horde.blocking"):
        run(scenario())
    warnings = [r.getMessage() for r in caplog.records if r.name == "horde.blocking"]
    assert len(warnings) == 1
    assert "naps" in warnings[0]
    assert "blocked the event loop" in warnings[0]


def test_custom_task_set_with_plain_function_tasks():
    def browse(ts):
        record("browse")

    class Browsing(TaskSet):
        tasks = [browse]

    class Reader(User):
        wait_time = constant(0.01)
        tasks = [Browsing]

    async def scenario():
        env = make_env(Reader)
        runner = LocalRunner(env)
        runner.start(Users(1, 10))
        await asyncio.sleep(0.2)
        await runner.stop()
        return env

    assert run(scenario()).stats.entry("CUSTOM", "browse").num_requests > 3


def test_start_and_change_take_only_the_runners_own_load_model():
    """A load says what it means: users to a runner of users, never a rate read as users."""

    class Waiting(User):
        wait_time = constant(60)

        @task
        def nothing(self):
            pass

    async def scenario():
        env = make_env(Waiting)
        runner = LocalRunner(env)
        with pytest.raises(RuntimeError, match="no test runs"):
            runner.change(Users(1, 10))
        with pytest.raises(TypeError, match="runs the users model, not arrival_rate"):
            runner.start(ArrivalRate(5))
        runner.start(Users(2, 100))
        with pytest.raises(RuntimeError, match="already"):
            runner.start(Users(3, 100))
        with pytest.raises(TypeError):
            runner.change(ArrivalRate(5))
        runner.change(Users(1, 100))
        await asyncio.sleep(0.1)
        count = runner.user_count
        await runner.stop()
        return count

    assert run(scenario()) == 1
    with pytest.raises(ValueError, match="spawn rate > 0"):
        Users(1, 0)
    with pytest.raises(ValueError, match="finite"):
        ArrivalRate(float("inf"))
