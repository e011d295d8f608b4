"""Logging in through a Django login form, the way a browser does (the seed's first step)."""

from __future__ import annotations

import re
from typing import Any

from horde.bridge import await_, in_bridge
from horde.http.response import Response
from horde.http.session import HttpSession

__all__ = ["django_login"]

_TOKEN_IN_FORM = re.compile(rb'name=["\']csrfmiddlewaretoken["\'][^>]*value=["\']([^"\']+)')


def django_login(
    session: HttpSession,
    login_url: str = "/accounts/login/",
    *,
    username: str,
    password: str,
    name: str | None = None,
    extra_fields: dict[str, str] | None = None,
) -> Any:
    """GET the form, then POST the credentials with the CSRF token; follows the redirect.

    Returns the final response in a blocking-style task, a coroutine in an ``async`` one. The
    POST is recorded under ``name`` (default: the login URL), so failed logins show there.
    """
    coro = _login(session, login_url, username, password, name, extra_fields)
    if in_bridge():
        return await_(coro)
    return coro


async def _login(
    session: HttpSession,
    login_url: str,
    username: str,
    password: str,
    name: str | None,
    extra_fields: dict[str, str] | None,
) -> Response:
    form = await session._request("GET", login_url, name=name)
    token = form.cookies.get("csrftoken") or session.cookies.get("csrftoken")
    if not token:
        match = _TOKEN_IN_FORM.search(form.content)
        token = match.group(1).decode() if match else ""
    fields = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    fields.update(extra_fields or {})
    headers = {"X-CSRFToken": token, "Referer": form.url}
    return await session._request("POST", login_url, data=fields, headers=headers, name=name)
