"""``--metrics-port``: Prometheus's ``/metrics`` on a port of its own, without the web UI.

For headless runs and masters (which have no UI, or whose UI is behind ``--web-auth``). It
serves that one read-only route: nothing reached through it can change the run, so it asks for
no password (Prometheus scrapes a pod by its IP without one); the Host allowlist of the UI still
applies, so a web page cannot read it through DNS rebinding. It listens on 127.0.0.1 unless
``--metrics-host`` says otherwise.
"""

from __future__ import annotations

from aiohttp import web

from horde.exceptions import ScenarioError
from horde.metrics import RunInfo, collect
from horde.metrics.prometheus import CONTENT_TYPE, render
from horde.runner.environment import Environment
from horde.settings import Settings
from horde.web.security import WebSecurity

__all__ = ["start_metrics_server"]


async def start_metrics_server(
    environment: Environment, options: Settings, run: RunInfo
) -> tuple[web.AppRunner, str]:
    """Serve ``/metrics`` on the running loop; returns the aiohttp runner and the URL."""
    host = options.metrics_host or "127.0.0.1"
    security = WebSecurity(bind_host=host, allowed_hosts=list(options.web_allowed_hosts))

    async def metrics(request: web.Request) -> web.Response:
        body = render(collect(environment, run))
        return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application(middlewares=[security.middleware()])
    app.add_routes([web.get("/metrics", metrics)])
    app_runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await app_runner.setup()
    port = options.metrics_port or 0
    site = web.TCPSite(app_runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await app_runner.cleanup()
        raise ScenarioError(
            f"cannot serve metrics on {host}:{port} (--metrics-port): {exc.strerror or exc}"
        ) from None
    bound = app_runner.addresses[0][1] if app_runner.addresses else port
    shown = f"[{host}]" if ":" in host else host
    return app_runner, f"http://{shown}:{bound}/metrics"
