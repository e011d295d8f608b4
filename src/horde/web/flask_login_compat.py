"""What ``import flask_login`` gives a locustfile under horde (Locust's web UI uses Flask-Login).

Locust's examples of a login page for its web UI (``--web-login``) register a user loader on
``environment.web_ui.login_manager`` and call ``login_user`` in their routes. horde's UI has no
login page of its own (``--web-auth USER:PASSWORD`` guards it), but these names work as they do
with Flask-Login, on the facade's session (``horde.web.flask_compat``): a route may log a user
in and ``current_user`` / ``login_required`` see it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from horde.web.flask_compat import _app, _Proxy, abort, session

__all__ = [
    "AnonymousUserMixin",
    "LoginManager",
    "UserMixin",
    "current_user",
    "login_required",
    "login_user",
    "logout_user",
]

USER_KEY = "_user_id"


class UserMixin:
    """Flask-Login's defaults for a user class: active, authenticated, ``get_id()``."""

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        try:
            return str(self.id)  # type: ignore[attr-defined]
        except AttributeError:
            raise NotImplementedError("No `id` attribute - override `get_id`") from None


class AnonymousUserMixin:
    is_authenticated = False
    is_active = False
    is_anonymous = True

    def get_id(self) -> None:
        return None


class LoginManager:
    """Holds the user loader (``@login_manager.user_loader``)."""

    def __init__(self, app: Any = None) -> None:
        self.login_view: str | None = None
        self.anonymous_user: type = AnonymousUserMixin
        self._user_callback: Callable[[str], Any] | None = None
        self._request_callback: Callable[[Any], Any] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        app.login_manager = self

    def user_loader(self, callback: Callable[[str], Any]) -> Callable[[str], Any]:
        self._user_callback = callback
        return callback

    def request_loader(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        self._request_callback = callback
        return callback

    def load_user(self) -> Any:
        user_id = session.get(USER_KEY) if session else None
        if user_id is not None and self._user_callback is not None:
            user = self._user_callback(user_id)
            if user is not None:
                return user
        return self.anonymous_user()


def _manager() -> LoginManager:
    manager = getattr(_app(), "login_manager", None)
    if manager is None:
        manager = LoginManager(_app())
    return manager


def login_user(user: Any, remember: bool = False, **_: Any) -> bool:
    if not getattr(user, "is_active", True):
        return False
    session[USER_KEY] = user.get_id()
    return True


def logout_user() -> bool:
    if USER_KEY in session:
        del session[USER_KEY]
    return True


current_user: Any = _Proxy(lambda: _manager().load_user(), "current_user")


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401, "login required")
        return view(*args, **kwargs)

    return guarded
