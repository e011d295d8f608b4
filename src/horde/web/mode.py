"""A run driven from the web UI: serve the dashboard until Ctrl-C, then write the results.

Tests start and stop from the page (or the API) as often as the user likes; when the process is
asked to quit, the current test is stopped and, as in a headless run, the summary is printed
and every requested file is written.
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiohttp import web

from horde.exceptions import ScenarioError
from horde.modes.conclusion import conclude
from horde.modes.signals import install_stop_signals, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.interface import Runner
from horde.runner.local import LocalRunner
from horde.runner.stop_guard import StopGuard, conclude_abandoned
from horde.settings import Settings
from horde.web.app import WebUI, build_app
from horde.web.logbuffer import install_log_buffer, remove_log_buffer
from horde.web.security import WebSecurity, is_loopback

__all__ = ["run_web", "start_web_ui"]


def check_bind(options: Settings) -> None:
    """Off loopback, the UI needs --web-auth (or an explicit --web-no-auth)."""
    host = options.web_host or "127.0.0.1"
    if not is_loopback(host) and not options.web_auth and not options.web_no_auth:
        raise ScenarioError(
            f"the web UI would listen on {host}, reachable from other machines: add "
            "--web-auth USER:PASSWORD (or --web-no-auth to allow it without a password)"
        )
    if options.web_auth and ":" not in options.web_auth:
        raise ScenarioError("--web-auth must be USER:PASSWORD")


async def start_web_ui(
    environment: Environment, runner: Runner, options: Settings
) -> tuple[WebUI, web.AppRunner, str]:
    """Serve the UI on the running loop; returns it, its aiohttp runner and its URL."""
    check_bind(options)
    host = options.web_host or "127.0.0.1"
    security = WebSecurity(
        options.web_auth,
        bind_host=host,
        allowed_hosts=list(options.web_allowed_hosts),
        script_token=options.web_token,
    )
    logs = install_log_buffer()
    ui = WebUI(environment, runner, security, logs, options)
    app = build_app(ui)

    async def forget_logs(_app: web.Application) -> None:
        remove_log_buffer(logs)

    app.on_cleanup.append(forget_logs)
    app_runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await app_runner.setup()
    site = web.TCPSite(app_runner, host, options.web_port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await app_runner.cleanup()
        raise ScenarioError(
            f"cannot serve the web UI on {host}:{options.web_port}: {exc.strerror or exc}"
        ) from None
    port = app_runner.addresses[0][1] if app_runner.addresses else options.web_port
    shown = f"[{host}]" if ":" in host else host
    return ui, app_runner, f"http://{shown}:{port}"


async def run_web(environment: Environment, options: Settings) -> int:
    from horde.console import Console

    loop = asyncio.get_running_loop()
    runner = LocalRunner(environment)
    ui, app_runner, url = await start_web_ui(environment, runner, options)
    started = time.time()

    def finish() -> int:
        meta = ui.run_meta()
        meta.setdefault("start_time", started)
        meta["stop_reason"] = environment.stop_reason
        return conclude(environment, options, meta, Console(environment, options))

    watch = BlockWatch()
    watch.start(loop)
    # A test's user code that will not stop cannot freeze the UI and the process for ever.
    guard = watch.guard = StopGuard(
        environment, conclude_now=lambda: conclude_abandoned(environment, None, finish)
    )
    install_stop_signals(loop, environment, lambda: ui.runner)
    print(f"horde web UI on {url} (Ctrl-C to quit)", file=sys.stderr, flush=True)
    environment.events.init.fire(environment=environment, runner=runner)
    await environment.test_stop_event.wait()
    await ui.shutdown()
    await app_runner.cleanup()
    guard.users_stopped()
    watch.stop()
    remove_stop_signals(loop)
    code = finish()
    guard.concluded(code)
    return code
