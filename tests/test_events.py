"""The request event: the door a custom client reports through, with no per-run state in it."""

import gc
import weakref

import pytest

from horde import User, events, task
from horde.events import Events
from horde.runner.environment import Environment
from horde.stats import RequestStats


class Idle(User):
    @task
    def nothing(self):
        pass


def fire(hooks: Events, name: str, exc: Exception | None = None) -> None:
    hooks.request.fire(
        request_type="WS", name=name, response_time=2.5, response_length=7, exception=exc
    )


def test_a_custom_clients_request_lands_in_the_current_runs_stats():
    env = Environment(user_classes=[Idle], stats=RequestStats())
    fire(events, "send")
    fire(events, "send", ValueError("closed"))
    row = env.stats.entry("WS", "send")
    assert row.num_requests == 2
    assert row.num_failures == 1
    assert row.total_response_time == 5000  # µs
    assert row.total_content_length == 14
    assert [e.error for e in env.stats.errors.values()] == ["ValueError: closed"]


def test_record_false_is_for_listeners_only():
    hooks = Events()
    env = Environment(user_classes=[Idle], stats=RequestStats(), events=hooks)
    heard = []
    hooks.request.add_listener(lambda **kw: heard.append(kw["name"]))
    hooks.request.fire(request_type="GET", name="/", response_time=1.0, record=False)
    assert heard == ["/"]
    assert env.stats.total.num_requests == 0


def test_each_environment_counts_only_its_own_events():
    first = Environment(user_classes=[Idle], stats=RequestStats(), events=Events())
    second = Environment(user_classes=[Idle], stats=RequestStats(), events=Events())
    fire(first.events, "a")
    assert (first.stats.total.num_requests, second.stats.total.num_requests) == (1, 0)


def test_the_global_event_keeps_no_run_alive():
    """The event holds runs' recorders weakly: a run that is gone is not counted into, nor kept."""
    env = Environment(user_classes=[Idle], stats=RequestStats())
    stats = weakref.ref(env.stats)
    del env
    gc.collect()
    assert stats() is None
    fire(events, "after")  # no error, nothing left to count into
    assert Environment(user_classes=[Idle], stats=RequestStats()).stats.total.num_requests == 0


def test_listeners_of_the_runs_own_events_hear_its_http_requests(queue_target):
    """An environment made with its own Events (as a library user or a test may) hears its
    users' HTTP requests there, not on the global events."""
    import asyncio

    import uvloop

    from horde import HttpUser, constant
    from horde.runner.load import Users
    from horde.runner.local import LocalRunner

    server = queue_target()

    class Visitor(HttpUser):
        wait_time = constant(0.01)

        @task
        async def index(self):
            await self.client.get("/heard")

    hooks = Events()
    heard: list[str] = []
    hooks.request.add_listener(lambda **kw: heard.append(kw["name"]))

    async def scenario() -> Environment:
        env = Environment(
            user_classes=[Visitor], host=server.url, stats=RequestStats(), events=hooks
        )
        runner = LocalRunner(env)
        runner.start(Users(2, 100))
        await asyncio.sleep(0.5)
        await runner.stop()
        return env

    env = uvloop.run(scenario())
    assert env.stats.total.num_requests > 10
    assert heard == ["/heard"] * env.stats.total.num_requests


LOCUST_EVENTS = {
    "request", "user_error", "report_to_master", "worker_report", "worker_connect",
    "spawning_complete", "quitting", "quit", "init", "init_command_line_parser", "test_start",
    "test_stopping", "test_stop", "reset_stats", "cpu_warning", "heartbeat_sent",
    "heartbeat_received", "usage_monitor",
}  # fmt: skip
"""Locust 2.47's events (locust/event.py's Events annotations)."""


def test_every_locust_event_is_there():
    hooks = Events()
    found = {name for name, value in vars(hooks).items() if not name.startswith("_")}
    assert found == LOCUST_EVENTS
    assert all(hasattr(getattr(hooks, n), "add_listener") for n in LOCUST_EVENTS)


def test_a_listener_that_raises_is_logged_counted_and_the_others_still_run(caplog):
    from horde.exceptions import RescheduleTask

    hooks = Events()
    heard = []

    def broken(**kwargs):
        raise ValueError("listener bug")

    hooks.test_start.add_listener(broken)
    hooks.test_start.add_listener(lambda **kw: heard.append(kw["environment"]))
    hooks.test_start.fire(environment="env")
    assert heard == ["env"]
    assert hooks.listener_failures == 1
    assert "Uncaught exception in event handler" in caplog.text and "listener bug" in caplog.text

    # Control flow is not a bug: a request listener may end the task (Locust's examples do).
    def reschedule(**kwargs):
        raise RescheduleTask()

    hooks.request.add_listener(reschedule)
    with pytest.raises(RescheduleTask):
        hooks.request.fire(request_type="GET", name="/", response_time=1.0, record=False)
    assert hooks.listener_failures == 1


def test_fire_in_reverse_and_measure():
    hooks = Events()
    order = []
    hooks.quitting.add_listener(lambda **kw: order.append(1))
    hooks.quitting.add_listener(lambda **kw: order.append(2))
    hooks.quitting.fire(reverse=True)
    assert order == [2, 1]

    fired = []
    hooks.request.add_listener(lambda **kw: fired.append(kw))
    with hooks.request.measure("CUSTOM", "ok", response_length=3):
        pass
    with hooks.request.measure("CUSTOM", "broken") as meta:
        meta["context"]["step"] = 2
        raise OSError("down")
    assert [(f["name"], f["exception"] is None) for f in fired] == [("ok", True), ("broken", False)]
    assert fired[1]["context"] == {"step": 2} and fired[1]["response_time"] >= 0
    assert isinstance(fired[1]["exception"], OSError) and fired[0]["response_length"] == 3


def test_a_custom_clients_listeners_get_a_context_when_it_gives_none():
    hooks = Events()
    contexts = []
    hooks.request.add_listener(lambda context, **kw: contexts.append(context))
    hooks.request.fire(request_type="WS", name="send", response_time=1.0, record=False)
    assert contexts == [{}]


def test_usage_monitor_fires_with_cpu_and_memory(monkeypatch):
    import asyncio

    import uvloop

    from horde.modes import hooks as mode_hooks

    monkeypatch.setattr(mode_hooks, "CPU_MONITOR_INTERVAL", 0.05)
    monkeypatch.setattr(mode_hooks, "CPU_WARNING_THRESHOLD", -1.0)  # every reading warns
    hooks = Events()
    env = Environment(user_classes=[Idle], stats=RequestStats(), events=hooks)
    usage, warnings = [], []
    hooks.usage_monitor.add_listener(lambda **kw: usage.append(kw))
    hooks.cpu_warning.add_listener(lambda **kw: warnings.append(kw["cpu_usage"]))

    async def main() -> None:
        async with mode_hooks.usage_monitor(env):
            await asyncio.sleep(0.3)

    uvloop.run(main())
    assert len(usage) >= 2 and len(warnings) == len(usage)
    assert usage[0]["environment"] is env and usage[0]["memory_usage"] > 10_000_000
    assert usage[0]["cpu_usage"] >= 0
