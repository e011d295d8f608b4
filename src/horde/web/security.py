"""What keeps a web page in the user's browser from driving their load tester.

A load tester is a traffic generator: a malicious page must not be able to start a test against
an arbitrary host through the UI on 127.0.0.1. Control requests therefore need a per-process
random token that only our own page holds (read from a meta tag, sent as a header), and are
refused when the browser says they come from another origin. Optional HTTP Basic auth guards
everything when the UI listens beyond loopback.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["WebSecurity", "is_loopback"]

TOKEN_HEADER = "X-Horde-Token"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebSecurity:
    def __init__(self, basic_auth: str | None = None) -> None:
        self.token = secrets.token_urlsafe(24)
        self._basic = None
        if basic_auth:
            if ":" not in basic_auth:
                raise ValueError("--web-auth must be USER:PASSWORD")
            self._basic = "Basic " + base64.b64encode(basic_auth.encode()).decode()

    def _authorised(self, request: web.Request) -> bool:
        if self._basic is None:
            return True
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), self._basic.encode())

    def _same_origin(self, request: web.Request) -> bool:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser (curl, scripts): the token alone decides
        return origin == f"{request.scheme}://{request.host}"

    def _has_token(self, request: web.Request) -> bool:
        given = request.headers.get(TOKEN_HEADER) or request.query.get("token") or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def guard(request: web.Request, handler: Callable) -> web.StreamResponse:
            if not self._authorised(request):
                return web.Response(
                    status=401,
                    text="authentication required\n",
                    headers={"WWW-Authenticate": 'Basic realm="horde"'},
                )
            route = request.match_info.route
            if getattr(route.handler, "horde_control", False) and not (
                self._same_origin(request) and self._has_token(request)
            ):
                return web.json_response(
                    {
                        "success": False,
                        "message": "cross-site or token-less control request refused",
                    },
                    status=403,
                )
            response = await handler(request)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return response

        return guard


def control(handler: Callable[..., Awaitable[web.StreamResponse]]) -> Callable:
    """Mark a handler as changing state: it needs the token and a same-origin request."""
    handler.horde_control = True  # type: ignore[attr-defined]
    return handler
