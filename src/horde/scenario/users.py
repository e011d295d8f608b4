"""Simulated users: the class a scenario subclasses, and the loop that runs its tasks.

A user is one asyncio task on the run's event loop. Its loop picks a task, runs it (``async``
tasks are awaited; plain functions run in a greenlet through ``horde.bridge`` so Locust-style
blocking code works without blocking the loop), then waits ``wait_time``. Exceptions from user code
are data: they are counted in the run's exception table and the user carries on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from horde.bridge import run_blocking
from horde.exceptions import (
    InterruptTaskSet,
    RescheduleTask,
    StopTest,
    StopUser,
    UserCodeAbandoned,
    UserStopped,
)
from horde.http.body import DEFAULT_MAX_BODY_SIZE
from horde.http.session import HttpSession
from horde.scenario.client import HttpClient
from horde.scenario.tasks import Task, TaskHolder, TaskSet
from horde.scenario.wait_time import constant
from horde.stats.errors import describe_error

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.stats.recorder import Recorder

log = logging.getLogger("horde.user")

__all__ = ["FastHttpUser", "HttpLocust", "HttpUser", "Locust", "User", "create_user"]

YIELD_EVERY = 8  # zero-wait iterations between forced yields to the event loop


async def call_user_code(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a hook or task written in either style: await it if async, else run it bridged."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    return await run_blocking(fn, *args)


class User(TaskHolder):
    """A simulated visitor. Subclass it, give it tasks and a ``wait_time``; horde runs many.

    Class attributes (Locust's names): ``host`` (default target), ``weight`` (relative share of
    users), ``fixed_count`` (exactly this many, before weights share the rest), ``wait_time``,
    ``tasks``. Subclasses that are only bases for others set ``abstract = True``.
    """

    abstract: ClassVar[bool] = True
    host: str | None = None
    weight: int = 1
    fixed_count: int = 0
    wait_time: Callable[[Any], float] = constant(0)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "abstract" not in cls.__dict__:
            cls.abstract = False

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        if environment.host:
            # -H wins over the class's host, and user code reading self.host sees it (as in
            # Locust, which sets the class attribute from the environment).
            self.host = environment.host
        self.stop_requested = False
        self.current_task_name = ""
        # Set while the user waits between tasks: the runner may cancel it there at no cost.
        self.idle = False

    # Hooks -----------------------------------------------------------------------------------
    def on_start(self) -> Any:
        """Called once when the user starts (may be ``async``): log in, fetch a token..."""

    def on_stop(self) -> Any:
        """Called once when the user stops (may be ``async``)."""

    # Runner interface ------------------------------------------------------------------------
    def request_stop(self, hard: bool = False) -> None:
        """Ask the user to stop: after its current task, or (``hard``) at its next request.

        A hard stop still lets a request already in flight finish and be recorded, so the counts
        horde reports match what the server saw.
        """
        self.stop_requested = True

    def record_through(self, recorder: Recorder) -> bool:
        """Have this user's own requests recorded by ``recorder`` instead of the run's stats
        (the open model charges each iteration's start delay this way); False when the user has
        no client of horde's to redirect (a custom client fires ``events.request``, which the
        run counts as it is)."""
        return False

    async def run(self) -> None:
        """The user's whole life: on_start, the task loop, on_stop. Returns when it stops."""
        record = self.environment.stats.record_exception
        name = type(self).__name__
        try:
            try:
                self.current_task_name = f"{name}.on_start"
                await call_user_code(self.on_start)
                await run_task_loop(self, self)
            except UserCodeAbandoned as exc:
                # It would not stop: its on_stop is not given the chance to hang again.
                record(exc, where=self.current_task_name)
                return
            except (StopUser, UserStopped):
                pass
            except StopTest:
                self.environment.request_test_stop("StopTest raised by a task")
            except Exception as exc:  # on_start failed: counted, and this user ends
                record(exc, where=f"{name}.on_start")
            self.current_task_name = f"{name}.on_stop"
            try:
                await call_user_code(self.on_stop)
            except UserCodeAbandoned as exc:
                record(exc, where=self.current_task_name)
            except (StopUser, StopTest, UserStopped):
                pass
            except Exception as exc:
                record(exc, where=f"{name}.on_stop")
        finally:
            await self.close()

    async def close(self) -> None:
        """Release what the user holds (connections); called once when it ends."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class HttpUser(User):
    """A user with an HTTP client, ``self.client``, keeping one keep-alive connection per host.

    ``self.client.get("/")`` returns a response in a plain task and an awaitable in an ``async``
    task (``horde.scenario.client``). Set ``django_csrf = True`` to send Django's CSRF header on
    unsafe requests, and ``max_body_size`` to keep bodies larger than 8 MiB.
    """

    abstract = True
    django_csrf: bool = False
    connect_timeout: float = 10.0
    network_timeout: float = 60.0
    max_body_size: int = DEFAULT_MAX_BODY_SIZE  # decoded bytes a kept body may have
    client: HttpClient

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        host = environment.host or self.host
        session = HttpSession(
            host,
            recorder=environment.stats,
            listeners=environment.events.request.listeners,
            verify=not environment.insecure,
            connect_timeout=self.connect_timeout,
            read_timeout=self.network_timeout,
            max_body_size=self.max_body_size,
            django_csrf=self.django_csrf,
            stop_error=UserStopped,
            flow_exceptions=(StopUser, StopTest, InterruptTaskSet, RescheduleTask, UserStopped),
        )
        self.client = HttpClient(session)

    def request_stop(self, hard: bool = False) -> None:
        super().request_stop(hard)
        if hard:
            self.client.stopping = True

    def record_through(self, recorder: Recorder) -> bool:
        self.client.stats = recorder
        return True

    async def close(self) -> None:
        self.client.close()


def create_user(cls: type[User], environment: Environment) -> User | None:
    """A new user of ``cls``, or None when its constructor raised (or a custom client's did).

    The failure is counted in the exception table like any error of user code, and said once
    per class as it happens: a user that cannot be built must not make a run report 0 users
    and exit 0 (see ``horde.modes.conclusion``).
    """
    try:
        return cls(environment)
    except Exception as exc:
        where = f"{cls.__name__}.__init__"
        stats = environment.stats
        if not any(e.where == where for e in stats.exceptions.values()):
            log.error("a %s user could not be created: %s", cls.__name__, describe_error(exc))
        stats.record_exception(exc, where=where)
        return None


FastHttpUser = HttpUser
"""Locust's name for its fast client; in horde there is one client, and it is the fast one."""

# Locust 0.x's names, as in the seed article (with task_set and min_wait/max_wait: see tasks.py).
HttpLocust = HttpUser
Locust = User


async def run_task_loop(owner: User | TaskSet, user: User) -> None:
    """Pick, run and wait, until the user is stopped or (for a task set) it is interrupted."""
    cls = type(owner)
    if not cls._horde_schedule:
        raise StopUser()
    # Bound methods, as in Locust: the wait function gets the user (or task set) as argument.
    own_wait = isinstance(owner, TaskSet) and type(owner).wait_time is not None
    # A wait function is stored on the class and bound when read from the instance (Locust's
    # contract: it gets the user or task set); mypy sees the unbound type.
    wait_time: Callable[[], float] = owner.wait_time if own_wait else user.wait_time  # type: ignore[assignment]
    next_task: Callable[[], Task] = (
        owner.next_task if isinstance(owner, TaskSet) else cls._horde_pick
    )
    stats = user.environment.stats
    spins = 0
    while not user.stop_requested:
        t = next_task()
        user.current_task_name = t.name
        try:
            if t.is_async:
                await t.fn(owner)
            elif t.is_taskset:
                await _run_task_set(t.fn(owner), user)
            else:
                await run_blocking(t.fn, owner)
        except (RescheduleTask, _Reschedule):
            seconds = 0.0  # pick the next task without waiting
        except (StopUser, StopTest, InterruptTaskSet, asyncio.CancelledError):
            raise
        except Exception as exc:
            stats.record_exception(exc, where=t.name)
            seconds = wait_time()
        else:
            seconds = wait_time()
        if user.stop_requested:
            break
        if seconds <= 0:
            # A task that never awaits (pure CPU, or a zero wait) would keep the loop to itself:
            # yield every few iterations. Network tasks yield anyway; this costs them ~0.2 µs.
            spins += 1
            if spins >= YIELD_EVERY:
                spins = 0
                await asyncio.sleep(0)
        else:
            user.idle = True
            try:
                await asyncio.sleep(seconds)
            except asyncio.CancelledError:
                # The runner cancels an idle user's wait to stop it without delay; any other
                # cancellation is passed on.
                if not user.stop_requested:
                    raise
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
                break
            finally:
                user.idle = False
    raise StopUser()


class _Reschedule(Exception):
    """A nested task set was left with ``interrupt(reschedule=True)``: pick again, no wait."""


async def _run_task_set(task_set: TaskSet, user: User) -> None:
    try:
        await call_user_code(task_set.on_start)
        await run_task_loop(task_set, user)
    except InterruptTaskSet as interrupt:
        await call_user_code(task_set.on_stop)
        if interrupt.reschedule:
            raise _Reschedule() from None
        return
    except UserCodeAbandoned:
        raise
    except (StopUser, UserStopped):
        await call_user_code(task_set.on_stop)
        raise
