"""Pytest-style locustfiles (Locust's ``examples/test_pytest.py``): test functions as users.

A file with no User class but ``test_*`` functions taking Locust's pytest fixtures
(``session``, ``fastsession``: an HTTP client for the run's host) runs under Locust with one
user class per function, each user calling its function over and over with its own session.
horde does the same without pytest: the fixtures are the two Locust provides, made for each
user (``locust.clients.HttpSession`` bound to the user: its requests count in the run). As under
Locust, a request error or a failure a test raises (``raise_for_status()``) ends that call
only; the next one starts at once (there is no ``wait_time``: tests pace themselves with
``time.sleep``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from horde.bridge import run_blocking
from horde.exceptions import ScenarioError
from horde.http.errors import RequestError
from horde.scenario.client import LocustFastHttpSession, LocustHttpSession
from horde.scenario.tasks import Task
from horde.scenario.users import User

__all__ = ["FIXTURES", "PytestUser", "users_from_tests"]

log = logging.getLogger("horde.user")

FIXTURES = ("session", "fastsession")
"""Locust's pytest fixtures (pytest_locust.plugin): both are an HTTP client here."""


class PytestUser(User):
    """Calls its test functions in turn, for ever, each with the fixtures it names."""

    abstract = True
    functions: list[Callable[..., Any]] = []

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.sessions: list[LocustHttpSession] = []

    def _fixtures(self, function: Callable[..., Any]) -> list[Any]:
        made = []
        for name in inspect.signature(function).parameters:
            kind = LocustFastHttpSession if name == "fastsession" else LocustHttpSession
            session = kind(
                base_url=self.host or "", request_event=self.environment.events.request, user=self
            )
            self.sessions.append(session)
            made.append(session)
        return made

    def request_stop(self, hard: bool = False) -> None:
        super().request_stop(hard)
        if hard:
            for session in self.sessions:
                session.stopping = True

    async def run(self) -> None:
        from horde.compat.waiting import user_tasks
        from horde.exceptions import StopTest, StopUser, UserStopped

        task = asyncio.current_task()
        if task is not None:
            user_tasks.add(task)
        calls = [(f, self._fixtures(f)) for f in self.functions]
        stats = self.environment.stats
        try:
            while not self.stop_requested:
                for function, arguments in calls:
                    self.current_task_name = function.__name__
                    try:
                        await run_blocking(function, *arguments)
                    except RequestError as exc:  # raise_for_status(), failure(): next call
                        log.debug("%s: %s", function.__name__, exc)
                    except (StopUser, UserStopped):
                        return
                    except StopTest:
                        self.environment.request_test_stop("StopTest raised by a test")
                        return
                    except Exception as exc:
                        stats.record_exception(exc, where=function.__name__)
                    if self.stop_requested:
                        return  # type: ignore[unreachable]  # set by the runner meanwhile
                await asyncio.sleep(0)
        finally:
            for session in self.sessions:
                session.close()


def users_from_tests(module: ModuleType) -> list[type[User]]:
    """User classes for the ``test_*`` functions of a pytest-style locustfile (none if it has
    none); ``ScenarioError`` for a test taking a fixture horde does not provide."""
    found: list[type[User]] = []
    for name, value in vars(module).items():
        if not name.startswith("test_") or not inspect.isfunction(value):
            continue
        if value.__module__ != module.__name__:
            continue
        for parameter in inspect.signature(value).parameters:
            if parameter not in FIXTURES:
                raise ScenarioError(
                    f"{name}() takes the fixture {parameter!r}: horde runs pytest-style "
                    f"locustfiles with Locust's fixtures ({', '.join(FIXTURES)}) only"
                )
        body = {"functions": [value], "__module__": module.__name__}
        cls: type[PytestUser] = type(name, (PytestUser,), body)
        cls._horde_tasks = [Task(value, 1)]  # for the web UI's task ratios
        found.append(cls)
    return found
