"""horde: load testing for web applications, with Locust-style scenarios on an asyncio engine.

Everything a scenario file needs is importable from here::

    from horde import HttpUser, task, between

    class Visitor(HttpUser):
        wait_time = between(1, 3)

        @task
        def home(self):
            self.client.get("/")
"""

from horde.events import events
from horde.exceptions import InterruptTaskSet, RescheduleTask, StopTest, StopUser
from horde.scenario import (
    FastHttpUser,
    HttpLocust,
    HttpUser,
    LoadShape,
    LoadTestShape,
    Locust,
    SequentialTaskSet,
    TaskSet,
    User,
    between,
    constant,
    constant_pacing,
    constant_throughput,
    poisson,
    sleep,
    tag,
    task,
)
from horde.version import __version__

__all__ = [
    "FastHttpUser",
    "HttpLocust",
    "HttpUser",
    "InterruptTaskSet",
    "LoadShape",
    "LoadTestShape",
    "Locust",
    "RescheduleTask",
    "SequentialTaskSet",
    "StopTest",
    "StopUser",
    "TaskSet",
    "User",
    "__version__",
    "between",
    "constant",
    "constant_pacing",
    "constant_throughput",
    "events",
    "poisson",
    "sleep",
    "tag",
    "task",
]
