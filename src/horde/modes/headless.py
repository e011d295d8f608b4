"""One run from the command line: build the environment, drive the runner, write the results.

The order of the end of a run matters and is the same however it ends (run time over, Ctrl-C,
SIGTERM, ``StopTest``): users are stopped and their in-flight requests recorded, the last second
of stats is ticked, then the summary is printed and every requested file is written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from horde.exceptions import ScenarioError
from horde.modes.conclusion import conclude, run_meta
from horde.modes.signals import install_stop_signals, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.models import LoadPlan, build_runner, choose_load_plan, start_load
from horde.runner.stop_guard import StopGuard, conclude_abandoned
from horde.scenario.loader import Scenario, load_scenario, select_user_classes
from horde.scenario.tasks import all_tags, apply_tag_filter
from horde.settings import Settings

if TYPE_CHECKING:
    from horde.console import Console
    from horde.runner.interface import Runner
    from horde.runner.threshold_watch import ThresholdWatch

log = logging.getLogger("horde")

__all__ = [
    "drive_until_stopped",
    "prepare_environment",
    "run_session",
    "watch_thresholds",
]


def prepare_environment(options: Settings, scenario: Scenario | None = None) -> Environment:
    """Check everything a user could get wrong before any load starts; build the environment."""
    if scenario is None:
        scenario = load_scenario(options.scenario)
    classes = select_user_classes(scenario, options.user_class_names)
    known_tags = all_tags(classes)
    for flag, wanted in (("-T/--tags", options.tags), ("-E/--exclude-tags", options.exclude_tags)):
        unknown = sorted(set(wanted or ()) - known_tags)
        if unknown:
            listing = ", ".join(sorted(known_tags)) or "none"
            raise ScenarioError(
                f"unknown tag {', '.join(unknown)} in {flag} (tags in {scenario.name}: {listing})"
            )
    classes = apply_tag_filter(classes, options.tags, options.exclude_tags)
    if not classes:
        raise ScenarioError("no task left to run after applying -T/-E tag filters")
    host = options.host
    # A worker may get the host from its master (Locust's rule), so it needs none of its own.
    if host is None and not options.worker:
        missing = [c.__name__ for c in classes if not c.host and _needs_host(c)]
        if missing:
            raise ScenarioError(
                f"no host for {', '.join(missing)}: pass -H http://host:port or set 'host' "
                "on the user class"
            )
    else:
        for cls in classes:
            cls_host = cls.host
            if cls_host:
                from horde.units import parse_host

                try:
                    parse_host(cls_host)
                except ValueError as exc:
                    raise ScenarioError(f"{cls.__name__}.host: {exc}") from None
    environment = Environment(
        user_classes=classes,
        host=host,
        insecure=bool(options.insecure),
        stop_timeout=float(options.stop_timeout or 0),
        parsed_options=options.parsed_options(),
        scenario_path=str(scenario.path),
        shape_class=scenario.shape_class,
    )
    return environment


def _needs_host(cls: type) -> bool:
    from horde.scenario.users import HttpUser

    return issubclass(cls, HttpUser)


def run_session(environment: Environment, options: Settings) -> int:
    """Run until the run time is over or the user interrupts; returns the exit code."""
    import os

    from horde.distributed.config import resolve

    if resolve(options, os.environ).mode != "single":
        # Master or worker: its own session (imported only then: ZeroMQ costs start-up time).
        from horde.distributed.session import run_distributed

        code = run_distributed(environment, options)
        assert code is not None  # not a single-process run, so it ran
        return code
    import uvloop

    if not options.headless:
        from horde.modes.web import run_web

        return uvloop.run(run_web(environment, options))
    return uvloop.run(_headless(environment, options))


async def _headless(environment: Environment, options: Settings) -> int:
    from horde.console import Console

    loop = asyncio.get_running_loop()
    plan = choose_load_plan(environment, options)
    runner = build_runner(environment, plan, options)
    console = Console(environment, options)
    started = time.time()

    def finish() -> int:
        meta = run_meta(environment, options, started, time.time())
        meta["load_model"] = plan.describe()
        return conclude(environment, options, meta, console)

    watch = BlockWatch()
    watch.start(loop)
    guard = watch.guard = StopGuard(
        environment, run_time=options.run_time, conclude_now=lambda: conclude_abandoned(
            environment, console, finish
        )
    )  # fmt: skip
    install_stop_signals(loop, environment, runner)
    environment.events.init.fire(environment=environment, runner=runner)
    await drive_until_stopped(environment, options, runner, plan, console)
    guard.users_stopped()
    watch.stop()
    remove_stop_signals(loop)
    code = finish()
    guard.concluded(code)
    return code


async def drive_until_stopped(
    environment: Environment,
    options: Settings,
    runner: Runner,
    plan: LoadPlan,
    console: Console,
) -> None:
    """Start the load, watch it until the run ends (run time, Ctrl-C, StopTest, the end of a
    shape, a broken threshold), then stop the runner: users done and their requests recorded.

    The same for one process and for a distributed master (``runner`` is then the master)."""
    driver = start_load(environment, runner, plan)
    threshold_watch = watch_thresholds(environment, options)
    console.start(asyncio.get_running_loop())
    try:
        await asyncio.wait_for(environment.test_stop_event.wait(), timeout=options.run_time)
    except TimeoutError:
        environment.request_test_stop("run time reached")
    if threshold_watch is not None:
        threshold_watch.stop()
    if driver is not None:
        driver.stop()
    await runner.stop()
    console.stop()


def watch_thresholds(environment: Environment, options: Settings) -> ThresholdWatch | None:
    """With ``--abort-on-threshold``, a started ``ThresholdWatch``; else None."""
    if not options.thresholds or not options.abort_on_threshold:
        return None
    from horde.runner.threshold_watch import ThresholdWatch

    watch = ThresholdWatch(environment, list(options.thresholds))
    watch.start()
    return watch
