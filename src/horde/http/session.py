"""The HTTP client of one simulated user: cookies, redirects, CSRF, auth, body limits, and
recording, as one purely asynchronous session.

Every request the server sees is recorded once, through a ``Recorder`` (one row lookup, one
record), including each redirect hop, so horde's counts equal the server's. Whether a task
waits for a request (blocking style) or awaits it is not this module's business: the scenario
layer's client makes that choice and hands the coroutines of this session to the bridge.

The request path: ``request`` makes one ``PreparedRequest``; ``_exchange`` prepares its bytes
(``protocol.build_request``), checks out a connection for its origin, exchanges the request on
it and builds the response.
"""

from __future__ import annotations

import asyncio
import base64
import json as jsonlib
import re
import ssl
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypedDict, Unpack
from urllib.parse import urlencode, urljoin, urlsplit

from horde.events import call_listeners
from horde.http.body import DEFAULT_MAX_BODY_SIZE, BodyMode
from horde.http.connection import Connection, ConnectionState, open_connection
from horde.http.cookies import CookieJar
from horde.http.errors import (
    ConnectionReset,
    InvalidURL,
    RequestCancelled,
    RequestError,
    TooManyRedirects,
    status_error,
)
from horde.http.protocol import ResponseParser, build_request
from horde.http.request import PreparedRequest, same_origin_for_credentials
from horde.http.response import BodyReader, Response
from horde.stats.recorder import Recorder, RequestListener
from horde.version import __version__

__all__ = [
    "DEFAULT_USER_AGENT",
    "BodyOptions",
    "HttpSession",
    "JsonOption",
    "Origin",
    "RequestOptions",
    "ssl_context",
]

DEFAULT_USER_AGENT = f"horde/{__version__}"
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
_perf_ns = time.perf_counter_ns
PLAIN_CACHE_SIZE = 4096  # distinct plain requests kept ready per target
_IDLE = ConnectionState.IDLE
_KEEP = BodyMode.KEEP
_ssl_contexts: dict[bool, ssl.SSLContext] = {}
# Origins are immutable (host, port, constant header bytes): every session shares them.
_origins: dict[tuple[str, str, int, str, bool], Origin] = {}


class RequestOptions(TypedDict, total=False):
    """The keyword arguments of a request (Locust's, plus ``stream`` and ``keep_body``), but
    for the body's: ``JsonOption`` adds ``json``, ``BodyOptions`` adds ``data`` too (methods
    that take them by position type the rest with the smaller ones).

    Attributes:
        name: The row the request is counted under (default: the URL's path).
        params: The query string, as a dict or pairs.
        headers: Headers of this request, over the client's.
        cookies: Cookies of this request, over the user's.
        allow_redirects: Follow redirects (default True; each hop is a request of its own).
        timeout: Seconds to wait for the answer (default: the user's ``network_timeout``).
        catch_response: Decide success or failure yourself, in ``with ... as response``.
        auth: ``(user, password)`` for HTTP basic authentication.
        stream: Read the body in chunks (``iter_content``, ``aiter_content``).
        keep_body: False: read the body to its end and count it, but do not keep it.
    """

    name: str | None
    params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None
    headers: Mapping[str, str] | None
    cookies: Mapping[str, str] | None
    allow_redirects: bool
    timeout: float | None
    catch_response: bool
    auth: tuple[str, str] | None
    stream: bool
    keep_body: bool
    context: Mapping[str, Any] | None


class JsonOption(RequestOptions, total=False):
    json: Any


class BodyOptions(JsonOption, total=False):
    data: Any


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


class Origin:
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
            raw = build_request(method.encode(), path.encode("latin-1"), self.head, None)
            found = (raw, self.url + path)
            if len(self.plain) < PLAIN_CACHE_SIZE:
                self.plain[(method, path)] = found
        return found


_METHODS = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110's token: what a method may be


def _cancel_reason(stop: asyncio.CancelledError) -> str:
    """Why a request in flight was cancelled, for its failure: what cancelled it when that
    said (a gevent ``Timeout`` around the request, a greenlet's kill), else the end of the
    test (the runner cancels what is still in flight after the stop's grace)."""
    cause = stop.args[0] if stop.args else None
    if isinstance(cause, BaseException):
        detail = f" ({cause})" if str(cause) else ""
        return f"request interrupted by {type(cause).__name__}{detail}"
    if isinstance(cause, str) and cause:
        return f"request cancelled: {cause}"
    return "request cancelled when the test stopped"


def _session_stopped() -> BaseException:
    return RequestCancelled("the session is stopping: no more requests are sent")


class HttpSession:
    """Keep-alive HTTP/1.1 client with a cookie jar; one per simulated user.

    Every request method returns a coroutine. ``recorder`` receives each request (``None``:
    nothing is recorded); ``listeners`` are called after each one with Locust's request-event
    keywords (a live sequence: the scenario layer passes the run's list, which may grow during
    the run). Once ``stopping`` is set, a new request or redirect hop raises ``stop_error()``
    instead of going out (the scenario layer makes that its StopUser). Exceptions of
    ``flow_exceptions`` leaving a ``catch_response`` block are control flow, not failures.

    Slotted: thousands of idle users each hold one, so its size is per-user memory.
    """

    __slots__ = (
        "_base",
        "_base_path",
        "_connections",
        "_idle",
        "_spare",
        "base_url",
        "connect_timeout",
        "cookies",
        "django_csrf",
        "flow_exceptions",
        "headers",
        "listeners",
        "max_body_size",
        "max_redirects",
        "name_by_path",
        "notify",
        "read_timeout",
        "recorder",
        "request_name",
        "stop_error",
        "stopping",
        "timeout",
        "user_agent",
        "user_context",
        "verify",
    )

    def __init__(
        self,
        base_url: str | None,
        *,
        recorder: Recorder | None = None,
        listeners: Sequence[RequestListener] = (),
        verify: bool = True,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        timeout: float | None = None,
        max_redirects: int = 10,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        django_csrf: bool = False,
        headers: Mapping[str, str] | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        stop_error: Callable[[], BaseException] = _session_stopped,
        flow_exceptions: tuple[type[BaseException], ...] = (),
        user_context: Callable[[], Mapping[str, Any]] | None = None,
        notify: Callable[[dict[str, Any]], None] | None = None,
        name_by_path: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        # Locust's: the name of requests that give none (client.request_name, rename_request).
        self.request_name: str | None = None
        # What the request event's ``context`` starts from (the user's ``context()``), and how
        # its listeners are called (the event's notify: a listener that raises is logged).
        self.user_context = user_context
        self.notify = notify
        # How requests without a name are named: by the URL given (Locust's FastHttpUser), or
        # by the path and query they go to (its HttpUser: an absolute URL's path).
        self.name_by_path = name_by_path
        self.recorder = recorder
        self.listeners = listeners
        self.verify = verify
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.max_body_size = max_body_size
        self.django_csrf = django_csrf
        self.user_agent = user_agent
        self.headers: dict[str, str] = dict(headers or {})
        self.cookies = CookieJar()
        self.stopping = False
        self.stop_error = stop_error
        self.flow_exceptions = flow_exceptions
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        # A list, not a set: a user has one or two connections, and an empty set costs 216 B.
        self._connections: list[Connection] = []
        self._base: Origin | None = None
        self._base_path = ""
        self._spare: PreparedRequest | None = None
        self.rebase(self.base_url)

    def rebase(self, base_url: str | None) -> None:
        """Send relative URLs to ``base_url`` from now on (Locust's ``session.base_url = ...``)."""
        self.base_url = base_url.rstrip("/") if base_url else None
        self._base, self._base_path = None, ""
        if self.base_url:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidURL(f"invalid base URL {base_url!r}: use http(s)://host[:port]")
            self._base = self._origin(parts.scheme, parts.hostname, parts.port)
            self._base_path = parts.path.rstrip("/")

    # Requests ------------------------------------------------------------------------------------
    def get(self, url: str, **kwargs: Unpack[BodyOptions]) -> Coroutine[Any, Any, Response]:
        return self.request("GET", url, **kwargs)

    def post(
        self, url: str, data: Any = None, json: Any = None, **kwargs: Unpack[RequestOptions]
    ) -> Coroutine[Any, Any, Response]:
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(
        self, url: str, data: Any = None, **kwargs: Unpack[JsonOption]
    ) -> Coroutine[Any, Any, Response]:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(
        self, url: str, data: Any = None, **kwargs: Unpack[JsonOption]
    ) -> Coroutine[Any, Any, Response]:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Unpack[BodyOptions]) -> Coroutine[Any, Any, Response]:
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Unpack[BodyOptions]) -> Coroutine[Any, Any, Response]:
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Unpack[BodyOptions]) -> Coroutine[Any, Any, Response]:
        return self.request("OPTIONS", url, **kwargs)

    def request(
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
        stream: bool = False,
        keep_body: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> Coroutine[Any, Any, Response]:
        """Prepare a request; the coroutine returned sends it and gives its response.

        Failures are on ``response.error``, never raised. ``stream=True`` returns once the head
        is in; read the body with ``aiter_content()`` (or, in a blocking-style task,
        ``iter_content()``) and close the response (or use it in a ``with`` block): the
        request is recorded when its body ends. ``keep_body=False`` reads the body to its end
        without keeping it: its size is counted as received, and no cap applies. Otherwise a
        body over ``max_body_size`` (decoded) is a recorded failure. ``context`` is added to
        the request event's (for listeners).
        """
        if self.stopping:
            raise self.stop_error()
        if method not in _METHODS and not _TOKEN.fullmatch(method):
            raise ValueError(f"invalid HTTP method {method!r}")
        if data is None and json is None:
            body = content_type = None
        else:
            body, content_type = _encode_body(data, json)
        total = timeout if timeout is not None else self.timeout
        deadline = asyncio.get_running_loop().time() + total if total else None
        target_url = url
        if params:
            target_url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        if name is None:
            name = self.request_name
            if name is None and self.name_by_path and (params or self._base_path or url[:1] != "/"):
                name = self._path_name(target_url)
        mode = BodyMode.STREAM if stream else _KEEP if keep_body else BodyMode.DISCARD
        request = self._spare
        if request is None:
            request = PreparedRequest.blank()
        else:
            self._spare = None  # a concurrent request makes its own
        # What PreparedRequest.reuse does, written out: a call costs a tenth of this path.
        request.method = method
        request.url = request.full_url = target_url
        request.name = name or url
        request.headers = headers
        request.body = body
        request.content_type = content_type
        request.cookies = cookies
        request.auth = auth
        request.timeout = total
        request.deadline = deadline
        request.mode = mode
        request.limit = self.max_body_size
        request.head_only = method == "HEAD"
        request.origin = None
        request.raw = b""
        request.foreign = False
        request.context = context
        base = self._base
        if (
            target_url[:1] == "/"
            and base is not None
            and body is None
            and not (headers or cookies or auth or self.headers)
            and not self.cookies.nonempty
        ):
            # The common case: a plain request to the base host, its bytes built once. Other
            # requests are prepared by _send (``_encode``).
            request.origin = base
            request.raw, request.full_url = base.plain_request(
                method, self._base_path + target_url if self._base_path else target_url
            )
        return self._send(request, allow_redirects, catch_response, url, name)

    async def _send(
        self,
        request: PreparedRequest,
        allow_redirects: bool,
        catch_response: bool,
        url: str,
        name: str | None,
    ) -> Response:
        """The request path, one coroutine per request: for each hop, prepare the bytes, check
        out a connection, exchange, build the response; then record it.

        Network errors come back as a response with ``error``. Every redirect hop but the last
        is recorded here, as a success; the last is recorded at the end (or by catch_response's
        block, or when a streamed body ends).
        """
        history: list[Response] | None = None
        while True:
            start = request.started_ns = _perf_ns()
            response: Response | None = None
            if not request.raw:  # prepare (a plain request came prepared)
                try:
                    self._encode(request)
                except RequestError as exc:
                    response = self._failed(request, exc)
            if response is None:
                # Check out a connection and exchange the request on it.
                origin: Origin = request.origin  # type: ignore[assignment]
                idle = self._idle.get(origin.key)
                connection: Connection | None = None
                written = False  # once the request is on the wire, the server may count it
                try:
                    connection = idle.pop() if idle else None
                    if connection is None or connection.state is not _IDLE:
                        connection = await self._connect(origin, request.deadline)
                    reused = connection.requests_sent > 0
                    try:
                        answer = connection.send(request)
                        written = True
                        parser = await answer
                    except ConnectionReset:
                        # A kept-alive connection the server had closed: retry once on a new
                        # one, but only when not a byte of an answer came back.
                        if not reused or connection.received_any:
                            raise
                        written = False
                        connection = await self._connect(origin, request.deadline)
                        answer = connection.send(request)
                        written = True
                        parser = await answer
                except asyncio.CancelledError as stop:
                    if connection is not None:
                        connection.abandon()
                    if written:  # one the server saw: recorded; one never sent is no request
                        cancelled = RequestCancelled(_cancel_reason(stop))
                        elapsed_us = (_perf_ns() - start) // 1000
                        try:
                            self._record(request.method, request.name, elapsed_us, 0,
                                         cancelled, None)  # fmt: skip
                        except Exception:
                            # A listener's RescheduleTask (say) must not undo the cancellation.
                            pass
                    raise
                except RequestError as exc:
                    response = self._failed(request, exc)
                else:
                    # Build the response.
                    if parser.stream is not None:
                        response = self._streamed(request, connection, parser)
                    else:
                        end = connection.completed_ns
                        if connection.state is _IDLE:
                            if idle is None:
                                idle = self._idle[origin.key] = []
                            idle.append(connection)
                        chunks = parser.body
                        response = Response(
                            request.method,
                            request.full_url,
                            parser.status,
                            parser.head,
                            chunks[0] if len(chunks) == 1 else b"".join(chunks),
                            (end - start) / 1e9,
                            parser.error,
                        )
                        response._name = request.name
                        response._time_us = (end - start) // 1000
                        response._length = parser.size
                        if parser.set_cookie:
                            self.cookies.extract(request.full_url, response.raw_headers)
                        connection.release_parser()
            # Follow a redirect.
            if not allow_redirects or response.status_code not in REDIRECT_STATUSES:
                break
            location = response.headers.get("location")
            if location is None:
                break
            if history is None:
                history = []
            too_many = len(history) >= self.max_redirects
            if response._stream is not None:
                # A streamed hop: its body is not wanted. Closing it must not record it.
                response._session = self
                response.close()
                response._session = None
            if too_many:
                response.history = history
                too_many_error = TooManyRedirects(
                    f"more than {self.max_redirects} redirects from {url}"
                )
                self._record_response(response, too_many_error)
                self._spare = request
                return response
            self._record_response(response, None)
            history.append(response)
            request = self._next_hop(request, response, location, name)
        if history is not None:
            response.history = history
        if request.context is not None:
            response._context = request.context
        if catch_response:
            response._session = self
        elif response._stream is None:
            error: Exception | None = response.error
            if error is None and response.status_code >= 400:
                error = status_error(response.status_code, response.reason, response._name)
            self._record(response.request_method, response._name, response._time_us,
                         response._length, error, response)  # fmt: skip
        self._spare = request  # nothing refers to it any more: the next request fills it
        return response

    def _next_hop(
        self, request: PreparedRequest, response: Response, location: str, name: str | None
    ) -> PreparedRequest:
        """The request that follows ``response``'s redirect to ``location``."""
        method = request.method
        if response.status_code == 303 or (
            response.status_code in (301, 302) and method not in ("GET", "HEAD")
        ):
            method = "GET"
        next_url = urljoin(response.url, location)
        if self.stopping:
            raise self.stop_error()
        try:
            origin = self._resolve(next_url)[0]
            same = request.origin is not None and same_origin_for_credentials(
                request.origin, origin
            )
        except RequestError:
            same = False  # the hop fails when it is prepared, with this error
        return request.follow(method, next_url, name or self._name_for(next_url), same)

    def _streamed(
        self, request: PreparedRequest, connection: Connection, parser: ResponseParser
    ) -> Response:
        """The response of a streamed request, returned with its head: the body follows."""
        response = Response(
            request.method, request.full_url, parser.status, parser.head, b"", 0.0, None
        )
        response._name = request.name
        response._stream = BodyReader(self, response, connection, parser, request.started_ns)
        if parser.set_cookie:
            self.cookies.extract(request.full_url, response.raw_headers)
        return response

    def _stream_ended(self, reader: BodyReader, connection: Connection, reusable: bool) -> None:
        """A streamed body ended (read to its end, failed, or closed by the task)."""
        if reusable and connection.state is _IDLE and connection.key is not None:
            self._idle.setdefault(connection.key, []).append(connection)
        elif connection.state is not ConnectionState.CLOSED:
            connection.close()
        response = reader.response
        if response._session is None:  # else catch_response's block (or a redirect) records it
            self._record_response(response, response._default_outcome())

    # Connections ---------------------------------------------------------------------------------
    async def _connect(self, origin: Origin, deadline: float | None) -> Connection:
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
        if connection.state is ConnectionState.CLOSED:  # closed by the server at once
            raise ConnectionReset(f"{origin.url} closed the connection as soon as it opened")
        connection.key = origin.key
        connection.owner = self
        self._connections.append(connection)
        return connection

    def forget(self, connection: Connection) -> None:
        """A connection closed (either side): drop it from the pool now (ConnectionOwner)."""
        connections = self._connections
        if connection in connections:
            connections.remove(connection)
        key = connection.key
        if key is not None:
            idle = self._idle.get(key)
            if idle is not None and connection in idle:
                idle.remove(connection)  # the empty list stays: a request may hold it

    @property
    def open_connections(self) -> int:
        """Connections of this user that are open (idle or busy)."""
        return len(self._connections)

    def close(self) -> None:
        """Close every connection of this user (a streamed body still open ends with it)."""
        for connection in list(self._connections):
            reader = connection.reader
            if reader is not None:
                reader.close()  # recorded now: the task that would have read it is gone
            connection.close()
        self._connections.clear()
        self._idle.clear()

    # Recording -----------------------------------------------------------------------------------
    def _failed(self, request: PreparedRequest, error: Exception) -> Response:
        elapsed = _perf_ns() - request.started_ns
        response = Response(request.method, request.full_url, 0, b"", b"", elapsed / 1e9, error)
        response._name = request.name
        response._time_us = elapsed // 1000
        return response

    def _record_response(self, response: Response, outcome: BaseException | str | None) -> None:
        self._record(
            response.request_method,
            response._name,
            response._time_us,
            response._length,
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
        recorder = self.recorder
        if recorder is not None:
            entry = recorder.entry(method, name)
            entry.record(time_us, length)
            if outcome is not None:
                entry.record_failure(outcome)
        if self.listeners:
            self._notify(method, name, time_us, length, outcome, response)

    def _notify(
        self,
        method: str,
        name: str,
        time_us: int,
        length: int,
        outcome: BaseException | str | None,
        response: Response | None,
    ) -> None:
        """Call the request event's listeners with Locust's keywords (only when there are)."""
        context: dict[str, Any] = dict(self.user_context()) if self.user_context else {}
        extra = getattr(response, "_context", None)
        if extra:
            context.update(extra)
        kwargs = {
            "request_type": method,
            "name": name,
            "response_time": time_us / 1000,
            "response_length": length,
            "exception": outcome,
            "context": context,
            "start_time": time.time() - time_us / 1e6,
            "response": response,
            "url": response.url if response is not None else None,
        }
        if self.notify is not None:
            self.notify(kwargs)
        else:
            call_listeners(self.listeners, None, kwargs)

    # Preparing -----------------------------------------------------------------------------------
    def _origin(self, scheme: str, host: str, port: int | None) -> Origin:
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
            origin = _origins[key] = Origin(scheme, host, port, base)
        return origin

    def _resolve(self, url: str) -> tuple[Origin, str, str]:
        """Origin, request target and absolute URL; relative URLs take a fast path."""
        base = self._base
        if url[:1] == "/" and base is not None:
            path = self._base_path + url
            return base, path, base.url + path
        if "://" not in url:
            if base is None:
                raise InvalidURL(f"relative URL {url!r} but no host was given")
            path = f"{self._base_path}/{url}"
            return base, path, base.url + path
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidURL(f"cannot request {url!r}: only http(s) URLs with a host")
        origin = self._origin(parts.scheme, parts.hostname, parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return origin, target, origin.url + target

    def _encode(self, request: PreparedRequest) -> None:
        """Origin, absolute URL and bytes of a request that is not a cached plain one."""
        url = request.url
        base = self._base
        if url[:1] == "/" and base is not None:  # _resolve's first case, without the call
            target = self._base_path + url
            origin, full_url = base, base.url + target
        else:
            origin, target, full_url = self._resolve(url)
        request.origin = origin
        request.full_url = full_url
        if (
            request.headers or request.content_type or request.cookies or request.auth
            or self.headers or self.cookies.nonempty
        ):  # fmt: skip
            lines = self._header_block(request, origin, full_url)
        else:
            lines = origin.head
        request.raw = build_request(
            request.method.encode(), target.encode("latin-1"), lines, request.body
        )

    def _path_name(self, target: str) -> str:
        """Locust's HttpUser's name for a request: the path and query it goes to (of an
        absolute URL too, and with the base URL's path and the params)."""
        if target[:1] == "/":
            return self._base_path + target
        parts = urlsplit(target)
        if not parts.scheme:
            return target
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _name_for(self, url: str) -> str:
        """Stats name of a redirect target: its path on the base host, else the full URL."""
        if self._base is not None and url.startswith(self._base.url + "/"):
            return url[len(self._base.url) + len(self._base_path) :] or "/"
        return url

    def _header_block(self, request: PreparedRequest, origin: Origin, url: str) -> bytes:
        """All header lines of a request that needs more than the constant ones.

        Later sources override earlier ones, whatever the case of the name: the constant lines,
        the session's ``headers`` (which scenarios may change at any time, as in Locust), then
        body type, auth, cookies, CSRF, and this request's ``headers``. A redirect hop to
        another origin (``request.foreign``) sends no Authorization or Cookie but the jar's.
        """
        jar_has_cookies = self.cookies.nonempty
        lines = dict(origin.base_headers)  # distinct names: nothing to override yet
        if self.headers:
            _override(lines, self.headers)
        if request.content_type:
            lines["Content-Type"] = request.content_type
        auth = request.auth
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            lines["Authorization"] = f"Basic {token}"
        jar_cookie = self.cookies.header_for(url) if jar_has_cookies else None
        cookie = jar_cookie
        if request.cookies:
            extra = "; ".join(f"{k}={v}" for k, v in request.cookies.items())
            cookie = f"{cookie}; {extra}" if cookie else extra
        if cookie:
            lines["Cookie"] = cookie
        method = request.method
        if self.django_csrf and method in UNSAFE_METHODS and jar_has_cookies:
            csrf = self.cookies.value_for("csrftoken", url)
            if csrf:
                lines["X-CSRFToken"] = csrf
                if origin.scheme == "https":
                    lines["Referer"] = origin.url + "/"
        if request.headers:
            _override(lines, request.headers)
        if request.foreign:
            for key in [k for k in lines if k.lower() in ("authorization", "cookie")]:
                del lines[key]
            if jar_cookie:
                lines["Cookie"] = jar_cookie
        return "".join(f"{k}: {v}\r\n" for k, v in lines.items()).encode("latin-1")


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
