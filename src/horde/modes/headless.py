"""A headless run: drive the runner with the console until the run ends, write the results.

The order of the end of a run matters and is the same however it ends (run time over, Ctrl-C,
SIGTERM, ``StopTest``): users are stopped and their in-flight requests recorded, the last second
of stats is ticked, then the summary is printed and every requested file is written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from horde.modes.conclusion import conclude, run_meta
from horde.modes.hooks import fire_init, usage_monitor
from horde.modes.signals import install_stop_signals, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.models import LoadPlan, build_runner, choose_load_plan, start_load
from horde.runner.stop_guard import StopGuard, conclude_abandoned
from horde.settings import Settings

if TYPE_CHECKING:
    from horde.console import Console
    from horde.runner.interface import Runner
    from horde.runner.threshold_watch import ThresholdWatch

log = logging.getLogger("horde")

__all__ = ["drive_until_stopped", "run_headless", "watch_thresholds"]


async def run_headless(environment: Environment, options: Settings) -> int:
    """One process, the console, the load of the settings until the run ends."""
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

    watch = BlockWatch(health=environment.health)
    watch.start(loop)
    guard = watch.guard = StopGuard(
        environment, run_time=options.run_time, conclude_now=lambda: conclude_abandoned(
            environment, console, finish
        )
    )  # fmt: skip
    install_stop_signals(loop, environment, runner)
    await fire_init(environment, runner)
    async with usage_monitor(environment):
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
