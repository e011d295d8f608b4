"""Writing scenarios: users, tasks, task sets, waits and load shapes; loading a scenario file.

Layer: what scenario files see. It runs user code in either style (``async`` tasks awaited,
plain ones through ``horde.bridge``) and gives ``HttpUser`` its client (``horde.http``); it
records into ``horde.stats`` and knows no runner (a user's environment is typed only).
"""

from horde.scenario.markov import MarkovTaskSet, transition, transitions
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
    "MarkovTaskSet",
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
    "transition",
    "transitions",
]
