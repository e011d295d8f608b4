"""Exceptions that scenario code raises to steer a user or the whole test (Locust's names)."""

from __future__ import annotations


class StopUser(Exception):
    """Raised in a task to end this user (its ``on_stop`` runs; the others carry on)."""


class UserStopped(BaseException):
    """horde stopping a user: raised in its code at its next request once it must stop now.

    A ``BaseException``, as Locust's ``GreenletExit`` is, so that the common locustfile idiom
    ``while True: try: self.client.get(...) except Exception: pass`` ends when the test stops
    instead of spinning for ever on a client that refuses every request. User code that wants
    to end its own user raises ``StopUser``.
    """


class UserCodeAbandoned(UserStopped):
    """Raised asynchronously into user code that kept the event loop to itself past the stop
    deadline (``while True: pass``, or a loop that swallows every exception).

    Whatever user code does, a run ends on time and writes its results: this is the first means
    (``horde.runner.stop_guard``); the abandoned code is reported in the exception table.
    """

    reason = "abandoned: it would not stop when the test was asked to"

    def __init__(self, *args: object) -> None:
        # Raised asynchronously, it is made from its class without arguments.
        super().__init__(*(args or (self.reason,)))


class StopTest(Exception):
    """Raised in a task to end the whole test run; results are still written."""


class InterruptTaskSet(Exception):
    """Raised by ``TaskSet.interrupt()``: leave the current task set for its parent."""

    def __init__(self, reschedule: bool = True) -> None:
        super().__init__(reschedule)
        self.reschedule = reschedule


class RescheduleTask(Exception):
    """Raised in a task to end it here: the user waits its ``wait_time``, then picks the next
    task (as if the task had returned; Locust's rule)."""


class RescheduleTaskImmediately(Exception):
    """Raised in a task to pick the next task at once, without waiting."""


FLOW_CONTROL: tuple[type[BaseException], ...] = (
    StopUser,
    StopTest,
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    UserStopped,
)
"""Exceptions that steer users rather than report a problem: an event listener may raise them
(a request listener ending its task), and they pass through where other errors are caught."""


class ScenarioError(Exception):
    """A problem in the user's scenario file or options, reported as one sentence (exit code 2)."""
