"""Logging in through a Django login form, the way a browser does (the seed's first step)."""

from __future__ import annotations

import re
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from horde.http.response import Response
from horde.http.session import HttpSession

__all__ = ["StyledClient", "django_login"]

_TOKEN_IN_FORM = re.compile(rb'name=["\']csrfmiddlewaretoken["\'][^>]*value=["\']([^"\']+)')
T = TypeVar("T")


class StyledClient(Protocol):
    """A client that knows the calling task's style (the scenario layer's ``HttpClient``):
    ``resolve`` waits for a coroutine in a blocking-style task and returns it in an async one."""

    @property
    def session(self) -> HttpSession: ...

    def resolve(self, coro: Coroutine[Any, Any, T]) -> Any: ...


def django_login(
    client: HttpSession | StyledClient,
    login_url: str = "/accounts/login/",
    *,
    username: str,
    password: str,
    name: str | None = None,
    extra_fields: dict[str, str] | None = None,
) -> Any:
    """GET the form, then POST the credentials with the CSRF token; follows the redirect.

    With a user's ``self.client`` it returns the final response in a blocking-style task and an
    awaitable in an ``async`` one; with an ``HttpSession`` it returns the coroutine. The POST is
    recorded under ``name`` (default: the login URL), so failed logins show there.
    """
    if isinstance(client, HttpSession):
        return _login(client, login_url, username, password, name, extra_fields)
    coro = _login(client.session, login_url, username, password, name, extra_fields)
    return client.resolve(coro)


async def _login(
    session: HttpSession,
    login_url: str,
    username: str,
    password: str,
    name: str | None,
    extra_fields: dict[str, str] | None,
) -> Response:
    form = await session.request("GET", login_url, name=name)
    token = form.cookies.get("csrftoken") or session.cookies.get("csrftoken")
    if not token:
        match = _TOKEN_IN_FORM.search(form.content)
        token = match.group(1).decode() if match else ""
    fields = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    fields.update(extra_fields or {})
    headers = {"X-CSRFToken": token, "Referer": form.url}
    return await session.request("POST", login_url, data=fields, headers=headers, name=name)
