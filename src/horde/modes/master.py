"""A distributed run's master from the command line: headless, or driven from the web UI.

The master's run mirrors the single-process one (``horde.modes.headless``): the same console,
summary, files and exit codes, so a user sees one run whatever the number of processes. Before
starting it waits for the expected workers; at the end it stops them, waits for their final
reports, and only then prints and writes results. Worker processes it started are reaped on
every way out (run time, Ctrl-C, errors): ``horde.distributed.session.master_session``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from horde.distributed.config import DistributedConfig
from horde.distributed.master import MasterRunner
from horde.distributed.session import master_session, wait_for_workers
from horde.distributed.summary import workers_table
from horde.modes.conclusion import conclude, run_meta
from horde.modes.headless import drive_until_stopped
from horde.modes.hooks import fire_init, usage_monitor
from horde.modes.signals import install_stop_signals, remove_stop_signals
from horde.runner.environment import Environment
from horde.runner.models import choose_load_plan
from horde.settings import Settings

__all__ = ["run_as_master", "run_master"]


async def run_master(environment: Environment, options: Settings, config: DistributedConfig) -> int:
    """The master's run: with the web UI unless ``--headless``."""
    if not options.headless:
        return await _master_web(environment, options, config)
    return await _master_headless(environment, options, config)


async def _master_headless(
    environment: Environment, options: Settings, config: DistributedConfig
) -> int:
    return await run_as_master(
        environment, options, config, lambda master: _run_headless(master, environment, options)
    )


async def run_as_master(
    environment: Environment,
    options: Settings,
    config: DistributedConfig,
    run: Callable[[MasterRunner], Awaitable[int]],
) -> int:
    """A headless run as master: bind, handle Ctrl-C, wait for the workers, then ``run``.

    Returns ``run``'s exit code; 1 when the workers never came, 2 when the master cannot bind.
    """
    loop = asyncio.get_running_loop()
    try:
        async with master_session(environment, options, config) as session:
            install_stop_signals(loop, environment, session.master)
            if not await wait_for_workers(session, environment):
                return 1
            return await run(session.master)
    except OSError as exc:
        print(f"horde: error: {exc}", file=sys.stderr)
        return 2
    finally:
        remove_stop_signals(loop)


async def _master_web(
    environment: Environment, options: Settings, config: DistributedConfig
) -> int:
    """The web UI drives the master (as ``horde.modes.web.run_web`` drives a LocalRunner).

    Tests start from the page as often as the user likes, with whichever workers are connected
    (new ones get users at once); Ctrl-C stops, prints the summary and writes the files.
    """
    from horde.console import Console
    from horde.web.server import start_web_ui

    loop = asyncio.get_running_loop()
    try:
        async with master_session(environment, options, config) as session:
            master = session.master
            install_stop_signals(loop, environment, master)
            ui, app_runner, url = await start_web_ui(environment, master, options)
            print(
                f"horde web UI on {url} (Ctrl-C to quit); workers join at {session.address}",
                file=sys.stderr,
                flush=True,
            )
            await fire_init(environment, master)
            started, cpu_started = time.time(), time.process_time()
            async with usage_monitor(environment):
                await environment.test_stop_event.wait()
            if ui.run_time_timer is not None:
                ui.run_time_timer.cancel()
            await master.stop()
            await app_runner.cleanup()
            master_cpu = 100.0 * (time.process_time() - cpu_started) / (time.time() - started)
            unsaved = ui.saver.needs_saving(ui.meta)  # a test still running, or none at all
            meta = ui.run_meta()
            meta.setdefault("start_time", started)
            meta["stop_reason"] = environment.stop_reason
            meta["workers"] = master.workers_info()
            meta["master_cpu_percent"] = round(master_cpu, 1)
            table = workers_table(meta["workers"], master_cpu)
            console = Console(environment, options)
            return conclude(environment, options, meta, console, table, record=unsaved)
    except OSError as exc:
        print(f"horde: error: {exc}", file=sys.stderr)
        return 2
    finally:
        remove_stop_signals(loop)


async def _run_headless(master: MasterRunner, environment: Environment, options: Settings) -> int:
    """The run itself, as in one process: console, run time, stop, summary, files."""
    from horde.console import Console

    console = Console(environment, options)
    started = time.time()
    cpu_started = time.process_time()
    await fire_init(environment, master)
    plan = choose_load_plan(environment, options)
    master.use_model(plan.model, options.max_concurrency)
    async with usage_monitor(environment):
        await drive_until_stopped(environment, options, master, plan, console)
    ended = time.time()
    master_cpu = 100.0 * (time.process_time() - cpu_started) / max(1e-9, ended - started)
    meta = run_meta(environment, options, started, ended)
    meta["load_model"] = plan.describe()
    meta["workers"] = master.workers_info()
    meta["master_cpu_percent"] = round(master_cpu, 1)
    table = workers_table(meta["workers"], master_cpu)
    return conclude(environment, options, meta, console, table)
