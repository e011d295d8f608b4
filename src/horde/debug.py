"""Locust's ``run_single_user``: one user of a class, in this process, its requests printed.

Made for a debugger: ``python locustfile.py`` with Locust, ``horde exec locustfile.py`` with
horde (or ``python -m horde exec`` as the debugger's program), where the file ends with::

    if __name__ == "__main__":
        run_single_user(MyUser)

The user runs on the library loop (``horde.compat.hub``): its tasks, waits and requests work as
under ``horde run`` and a breakpoint stops just this one user. The command line (``-H`` and the
rest, after the file's name) is read as ``horde run`` reads it. ``init`` and ``test_start`` fire
(``test_stop`` and ``quit`` do not: Locust's rule); each request is printed as Locust prints it.
The call returns when the user stops (``StopUser``); Ctrl-C stops it too (then
``KeyboardInterrupt`` goes on to the script, as under Locust).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from horde import compat
from horde.bridge import run_blocking
from horde.compat import hub
from horde.events import events
from horde.exceptions import ScenarioError
from horde.options import parse_run_options
from horde.runner.environment import Environment
from horde.runner.hooks import fire_and_wait
from horde.scenario.users import User, create_user

__all__ = ["PrintListener", "run_single_user"]


def _print_t(value: Any) -> None:
    """Print with a tab instead of a newline (Locust's)."""
    print(str(value), end="\t")


class PrintListener:
    """Prints every request, one line each (Locust's, with its columns)."""

    def __init__(
        self,
        env: Environment,
        include_length: bool = False,
        include_time: bool = False,
        include_context: bool = False,
        include_payload: bool = False,
    ) -> None:
        env.events.request.add_listener(self.on_request)
        self.include_length = "length\t" if include_length else ""
        self.include_time = "time                    \t" if include_time else ""
        self.include_context = "context\t" if include_context else ""
        self.include_payload = "payload\t" if include_payload else ""
        print(
            f"\n{self.include_time}type\t{'name'.ljust(50)}\tresp_ms\t{self.include_length}"
            f"exception\t{self.include_context}\t{self.include_payload}"
        )

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int,
        exception: BaseException | str | None,
        context: dict[str, Any] | None = None,
        start_time: float | None = None,
        response: Any = None,
        **_: Any,
    ) -> None:
        if exception:
            try:
                error = str(exception) if _is_catch_response(exception) else repr(exception)
            except AttributeError:
                error = f"{exception.__class__} (and it has no string representation)"
            errortext = error[:500].replace("\n", " ")
        else:
            errortext = ""
        if response_time is None:
            response_time = -1
        shown = name.ljust(30) if name else ""
        if self.include_time:
            if start_time:
                _print_t(datetime.fromtimestamp(start_time, tz=UTC))
            else:
                _print_t(datetime.now())
        _print_t(request_type)
        _print_t(shown.ljust(50))
        _print_t(str(round(response_time)).ljust(7))
        if self.include_length:
            _print_t(response_length)
        _print_t(errortext.ljust(9))
        if self.include_context:
            _print_t(context or "")
        if self.include_payload:
            _print_t(getattr(response, "request_body", "") if response is not None else "")
        print()


def _is_catch_response(exception: BaseException | str) -> bool:
    """A failure marked by the task (``resp.failure(...)``): printed as its text."""
    return isinstance(exception, str) or type(exception).__name__ == "CatchResponseError"


_env: Environment | None = None  # made by the first call, as Locust's


def run_single_user(
    user_class: type[User],
    include_length: bool = False,
    include_time: bool = False,
    include_context: bool = False,
    include_payload: bool = False,
    loglevel: str | None = "WARNING",
) -> None:
    """Run one user of ``user_class`` until it stops (see the module's docstring)."""
    global _env
    if loglevel:
        logging.basicConfig(
            level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    compat.install()
    if _env is None:
        caller = inspect.stack()[1].frame.f_code.co_filename
        _env = _make_environment(caller)
        global _printer
        _printer = PrintListener(
            _env, include_length, include_time, include_context, include_payload
        )
        hub.run(fire_and_wait(_env.events.init, environment=_env, runner=None, web_ui=None))
        if _env.listener_failures:
            # Locust's rule: an init listener that raised (logged above) ends it here.
            print("horde: error: an init listener raised (see above)", file=sys.stderr)
            raise SystemExit(1)
    env = _env
    env.user_classes = [user_class]
    env._filter_tasks_by_tags()
    hub.run(fire_and_wait(env.events.test_start, environment=env))
    if env.host:
        user_class.host = env.host
    try:
        hub.run(_run_one(env, user_class))
    except KeyboardInterrupt:
        hub.run(_stop_running())  # its on_stop runs, its last requests are printed
        raise


_running: list[tuple[User, asyncio.Task[None]]] = []
_printer: PrintListener | None = None


async def _stop_running() -> None:
    """After Ctrl-C: the user stops (its on_stop runs); nothing more is printed (Locust's)."""
    _stop_printing()
    for user, task in _running:
        user.request_stop(hard=True)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    _running.clear()


def _make_environment(caller: str) -> Environment:
    """The environment of the file that called: its command line read as ``horde run``'s."""
    try:
        settings = parse_run_options(
            [*sys.argv[1:], "-f", caller], extend_parser=events.init_command_line_parser.fire
        )
    except ScenarioError as exc:
        print(f"horde: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    options = settings.parsed_options()
    options.locustfile = os.path.basename(caller)
    return Environment(
        events=events,
        host=settings.host,
        parsed_options=options,
        scenario_path=caller,
        insecure=settings.insecure,
        tags=settings.tags,
        exclude_tags=settings.exclude_tags,
    )


async def _run_one(env: Environment, user_class: type[User]) -> None:
    user = await run_blocking(create_user, user_class, env)
    if user is None:
        return  # its constructor raised: said and counted by create_user
    env.single_user_instance = user  # type: ignore[attr-defined]  # Locust's, for the curious
    task = asyncio.get_running_loop().create_task(user.run(), name=f"user:{user_class.__name__}")
    _running.append((user, task))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:  # Ctrl-C (horde.compat.hub): stop the user, quietly
        _stop_printing()
        user.request_stop(hard=True)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    finally:
        if (user, task) in _running:
            _running.remove((user, task))


def _stop_printing() -> None:
    global _printer
    if _printer is not None and _env is not None:
        _env.events.request.remove_listener(_printer.on_request)
        _printer = None
