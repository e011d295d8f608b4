"""Who may use the web UI: our page in the user's browser, the user's scripts, nobody else.

A load tester is a traffic generator, so a web page the user happens to visit must never be
able to start a test through the UI on 127.0.0.1. Four checks keep it out:

- Host allowlist, on every route. DNS rebinding points a name the attacker controls at
  127.0.0.1, making the attacker's page same-origin with the UI; its requests then carry that
  name in ``Host``. Only loopback names, IP literals (a page whose origin is an IP address was
  served from that address, so no rebinding), the ``--web-host`` value and names added with
  ``--web-allowed-host`` are answered.
- Requests from a browser (any of ``Origin``, ``Sec-Fetch-*``, ``Cookie``) that change state
  need the page's token, sent as a header (never in the URL), and an ``Origin`` that is an
  allowed host on the port the request came to.
- Requests with none of those markers cannot come from a web page in a current browser (they
  add ``Sec-Fetch-Site`` to every request and ``Origin`` to every POST): they are scripts, and
  are let in without a token when they arrive on a loopback address and not through a proxy.
  Anything else needs ``--web-token``, as ``Authorization: Bearer`` or ``X-Horde-Token``.
- Off loopback, HTTP Basic auth (``--web-auth``) guards every route; the script token passes
  it too.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from horde.hosts import is_loopback

__all__ = [
    "TOKEN_HEADER",
    "ControlRequest",
    "HostAllowlist",
    "WebSecurity",
    "control",
    "control_refusal",
    "is_loopback",
]

TOKEN_HEADER = "X-Horde-Token"
# Headers a browser adds by itself; a script sends none of them unless it means to.
BROWSER_MARKERS = ("origin", "cookie", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")
# Headers a reverse proxy adds: the connection is loopback, the caller may be anywhere.
PROXY_MARKERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
WILDCARD_BINDS = ("", "0.0.0.0", "::")

# The page's Content-Security-Policy: its own scripts, styles and API, nothing inline, no
# frames. Images from data:/blob: are the charts' PNG export.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The HTML report inlines its scripts (it must open offline, as one file), so it may run
# inline code, but may not call anything: a report cannot drive the UI it was served from.
REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def split_host(value: str) -> tuple[str, int | None]:
    """``host[:port]`` (``[v6]:port`` for IPv6) as (lower-case name, port or None)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return "", None
        name, rest = value[1:end], value[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, port_text = value.split(":")
    else:
        name, port_text = value, ""
    port = int(port_text) if port_text.isdigit() else None
    return name.rstrip("."), port


class HostAllowlist:
    """The names this UI answers to, in ``Host`` and in ``Origin``."""

    def __init__(self, bind_host: str, extra: Iterable[str] = ()) -> None:
        names = {"localhost"}
        bind = bind_host.strip("[]").lower()
        if bind in WILDCARD_BINDS:
            names.add(socket.gethostname().lower())  # reached by the machine's own name
        elif bind:
            names.add(bind.rstrip("."))
        self.any = False
        for item in extra:
            name = item.strip().lower()
            if name == "*":
                self.any = True
            elif name:
                names.add(split_host(name)[0] if not name.startswith("[") else name.strip("[]"))
        self.names = frozenset(names)

    def allows(self, name: str) -> bool:
        if self.any or name in self.names or name.endswith(".localhost"):
            return True
        try:
            ipaddress.ip_address(name)  # an IP literal cannot be rebound
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class ControlRequest:
    """What decides whether a state-changing request is let in (see ``control_refusal``)."""

    browser: bool  # carries Origin, Cookie or Sec-Fetch-*
    same_origin: bool  # Sec-Fetch-Site and Origin (when present) say it comes from our page
    token: bool  # carries the page's token or the --web-token
    loopback: bool  # arrived on a loopback address
    proxied: bool  # carries Forwarded / X-Forwarded-* / X-Real-IP


def control_refusal(request: ControlRequest) -> str | None:
    """Why a state-changing request is refused, or None when it may go ahead."""
    if request.browser:
        if not request.same_origin:
            return "refused: a state-changing request from another web site"
        if not request.token:
            return f"refused: a browser request without the page's token ({TOKEN_HEADER})"
        return None
    if request.token:
        return None
    if request.loopback and not request.proxied:
        return None  # a script on this machine
    return (
        "refused: scripts need the token from --web-token (or HORDE_WEB_TOKEN), sent as "
        f"'Authorization: Bearer TOKEN' or '{TOKEN_HEADER}: TOKEN', unless they connect "
        "over loopback directly"
    )


class WebSecurity:
    """The checks above as aiohttp middleware, and the headers every answer carries."""

    def __init__(
        self,
        basic_auth: str | None = None,
        *,
        bind_host: str = "127.0.0.1",
        allowed_hosts: Iterable[str] = (),
        script_token: str | None = None,
    ) -> None:
        self.token = secrets.token_urlsafe(24)  # the page's: a new one each run
        self.script_token = script_token or None
        self.hosts = HostAllowlist(bind_host, allowed_hosts)
        self._basic = None
        if basic_auth:
            if ":" not in basic_auth:
                raise ValueError("--web-auth must be USER:PASSWORD")
            self._basic = "Basic " + base64.b64encode(basic_auth.encode()).decode()

    # Checks ------------------------------------------------------------------------------------
    def host_refusal(self, request: web.Request) -> str | None:
        name, _ = split_host(request.headers.get("Host", ""))
        if self.hosts.allows(name):
            return None
        shown = name[:100] or "(none)"
        return (
            f"horde: this web UI does not answer to the host name {shown!r} (add it with "
            "--web-allowed-host if you reach the UI by that name)\n"
        )

    def _bearer(self, request: web.Request) -> str | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    def _matches(self, given: str | None, *secrets_: str | None) -> bool:
        if not given:
            return False
        return any(s and hmac.compare_digest(given.encode(), s.encode()) for s in secrets_)

    def _authorised(self, request: web.Request) -> bool:
        if self._basic is None:
            return True
        if self._matches(self._bearer(request), self.script_token):
            return True
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), self._basic.encode())

    def _same_origin(self, request: web.Request) -> bool:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            return False  # "null" (sandboxed frames, file: pages) and anything odd
        name, port = split_host(rest)
        if not self.hosts.allows(name):
            return False
        # The page's origin must be on the port the request reached (as the browser saw it):
        # another local app's page (localhost:3000) is not ours.
        _, host_port = split_host(request.headers.get("Host", ""))
        default = 443 if scheme == "https" else 80
        return (port or default) == (host_port or default)

    def describe(self, request: web.Request) -> ControlRequest:
        headers = request.headers
        given = headers.get(TOKEN_HEADER) or self._bearer(request)
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        local = sockname[0] if isinstance(sockname, tuple) and sockname else ""
        return ControlRequest(
            browser=any(h in headers for h in BROWSER_MARKERS),
            same_origin=self._same_origin(request),
            token=self._matches(given, self.token, self.script_token),
            loopback=is_loopback(local),
            proxied=any(h in headers for h in PROXY_MARKERS),
        )

    # Middleware --------------------------------------------------------------------------------
    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def guard(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            refusal = self.host_refusal(request)
            if refusal is not None:
                return _secured(web.Response(status=403, text=refusal))
            if not self._authorised(request):
                return _secured(
                    web.Response(
                        status=401,
                        text="authentication required\n",
                        headers={"WWW-Authenticate": 'Basic realm="horde"'},
                    )
                )
            route = request.match_info.route
            if getattr(route.handler, "horde_control", False):
                why = control_refusal(self.describe(request))
                if why is not None:
                    refused = web.json_response({"success": False, "message": why}, status=403)
                    return _secured(refused)
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                # 404, 405 (a GET on a POST-only route): short text, secured like the rest.
                response = web.Response(status=exc.status, text=f"{exc.status} {exc.reason}\n")
                if "Allow" in exc.headers:
                    response.headers["Allow"] = exc.headers["Allow"]
            return _secured(response)

        return guard


def _secured(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def control(
    handler: Callable[..., Awaitable[web.StreamResponse]],
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Mark a handler as changing state (see ``control_refusal``); register it for POST only."""
    handler.horde_control = True  # type: ignore[attr-defined]  # a mark the middleware reads
    return handler
