"""Writing scenarios: users, tasks, task sets and waits."""

from horde.scenario.shape import LoadShape, LoadTestShape
from horde.scenario.sleep import sleep
from horde.scenario.tasks import SequentialTaskSet, TaskSet, tag, task
from horde.scenario.users import FastHttpUser, HttpLocust, HttpUser, Locust, User
from horde.scenario.wait_time import (
    between,
    constant,
    constant_pacing,
    constant_throughput,
    poisson,
)

__all__ = [
    "FastHttpUser",
    "HttpLocust",
    "HttpUser",
    "LoadShape",
    "LoadTestShape",
    "Locust",
    "SequentialTaskSet",
    "TaskSet",
    "User",
    "between",
    "constant",
    "constant_pacing",
    "constant_throughput",
    "poisson",
    "sleep",
    "tag",
    "task",
]
