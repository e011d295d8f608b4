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
from horde.modes.hooks import fire_init, usage_monitor
from horde.modes.signals import install_stop_signals, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.local import LocalRunner
from horde.runner.stop_guard import StopGuard, conclude_abandoned
from horde.settings import Settings
from horde.web.app import WebUI
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

    watch = BlockWatch(health=environment.health)
    watch.start(loop)
    # A test's user code that will not stop cannot freeze the UI and the process for ever.
    guard = watch.guard = StopGuard(
        environment, conclude_now=lambda: conclude_abandoned(environment, None, finish)
    )
    install_stop_signals(loop, environment, lambda: ui.runner)
    print(f"horde web UI on {url} (Ctrl-C to quit)", file=sys.stderr, flush=True)
    await fire_init(environment, runner)
    if options.autostart:
        start_now(ui, environment, options)
    async with usage_monitor(environment):
        await environment.test_stop_event.wait()
    await ui.shutdown()
    await app_runner.cleanup()
    guard.users_stopped()
    watch.stop()
    remove_stop_signals(loop)
    code = finish()
    guard.concluded(code)
    return code


def start_now(ui: WebUI, environment: Environment, options: Settings) -> None:
    """``--autostart`` (Locust's): the test starts at once; with ``--autoquit S`` the process
    quits S seconds after it ends (the summary and files are written as on Ctrl-C)."""
    ui.autostart(options)
    if options.autoquit is None:
        return
    loop = asyncio.get_running_loop()
    delay = options.autoquit

    def quit_later(reason: str) -> None:
        loop.call_later(delay, environment.request_test_stop, f"{reason}, then --autoquit")

    ui.on_test_end.append(quit_later)
