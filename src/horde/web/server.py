"""Serve the web UI on the run's event loop, for the modes that have one (``horde.modes.web``,
and a master's with the web UI): check where it may listen, then start the aiohttp site.
"""

from __future__ import annotations

from aiohttp import web

from horde.exceptions import ScenarioError
from horde.runner.environment import Environment
from horde.runner.interface import Runner
from horde.settings import Settings
from horde.web.app import WebUI, build_app
from horde.web.locust_ui import LocustWebUI
from horde.web.logbuffer import install_log_buffer, remove_log_buffer
from horde.web.security import WebSecurity, is_loopback

__all__ = ["check_bind", "start_web_ui"]


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
    url = f"http://{shown}:{port}"
    environment.web_ui = LocustWebUI(environment, ui, url=url)
    return ui, app_runner, url
