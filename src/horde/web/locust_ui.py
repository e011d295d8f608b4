"""``environment.web_ui`` under horde: Locust's ``WebUI`` surface over horde's web UI.

Set when a run has a web UI (``horde run`` without ``--headless``, a master's UI, a library
script's ``env.create_web_ui()``); ``None`` when headless and on workers, so Locust's idiom
``if environment.web_ui:`` keeps its meaning. Its ``app`` takes routes, blueprints and
``after_request`` hooks the Flask way (``horde.web.flask_compat``), served by horde's aiohttp UI
behind the same security checks as horde's own routes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from horde.runner.surface import RunnerGreenlet
from horde.scenario.users import HttpUser
from horde.version import __version__
from horde.web.flask_compat import Flask
from horde.web.flask_login_compat import LoginManager

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.web.app import WebUI

__all__ = ["LocustWebUI"]


class LocustWebUI:
    """Locust's ``WebUI``: ``app``, ``auth_args``, ``template_args``, ``login_manager``,
    ``update_template_args()``, ``auth_required_if_enabled``, ``stop()``."""

    def __init__(
        self,
        environment: Environment,
        ui: WebUI,
        stop: Callable[[], Any] | None = None,
        url: str = "",
    ) -> None:
        self.environment = environment
        self.url = url  # where it is served
        self.ui = ui
        self.app: Flask = ui.flask_app
        self.app.security = ui.security
        self.login_manager = LoginManager(self.app)
        # Locust reads these with --web-login (its login page), which horde has not got:
        # kept for code that sets or reads them.
        self.auth_args: dict[str, Any] = {}
        self.template_args: dict[str, Any] = {}
        self.greenlet: RunnerGreenlet | None = None
        self._stop = stop

    def update_template_args(self) -> None:
        """Refresh ``template_args`` with the run's state (Locust's keys that apply)."""
        env = self.environment
        runner = self.ui.runner
        options = env.parsed_options
        hosts = {cls.host for cls in env.user_classes}
        host = env.host or (next(iter(hosts)) if len(hosts) == 1 else None)
        view = runner.workers_view
        self.template_args = {
            **self.template_args,
            "locustfile": env.scenario_path,
            "state": str(runner.state),
            "is_distributed": view is not None,
            "user_count": runner.user_count,
            "version": __version__,
            "host": host or "",
            "history": env.stats.history.rows if env.stats.total.num_requests else [],
            "override_host_warning": len(hosts) > 1 and not env.host,
            "missing_host_warning": not host
            and any(issubclass(c, HttpUser) and not c.host for c in env.user_classes),
            "num_users": getattr(options, "num_users", None),
            "spawn_rate": getattr(options, "spawn_rate", None),
            "worker_count": view.worker_count if view is not None else 0,
            "run_time": getattr(options, "run_time", None),
            "available_user_classes": sorted(c.__name__ for c in env.user_classes),
            "is_shape": env.shape_class is not None,
            "stats_history_enabled": False,
        }

    def auth_required_if_enabled(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """Locust's guard for routes behind its login page; horde's ``--web-auth`` guards every
        route already, so the view is served as it is."""

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        return guarded

    def stop(self) -> None:
        """Stop serving (a library script's ``web_ui.stop()``)."""
        if self._stop is not None:
            self._stop()

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<horde web UI of {self.environment!r}>"
