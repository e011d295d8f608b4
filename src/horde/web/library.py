"""The web UI of a library script: Locust's ``env.create_web_ui(host, port)``.

A script that uses Locust as a library (``locust.env.Environment``, which this module is
imported for) serves the UI from its own code. horde serves it on the library loop
(``horde.compat.hub``): it answers whenever the script waits (``runner.greenlet.join()``,
``gevent.sleep``, ``time.sleep``), as Locust's gevent server does, behind the same security
checks as ``horde run``'s UI.
"""

from __future__ import annotations

from typing import Any

from horde.compat import hub
from horde.runner.environment import Environment
from horde.settings import Settings
from horde.web.server import start_web_ui

__all__ = ["Environment", "create_web_ui"]


def create_web_ui(
    environment: Environment,
    host: str = "",
    port: int = 8089,
    web_base_path: str | None = None,
    auth_credentials: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    **_: Any,
) -> Any:
    """Serve the UI for ``environment.runner`` on ``host:port``; returns ``environment.web_ui``
    (its ``stop()`` stops serving). Needs the runner first (``create_local_runner``)."""
    if environment.runner is None:
        raise RuntimeError("create_web_ui() needs a runner: call create_local_runner() first")
    if tls_cert or tls_key:
        raise RuntimeError("horde's web UI is served over HTTP: put a TLS proxy in front of it")
    settings = Settings(
        scenario=environment.scenario_path or "",
        web_host=host or "0.0.0.0",
        web_port=int(port),
        web_auth=auth_credentials,
        users=int(getattr(environment.parsed_options, "num_users", 1) or 1),
    )
    runner = environment.runner
    if hub.active():
        served = hub.run(start_web_ui(environment, runner, settings))
        app_runner = served[1]
        web_ui = environment.web_ui
        web_ui._stop = lambda: hub.run(app_runner.cleanup()) if hub.active() else None
        return web_ui
    raise RuntimeError(
        "create_web_ui() is for a library script's main code (no event loop running); under "
        "'horde run' the web UI is the command's own (environment.web_ui)"
    )


Environment.web_ui_factory = create_web_ui
