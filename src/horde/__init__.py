"""horde: load testing for web applications, with Locust-style scenarios on an asyncio engine.

Everything a scenario file needs is importable from here::

    from horde import HttpUser, task, between

    class Visitor(HttpUser):
        wait_time = between(1, 3)

        @task
        def home(self):
            self.client.get("/")

This module is the API of scenario files; horde's own modules never import it. They form layers,
each importing only from those below it (``make lint`` checks it; the contract is in
pyproject.toml), from the top: ``cli``; ``options`` (flags, config file, environment ->
``settings``); ``modes`` (headless, web, master, worker, capacity, built by ``modes.compose``);
``web`` | ``distributed``; ``console``, ``output``, ``report``; ``runner``; ``settings``;
``scenario`` | ``thresholds``; ``bridge``; ``http``; ``stats``; and at the bottom ``events``,
``exceptions``, ``units``, ``version``.
"""

from horde.events import events
from horde.exceptions import (
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    StopTest,
    StopUser,
)
from horde.scenario import (
    FastHttpUser,
    HttpLocust,
    HttpUser,
    LoadShape,
    LoadTestShape,
    Locust,
    MarkovTaskSet,
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
    transition,
    transitions,
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
    "MarkovTaskSet",
    "RescheduleTask",
    "RescheduleTaskImmediately",
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
    "transition",
    "transitions",
]
