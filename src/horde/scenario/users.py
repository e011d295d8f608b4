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
import re
import time
import traceback
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from horde.bridge import BridgeError, in_bridge, run_blocking
from horde.compat.waiting import user_tasks
from horde.exceptions import (
    FLOW_CONTROL,
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    StopTest,
    StopUser,
    UserCodeAbandoned,
    UserStopped,
)
from horde.http.body import DEFAULT_MAX_BODY_SIZE
from horde.http.response import Response
from horde.http.session import HttpSession
from horde.scenario.client import HttpClient
from horde.scenario.tasks import Task, TaskHolder, TaskSet
from horde.scenario.wait_time import constant
from horde.stats.errors import describe_error

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.stats.recorder import Recorder

log = logging.getLogger("horde.user")

__all__ = [
    "FastHttpUser",
    "HttpLocust",
    "HttpUser",
    "Locust",
    "RestMixin",
    "User",
    "create_user",
]

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

    def context(self) -> dict[str, Any]:
        """What this user adds to the ``context`` of its requests' ``request`` event (Locust's
        hook: return e.g. ``{"username": self.username}``)."""
        return {}

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
        task = asyncio.current_task()
        if task is not None:
            user_tasks.add(task)  # greenlets this user spawns die with it
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
                report_user_error(self, self, exc)
            self.current_task_name = f"{name}.on_stop"
            try:
                await call_user_code(self.on_stop)
            except UserCodeAbandoned as exc:
                record(exc, where=self.current_task_name)
            except (StopUser, StopTest, UserStopped):
                pass
            except Exception as exc:
                record(exc, where=f"{name}.on_stop")
                report_user_error(self, self, exc)
        finally:
            await self.close()

    async def close(self) -> None:
        """Release what the user holds (connections); called once when it ends."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class RestMixin:
    """Locust's ``rest()`` and ``rest_()`` for a user with an HTTP client (``HttpUser`` has
    them; Locust gives them to its FastHttpUser, which is horde's HttpUser)."""

    client: HttpClient

    @contextmanager
    def rest(
        self, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Generator[Response, None, None]:
        """A JSON request in a ``with`` block (Locust's ``rest``): JSON headers by default,
        ``resp.js`` the parsed body (None if there is none), a body that is not JSON a
        failure, and an exception in the block a failure with its message (an assertion's
        own text) instead of an error of the task."""
        headers = dict(headers or {})
        if not ("Content-Type" in headers or "content-type" in headers):
            headers["Content-Type"] = "application/json"
        if not ("Accept" in headers or "accept" in headers):
            headers["Accept"] = "application/json"
        if not in_bridge():
            raise BridgeError("rest() is for blocking-style tasks (a 'with' block)")
        response: Response = self.client.request(
            method, url, catch_response=True, headers=headers, **kwargs
        )
        with response as resp:
            resp.js = None
            if resp.error is not None and not resp.content:
                resp.failure(str(resp.error))
            elif resp.content:
                try:
                    resp.js = resp.json()
                except ValueError as exc:
                    resp.failure(
                        f"Could not parse response as JSON. {resp.text[:250]}, response code "
                        f"{resp.status_code}, error {exc}"
                    )
            try:
                yield resp
            except AssertionError as exc:
                _rest_assertion_failed(resp, exc)
            except FLOW_CONTROL:
                raise
            except Exception as exc:
                _rest_error(resp, exc)

    @contextmanager
    def rest_(
        self, method: str, url: str, name: str | None = None, **kwargs: Any
    ) -> Generator[Response, None, None]:
        """``rest`` with a ``_=<milliseconds>`` query parameter that defeats caches, recorded
        under one name (Locust's)."""
        separator = "&" if "?" in url else "?"
        if name is None:
            name = url + separator + "_=..."
        stamped = f"{url}{separator}_={int(time.time() * 1000)}"
        with self.rest(method, stamped, name=name, **kwargs) as resp:
            yield resp


class HttpUser(RestMixin, User):
    """A user with an HTTP client, ``self.client``, keeping one keep-alive connection per host.

    ``self.client.get("/")`` returns a response in a plain task and an awaitable in an ``async``
    task (``horde.scenario.client``). Set ``django_csrf = True`` to send Django's CSRF header on
    unsafe requests, and ``max_body_size`` to keep bodies larger than 8 MiB.
    """

    abstract = True
    django_csrf: bool = False
    # Locust's HttpUser names a request by the path it goes to (an absolute URL's too), its
    # FastHttpUser by the URL as given: each class here does as its Locust namesake.
    name_requests_by_path: ClassVar[bool] = True
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
            flow_exceptions=FLOW_CONTROL,
            user_context=self.context,
            notify=environment.events.request.notify,
            name_by_path=self.name_requests_by_path,
        )
        self.client = HttpClient(session, environment.events.request)

    def request_stop(self, hard: bool = False) -> None:
        super().request_stop(hard)
        if hard:
            self.client.stopping = True

    def record_through(self, recorder: Recorder) -> bool:
        self.client.stats = recorder
        return True

    async def close(self) -> None:
        self.client.close()


_CALLSTACK = re.compile(r'  File "(\/.[^"]*)", line (\d*),(.*)')


def _rest_assertion_failed(resp: Response, exc: AssertionError) -> None:
    if not exc.args:
        resp.failure("Assertion failed")
        return
    message = str(exc.args[0])
    if message.endswith(","):
        short = resp.text[:200] if resp.content else ""
        resp.failure(f"{message[:-1]}, response was {short}")
    else:
        resp.failure(message)


def _rest_error(resp: Response, exc: Exception) -> None:
    """Locust's failure text for an exception in a ``rest`` block: where it was raised."""
    lines = []
    for line in traceback.format_exc().split("\n"):
        found = _CALLSTACK.match(line)
        if found:
            filename = re.sub(r"/((home|Users)/\w*)/", "~/", found.group(1))
            lines.append(filename + ":" + found.group(2) + found.group(3))
    short = resp.text[:200] if resp.content else ""
    resp.failure(f"{type(exc).__name__}: {exc} at {', '.join(lines)}. Response was {short}")


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


class FastHttpUser(HttpUser):
    """Locust's FastHttpUser: horde's HttpUser (there is one client, and it is the fast one),
    naming requests by the URL given, as Locust's FastHttpUser does."""

    abstract = True
    name_requests_by_path = False


# Locust 0.x's names, as in the seed article (with task_set and min_wait/max_wait: see tasks.py).
HttpLocust = HttpUser
Locust = User


async def run_task_loop(owner: User | TaskSet, user: User) -> None:
    """Pick, run and wait, until the user is stopped or (for a task set) it is interrupted."""
    cls = type(owner)
    if not cls._horde_schedule:
        _no_tasks(owner, user)
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
        except (RescheduleTaskImmediately, _Reschedule):
            seconds = 0.0  # pick the next task without waiting
        except RescheduleTask:
            seconds = wait_time()  # as if the task had returned (Locust's rule)
        except (StopUser, StopTest, InterruptTaskSet, asyncio.CancelledError):
            raise
        except Exception as exc:
            stats.record_exception(exc, where=t.name)
            report_user_error(user, owner, exc)
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


def report_user_error(user: User, owner: User | TaskSet, exc: BaseException) -> None:
    """Tell ``user_error`` listeners that scenario code raised (the caller counted it)."""
    hook = user.environment.events.user_error
    if hook:
        hook.fire(user_instance=owner, exception=exc, tb=exc.__traceback__)


_told_no_tasks: set[type] = set()


def _no_tasks(owner: User | TaskSet, user: User) -> None:
    """A user (or task set) with nothing to run: Locust logs an error for it; so does horde,
    once per class, and counts it in the exception table. The user then stops (Locust would
    raise the error again on every pass of its loop)."""
    cls = type(owner)
    what = "User (or mark it as abstract = True if you only intend to subclass it)"
    if isinstance(owner, TaskSet):
        what = "TaskSet"
    hint = "."
    if getattr(owner, "task", None):
        hint = ", but you have set a 'task' attribute - maybe you meant to set 'tasks'?"
    message = (
        f"No tasks defined on {cls.__name__}{hint} Use the @task decorator or set the "
        f"'tasks' attribute of the {what}"
    )
    try:
        raise Exception(message)  # Locust's error, raised so that it has a traceback
    except Exception as error:
        if cls not in _told_no_tasks:
            _told_no_tasks.add(cls)
            log.error("%s", error)
        user.environment.stats.record_exception(error, where=cls.__name__)
        report_user_error(user, owner, error)
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
