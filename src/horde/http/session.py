"""The HTTP client of one simulated user: cookies, redirects, CSRF, auth, and recording.

One request path serves both task styles: ``request()`` returns the coroutine to an ``async``
task, and inside a blocking-style task (a bridged greenlet) it waits for it through the bridge
and returns the response. Every request the server sees is recorded once, including each
redirect hop, so horde's counts equal the server's.
"""

from __future__ import annotations

import asyncio
import base64
import json as jsonlib
import ssl
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from greenlet import getcurrent

from horde import __version__
from horde.bridge import BridgedGreenlet, await_
from horde.events import events
from horde.exceptions import UserStopped
from horde.http.connection import Connection, ConnectionState, open_connection
from horde.http.cookies import CookieJar
from horde.http.errors import (
    ConnectionReset,
    HTTPError,
    InvalidURL,
    MalformedResponse,
    RequestCancelled,
    RequestError,
    TooManyRedirects,
)
from horde.http.response import Response

__all__ = ["HttpSession"]

DEFAULT_USER_AGENT = f"horde/{__version__}"
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
_perf_ns = time.perf_counter_ns
PLAIN_CACHE_SIZE = 4096  # distinct plain requests kept ready per target
_IDLE = ConnectionState.IDLE
_ssl_contexts: dict[bool, ssl.SSLContext] = {}
# Origins are immutable (host, port, constant header bytes): every session shares them.
_origins: dict[tuple[str, str, int, str, bool], _Origin] = {}


def ssl_context(verify: bool) -> ssl.SSLContext:
    """One context per setting for the whole process: creating one costs milliseconds."""
    context = _ssl_contexts.get(verify)
    if context is None:
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        _ssl_contexts[verify] = context
    return context


class _Origin:
    """Scheme, host and port of a target, with the constant header bytes for it."""

    __slots__ = ("base_headers", "head", "host", "key", "plain", "port", "scheme", "url")

    def __init__(self, scheme: str, host: str, port: int, base_headers: dict[str, str]) -> None:
        # (method, path) -> (request bytes, full URL) of requests without headers of their own,
        # cookies or a body: most requests of a load test, sent again and again.
        self.plain: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.scheme = scheme
        self.host = host
        self.port = port
        self.base_headers = base_headers
        self.head = "".join(f"{k}: {v}\r\n" for k, v in base_headers.items()).encode("latin-1")
        self.key = (scheme, host, port)
        default = 443 if scheme == "https" else 80
        hostport = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{hostport}" + ("" if port == default else f":{port}")

    def plain_request(self, method: str, path: str) -> tuple[bytes, str]:
        """The bytes of a plain request for ``path``, built once (a bounded cache)."""
        found = self.plain.get((method, path))
        if found is None:
            raw = b"%s %s HTTP/1.1\r\n%s\r\n" % (
                method.encode(),
                path.encode("latin-1"),
                self.head,
            )
            found = (raw, self.url + path)
            if len(self.plain) < PLAIN_CACHE_SIZE:
                self.plain[(method, path)] = found
        return found


class HttpSession:
    """Keep-alive HTTP/1.1 client with a cookie jar; one per simulated user.

    Slotted: thousands of idle users each hold one, so its size is per-user memory.
    """

    __slots__ = (
        "_base",
        "_base_path",
        "_connections",
        "_idle",
        "base_url",
        "connect_timeout",
        "cookies",
        "django_csrf",
        "headers",
        "max_redirects",
        "read_timeout",
        "stats",
        "stopping",
        "timeout",
        "user_agent",
        "verify",
    )

    def __init__(
        self,
        base_url: str | None,
        *,
        stats: Any = None,
        verify: bool = True,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        timeout: float | None = None,
        max_redirects: int = 10,
        django_csrf: bool = False,
        headers: Mapping[str, str] | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.stats = stats
        self.verify = verify
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.django_csrf = django_csrf
        self.user_agent = user_agent
        self.headers: dict[str, str] = dict(headers or {})
        self.cookies = CookieJar()
        self.stopping = False
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        # A list, not a set: a user has one or two connections, and an empty set costs 216 B.
        self._connections: list[Connection] = []
        self._base: _Origin | None = None
        self._base_path = ""
        if self.base_url:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidURL(f"invalid base URL {base_url!r}: use http(s)://host[:port]")
            self._base = self._origin(parts.scheme, parts.hostname, parts.port)
            self._base_path = parts.path.rstrip("/")

    # Public API, both styles ---------------------------------------------------------------------
    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request: returns the Response in a blocking-style task, else a coroutine."""
        coro = self._request(method.upper(), url, **kwargs)
        if type(getcurrent()) is BridgedGreenlet:
            return await_(coro)
        return coro

    def get(self, url: str, **kwargs: Any) -> Any:
        # The most frequent call of all, so it does request()'s and await_()'s work inline:
        # in a blocking-style task, hand the coroutine to the loop's greenlet (bridge protocol).
        coro = self._request("GET", url, **kwargs)
        current = getcurrent()
        if type(current) is BridgedGreenlet:
            return current.parent.switch(None, coro)
        return coro

    def post(self, url: str, data: Any = None, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> Any:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Any:
        return self.request("OPTIONS", url, **kwargs)

    def close(self) -> None:
        """Close every connection of this user."""
        for connection in self._connections:
            connection.close()
        self._connections.clear()
        self._idle.clear()

    # The request path ----------------------------------------------------------------------------
    async def _request(
        self,
        method: str,
        url: str,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        json: Any = None,
        cookies: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
        timeout: float | None = None,
        catch_response: bool = False,
        auth: tuple[str, str] | None = None,
    ) -> Response:
        if self.stopping:
            raise UserStopped()
        if data is None and json is None:
            body = content_type = None
        else:
            body, content_type = _encode_body(data, json)
        total = timeout if timeout is not None else self.timeout
        deadline = asyncio.get_running_loop().time() + total if total else None
        target_url = url
        if params:
            target_url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        response = await self._send(
            method, target_url, name or url, headers, body, content_type, cookies, auth, deadline
        )
        if allow_redirects and response.status_code in REDIRECT_STATUSES:
            response = await self._follow_redirects(
                response, url, name, headers, body, content_type, cookies, auth, deadline
            )
            if response._session is not None:  # too many redirects: already recorded
                response._session = None
                return response
        if catch_response:
            response._session = self
        else:
            error = response.error
            if error is None and response.status_code >= 400:
                error = HTTPError(f"{response.status_code} {response.reason}")
            self._record(response.request_method, response._name, response._time_us,
                         len(response.content), error, response)  # fmt: skip
        return response

    async def _follow_redirects(
        self,
        response: Response,
        url: str,
        name: str | None,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        content_type: str | None,
        cookies: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
        deadline: float | None,
    ) -> Response:
        """Follow Location headers; every hop but the last is recorded here, as a success."""
        history: list[Response] = []
        method = response.request_method
        while response.status_code in REDIRECT_STATUSES:
            location = response.headers.get("location")
            if location is None:
                break
            if len(history) >= self.max_redirects:
                response.history = history
                error = TooManyRedirects(f"more than {self.max_redirects} redirects from {url}")
                self._record_response(response, error)
                response._session = self  # tells _request that this one is recorded
                return response
            self._record_response(response, None)
            history.append(response)
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method not in ("GET", "HEAD")
            ):
                method, body, content_type = "GET", None, None
            next_url = urljoin(response.url, location)
            if self.stopping:
                raise UserStopped()
            response = await self._send(
                method, next_url, name or self._name_for(next_url), headers, body,
                content_type, cookies, auth, deadline,
            )  # fmt: skip
        response.history = history
        return response

    async def _send(
        self,
        method: str,
        url: str,
        name: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        content_type: str | None,
        cookies: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
        deadline: float | None,
    ) -> Response:
        """One request on the wire; network errors come back as a response with ``error``.

        The response carries its stats name and time; the caller records it.
        """
        start = _perf_ns()
        base = self._base
        plain = not (
            headers or content_type or cookies or auth or self.headers or self.cookies.nonempty
        )
        if url[:1] == "/" and base is not None:
            origin = base
            path = self._base_path + url if self._base_path else url
            if plain and body is None:
                raw, full_url = base.plain_request(method, path)
            else:
                target = path.encode("latin-1")
                full_url = base.url + path
                raw = b""
        else:
            try:
                origin, target, full_url = self._resolve(url)
            except RequestError as exc:
                return self._failed(method, url, name, exc, start)
            raw = b""
        if not raw:
            if plain:
                raw = b"%s %s HTTP/1.1\r\n%s" % (method.encode(), target, origin.head)
            else:
                block = self._header_block(
                    method, origin, full_url, headers, content_type, cookies, auth
                )
                raw = b"%s %s HTTP/1.1\r\n%s" % (method.encode(), target, block)
            if body is None:
                raw += b"\r\n"
            else:
                raw += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        head_only = method == "HEAD"
        connection: Connection | None = None
        try:
            idle = self._idle.get(origin.key)
            connection = idle.pop() if idle else None
            if connection is None or connection.state is not _IDLE:
                connection = await self._connection(origin, deadline)
            reused = connection.requests_sent > 0
            try:
                parser = await connection.send(raw, head_only, deadline)
            except ConnectionReset:
                # A kept-alive connection the server had closed: retry once on a new one, but
                # only when not a byte of an answer came back.
                if not reused or connection.received_any:
                    raise
                _forget(self._connections, connection)
                connection = await self._connection(origin, deadline, fresh=True)
                parser = await connection.send(raw, head_only, deadline)
        except asyncio.CancelledError:
            if connection is not None:
                connection.abandon()
            error = RequestCancelled("request cancelled when the test stopped")
            self._record(method, name, (_perf_ns() - start) // 1000, 0, error, None)
            raise
        except RequestError as exc:
            return self._failed(method, full_url, name, exc, start)
        end = connection.completed_ns
        if connection.state is _IDLE:
            if idle is None:
                idle = self._idle[origin.key] = []
            idle.append(connection)
        else:
            _forget(self._connections, connection)
        chunks = parser.body
        content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        error: Exception | None = None
        encoding = parser.encoding
        if encoding is not None and content:
            try:
                content = _decode(content, encoding)
            except zlib.error as exc:
                error = MalformedResponse(f"cannot decode {encoding.decode()} body: {exc}")
        response = Response(
            method, full_url, parser.status, parser.head, content, (end - start) / 1e9, error
        )
        response._name = name
        response._time_us = (end - start) // 1000
        if parser.set_cookie:
            self.cookies.extract(full_url, response.raw_headers)
        connection.release_parser()
        return response

    # Helpers -------------------------------------------------------------------------------------
    def _failed(self, method: str, url: str, name: str, error: Exception, start: int) -> Response:
        elapsed = _perf_ns() - start
        response = Response(method, url, 0, b"", b"", elapsed / 1e9, error)
        response._name = name
        response._time_us = elapsed // 1000
        return response

    def _record_response(self, response: Response, outcome: BaseException | str | None) -> None:
        self._record(
            response.request_method,
            response._name,
            response._time_us,
            len(response.content),
            outcome,
            response,
        )

    def _record(
        self,
        method: str,
        name: str,
        time_us: int,
        length: int,
        outcome: BaseException | str | None,
        response: Response | None,
    ) -> None:
        stats = self.stats
        if stats is not None:
            entry = stats.entry(method, name)
            entry.record(time_us, length)
            if outcome is not None:
                entry.record_failure(outcome)
        if events.request._listeners:
            events.request.fire(
                request_type=method,
                name=name,
                response_time=time_us / 1000,
                response_length=length,
                exception=outcome,
                record=False,
                response=response,
                url=response.url if response is not None else None,
            )

    def _origin(self, scheme: str, host: str, port: int | None) -> _Origin:
        port = port or (443 if scheme == "https" else 80)
        key = (scheme, host, port, self.user_agent, self.verify)
        origin = _origins.get(key)
        if origin is None:
            default = 443 if scheme == "https" else 80
            hostport = f"[{host}]" if ":" in host else host
            host_header = hostport if port == default else f"{hostport}:{port}"
            base = {
                "Host": host_header,
                "User-Agent": self.user_agent,
                "Accept-Encoding": "gzip, deflate",
                "Accept": "*/*",
            }
            origin = _origins[key] = _Origin(scheme, host, port, base)
        return origin

    def _resolve(self, url: str) -> tuple[_Origin, bytes, str]:
        """Origin, request target and absolute URL; relative URLs take a fast path."""
        base = self._base
        if url[:1] == "/" and base is not None:
            path = self._base_path + url
            return base, path.encode("latin-1"), base.url + path
        if "://" not in url:
            if base is None:
                raise InvalidURL(f"relative URL {url!r} but no host was given")
            path = f"{self._base_path}/{url}"
            return base, path.encode("latin-1"), base.url + path
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidURL(f"cannot request {url!r}: only http(s) URLs with a host")
        origin = self._origin(parts.scheme, parts.hostname, parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return origin, target.encode("latin-1"), origin.url + target

    def _name_for(self, url: str) -> str:
        """Stats name of a redirect target: its path on the base host, else the full URL."""
        if self._base is not None and url.startswith(self._base.url + "/"):
            return url[len(self._base.url) + len(self._base_path) :] or "/"
        return url

    def _header_block(
        self,
        method: str,
        origin: _Origin,
        url: str,
        headers: Mapping[str, str] | None,
        content_type: str | None,
        cookies: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
    ) -> bytes:
        """All header lines of a request that needs more than the constant ones.

        Later sources override earlier ones, whatever the case of the name: the constant lines,
        the session's ``headers`` (which scenarios may change at any time, as in Locust), then
        body type, auth, cookies, CSRF, and this request's ``headers``.
        """
        jar_has_cookies = self.cookies.nonempty
        lines = dict(origin.base_headers)  # distinct names: nothing to override yet
        if self.headers:
            _override(lines, self.headers)
        if content_type:
            lines["Content-Type"] = content_type
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            lines["Authorization"] = f"Basic {token}"
        cookie = self.cookies.header_for(url) if jar_has_cookies else None
        if cookies:
            extra = "; ".join(f"{k}={v}" for k, v in cookies.items())
            cookie = f"{cookie}; {extra}" if cookie else extra
        if cookie:
            lines["Cookie"] = cookie
        if self.django_csrf and method in UNSAFE_METHODS and jar_has_cookies:
            token = self.cookies.value_for("csrftoken", url)
            if token:
                lines["X-CSRFToken"] = token
                if origin.scheme == "https":
                    lines["Referer"] = origin.url + "/"
        if headers:
            _override(lines, headers)
        return "".join(f"{k}: {v}\r\n" for k, v in lines.items()).encode("latin-1")

    async def _connection(
        self, origin: _Origin, deadline: float | None, fresh: bool = False
    ) -> Connection:
        idle = None if fresh else self._idle.get(origin.key)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection
            _forget(self._connections, connection)
        loop = asyncio.get_running_loop()
        limit = self.connect_timeout
        if deadline is not None:
            limit = max(0.0, min(limit, deadline - loop.time()))
        connection = await open_connection(
            loop,
            origin.host,
            origin.port,
            ssl_context(self.verify) if origin.scheme == "https" else None,
            limit,
            self.read_timeout,
        )
        self._connections.append(connection)
        return connection


def _forget(connections: list[Connection], connection: Connection) -> None:
    if connection in connections:
        connections.remove(connection)


def _override(lines: dict[str, str], new: Mapping[str, str]) -> None:
    """Set ``new`` into ``lines``, replacing names that differ only in case."""
    lower = {k.lower(): k for k in lines}
    for key, value in new.items():
        lines.pop(lower.get(key.lower(), key), None)
        lines[key] = value


def _encode_body(data: Any, json: Any) -> tuple[bytes | None, str | None]:
    if json is not None:
        return jsonlib.dumps(json, separators=(",", ":")).encode(), "application/json"
    if data is None:
        return None, None
    if isinstance(data, bytes):
        return data, None
    if isinstance(data, str):
        return data.encode(), None
    return urlencode(data, doseq=True).encode(), "application/x-www-form-urlencoded"


def _decode(content: bytes, encoding: bytes) -> bytes:
    if encoding == b"gzip" or encoding == b"x-gzip":
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    if encoding == b"deflate":
        try:
            return zlib.decompress(content)
        except zlib.error:
            return zlib.decompress(content, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    return content
