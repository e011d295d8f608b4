"""A run driven from the web UI: serve the dashboard until Ctrl-C, then write the results.

Tests start and stop from the page (or the API) as often as the user likes; when the process is
asked to quit, the current test is stopped and, as in a headless run, the summary is printed
and every requested file is written.
"""

from __future__ import annotations

import asyncio
import sys
import time

from horde.modes.conclusion import conclude
from horde.modes.hooks import fire_init
from horde.modes.signals import install_stop_signals, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.local import LocalRunner
from horde.runner.stop_guard import StopGuard, conclude_abandoned
from horde.settings import Settings
from horde.web.server import start_web_ui

__all__ = ["run_web"]


async def run_web(environment: Environment, options: Settings) -> int:
    from horde.console import Console

    loop = asyncio.get_running_loop()
    runner = LocalRunner(environment)
    ui, app_runner, url = await start_web_ui(environment, runner, options)
    started = time.time()

    def finish() -> int:
        unsaved = ui.saver.needs_saving(ui.meta)  # a test still running, or none at all
        meta = ui.run_meta()
        meta.setdefault("start_time", started)
        meta["stop_reason"] = environment.stop_reason
        console = Console(environment, options)
        return conclude(environment, options, meta, console, record=unsaved)

    watch = BlockWatch()
    watch.start(loop)
    # A test's user code that will not stop cannot freeze the UI and the process for ever.
    guard = watch.guard = StopGuard(
        environment, conclude_now=lambda: conclude_abandoned(environment, None, finish)
    )
    install_stop_signals(loop, environment, lambda: ui.runner)
    print(f"horde web UI on {url} (Ctrl-C to quit)", file=sys.stderr, flush=True)
    await fire_init(environment, runner)
    await environment.test_stop_event.wait()
    await ui.shutdown()
    await app_runner.cleanup()
    guard.users_stopped()
    watch.stop()
    remove_stop_signals(loop)
    code = finish()
    guard.concluded(code)
    return code
