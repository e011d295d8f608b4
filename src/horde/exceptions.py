"""Exceptions that scenario code raises to steer a user or the whole test (Locust's names)."""

from __future__ import annotations


class StopUser(Exception):
    """Raised in a task (or by the client while the user is being stopped) to end this user."""


class StopTest(Exception):
    """Raised in a task to end the whole test run; results are still written."""


class InterruptTaskSet(Exception):
    """Raised by ``TaskSet.interrupt()``: leave the current task set for its parent."""

    def __init__(self, reschedule: bool = True) -> None:
        super().__init__(reschedule)
        self.reschedule = reschedule


class RescheduleTask(Exception):
    """Raised in a task to pick the next task at once, without waiting."""


class ScenarioError(Exception):
    """A problem in the user's scenario file or options, reported as one sentence (exit code 2)."""
