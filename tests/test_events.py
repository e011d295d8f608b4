"""The request event: the door a custom client reports through, with no per-run state in it."""

import gc
import weakref

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
