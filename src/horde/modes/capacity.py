"""``horde capacity``: a capacity search from the command line, in one process.

Like a headless run (same console, Ctrl-C handling, files and thresholds), with the search
driving the runner instead of a fixed target; the steps table and the headline answer are
printed after the summary, and the JSON and HTML report carry them (``meta.capacity``).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any

from horde.exceptions import ScenarioError
from horde.modes.conclusion import conclude, run_meta
from horde.modes.hooks import fire_init
from horde.modes.signals import install_stop_signals, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.capacity import CapacityResult, CapacitySearch, CapacitySettings, Step
from horde.runner.environment import Environment
from horde.runner.models import LoadPlan, build_runner
from horde.runner.stop_guard import StopGuard, conclude_abandoned
from horde.scenario.shape import ARRIVAL_RATE, USERS
from horde.settings import Settings

if TYPE_CHECKING:
    from horde.distributed.config import DistributedConfig
    from horde.distributed.master import MasterRunner
    from horde.runner.interface import Runner

__all__ = ["capacity_settings", "run_capacity"]


def capacity_settings(options: Settings) -> CapacitySettings:
    """The search's settings from the options; a user's mistake is one sentence."""
    if not options.slo:
        raise ScenarioError("horde capacity needs --slo, e.g. --slo 'p95<300ms,fail_ratio<1%'")
    if options.stages is not None:
        raise ScenarioError("horde capacity chooses the load itself: drop --stages")
    if options.arrival_rate is not None:
        first, last = options.arrival_rate
        if first != last:
            raise ScenarioError("give horde capacity one start rate, e.g. --arrival-rate 10/s")
        model, start = ARRIVAL_RATE, first
    elif "users" in options.explicit:
        model, start = USERS, float(options.users)
    else:
        model, start = ARRIVAL_RATE, 10.0
    settings = CapacitySettings(model=model, start=start, spawn_rate=float(options.spawn_rate))
    if options.growth is not None:
        settings.growth = options.growth
    if options.step_time is not None:
        settings.step_time = options.step_time
    if options.settle_time is not None:
        settings.settle_time = options.settle_time
    if options.precision is not None:
        settings.precision = options.precision
    if options.max_load is not None:
        settings.max_load = options.max_load
    if options.max_steps is not None:
        settings.max_steps = options.max_steps
    if "spawn_rate" not in options.explicit:
        settings.spawn_rate = 100.0  # steps should not spend their time ramping
    try:
        settings.check()
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    return settings


async def run_capacity(
    environment: Environment, options: Settings, config: DistributedConfig
) -> int:
    """The search in this process, or on a master of worker processes (``--processes N``,
    ``--master``): each step's load is then shared by the workers."""
    settings = capacity_settings(options)
    if config.mode == "worker":
        raise ScenarioError(
            "a capacity search runs on the master: start workers with 'horde run SCENARIO "
            "--worker', and the search with 'horde capacity SCENARIO --master'"
        )
    if config.mode == "single":
        return await _single(environment, options, settings)
    return await _distributed(environment, options, settings, config)


async def _single(environment: Environment, options: Settings, settings: CapacitySettings) -> int:
    loop = asyncio.get_running_loop()
    runner = build_runner(environment, LoadPlan(settings.model), options)
    started = time.time()

    def finish() -> int:  # the stop guard's last resort: the figures so far, without the steps
        from horde.console import Console

        meta = run_meta(environment, options, started, time.time())
        meta["load_model"] = f"capacity search ({settings.model}), not finished"
        return conclude(environment, options, meta, Console(environment, options))

    watch = BlockWatch(health=environment.health)
    watch.start(loop)
    watch.guard = StopGuard(
        environment, conclude_now=lambda: conclude_abandoned(environment, None, finish)
    )
    install_stop_signals(loop, environment, runner)
    try:
        return await _search(environment, options, settings, runner)
    finally:
        watch.stop()
        remove_stop_signals(loop)


async def _distributed(
    environment: Environment,
    options: Settings,
    settings: CapacitySettings,
    config: DistributedConfig,
) -> int:
    from horde.modes.master import run_as_master

    async def search(master: MasterRunner) -> int:
        master.use_model(settings.model, options.max_concurrency)
        return await _search(environment, options, settings, master)

    return await run_as_master(environment, options, config, search)


async def _search(
    environment: Environment,
    options: Settings,
    settings: CapacitySettings,
    runner: Runner,
) -> int:
    from rich.console import Group
    from rich.text import Text

    from horde.console import Console
    from horde.runner.capacity import steps_table

    loop = asyncio.get_running_loop()
    if options.run_time:
        loop.call_later(options.run_time, environment.request_test_stop, "run time reached")
    console = Console(environment, options)
    unit = "iterations/s" if settings.model == ARRIVAL_RATE else "users"

    def on_step(step: Step) -> None:
        verdict = "met" if step.passed else "broken"
        health = ""
        if step.generator_limited and step.generator is not None:
            health = (
                f"; horde itself saturated (CPU {step.generator['cpu_percent_mean']:.0f}% of a "
                "core): not the target's limit"
            )
        print(
            f"step {step.index} ({step.phase}): {step.load:g} {unit} -> {step.rps:.1f} req/s, "
            f"p95 {step.p95:.0f} ms, {step.fail_ratio:.2%} failed: SLO {verdict}{health}",
            file=sys.stderr,
        )

    slo = list(options.slo)
    search = CapacitySearch(environment, runner, slo, settings, on_step=on_step)
    started = time.time()
    await fire_init(environment, runner)
    print(
        f"capacity search: {unit} from {settings.start:g}, x{settings.growth:g} per step, "
        f"{settings.settle_time:g}s settle + {settings.step_time:g}s measured, SLO "
        + ", ".join(t.expression for t in slo),
        file=sys.stderr,
    )
    if not options.only_summary:
        console.start(loop)
    result: CapacityResult = await search.run()
    environment.request_test_stop(f"capacity search ended: {result.reason}")
    await runner.stop()
    console.stop()
    meta = run_meta(environment, options, started, time.time())
    meta["load_model"] = f"capacity search ({unit})"
    meta["capacity"] = result.to_dict()
    view = runner.workers_view
    headline = Text(result.headline(), style="bold red" if result.generator_limit else "bold")
    extra: Any = Group(steps_table(result), headline, Text(result.usl_text()))
    if view is not None:
        from horde.distributed.summary import workers_table

        meta["workers"] = view.workers_info()
        extra = Group(extra, workers_table(meta["workers"], view.cpu_percent))
    code = conclude(environment, options, meta, console, extra)
    if result.best is None:
        return code or 1
    return code
