"""``self.client`` of an HttpUser: the one place where a request's task style is decided.

The HTTP session below is purely asynchronous: every request is a coroutine. A task written in
Locust's blocking style runs in a bridged greenlet (``horde.bridge``), so the client hands the
coroutine to the event loop's greenlet and returns the response; in an ``async`` task it returns
the coroutine for the task to await. One request path serves both, decided per call with one
type check of the current greenlet.

Typing. mypy cannot see which style a task has, so each request method is typed to return a
``Reply``: a ``Response`` that is also ``Awaitable[Response]``. Both styles then check without
``Any``: ``r = self.client.get("/")`` in a plain task has every ``Response`` attribute,
``r = await self.client.get("/")`` in an async task is a ``Response``, and so is ``r`` in
``with self.client.get("/", catch_response=True) as r`` (or ``with await ...``). The keyword
arguments are checked too (``RequestOptions``). What this cannot catch is an ``await``
forgotten in an async task, which Python reports at run time ("coroutine was never awaited").
At run time ``Reply`` is ``Response``.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet, await_
from horde.exceptions import FLOW_CONTROL, UserStopped
from horde.http.cookies import CookieJar
from horde.http.response import Response
from horde.http.session import BodyOptions, HttpSession, JsonOption, RequestOptions
from horde.stats.recorder import Recorder

__all__ = ["HttpClient", "LocustFastHttpSession", "LocustHttpSession", "Reply"]

T = TypeVar("T")

if TYPE_CHECKING:

    class Reply(Response):
        """What a request method returns, as mypy sees it (see the module's docstring)."""

        def __await__(self) -> Generator[Any, None, Response]: ...

else:
    Reply = Response


class HttpClient:
    """The client a user's tasks call: Locust's request methods over one ``HttpSession``."""

    __slots__ = ("request_event", "session")

    def __init__(self, session: HttpSession, request_event: Any = None) -> None:
        self.session = session
        # Locust's ``client.request_event``: the run's request event (for a second client).
        self.request_event = request_event

    # Requests --------------------------------------------------------------------------------
    def request(self, method: str, url: str, **kwargs: Unpack[BodyOptions]) -> Reply:
        """Send a request: the response in a plain task, an awaitable in an ``async`` one.

        ``url`` is a path on the host (``-H``) or a full URL; the keyword arguments are
        ``RequestOptions``, plus ``data=`` (a form, or bytes) and ``json=``.
        """
        return self._resolve(self.session.request(method.upper(), url, **kwargs))

    def get(self, url: str, **kwargs: Unpack[BodyOptions]) -> Reply:
        """``request("GET", url, ...)``."""
        # The most frequent call of all, so it does _resolve()'s work inline.
        coro = self.session.request("GET", url, **kwargs)
        current = getcurrent()
        if type(current) is BridgedGreenlet:
            response = current.parent.switch(None, coro)  # the bridge's await_, inline
            if response._stream is not None:
                response._stream.block = await_
            return response  # type: ignore[no-any-return]
        return coro  # type: ignore[return-value]

    def post(
        self, url: str, data: Any = None, json: Any = None, **kwargs: Unpack[RequestOptions]
    ) -> Reply:
        """``request("POST", url, ...)``: ``data=`` a form (a dict) or bytes, ``json=`` JSON."""
        return self._resolve(self.session.request("POST", url, data=data, json=json, **kwargs))

    def put(self, url: str, data: Any = None, **kwargs: Unpack[JsonOption]) -> Reply:
        """``request("PUT", url, ...)``."""
        return self._resolve(self.session.request("PUT", url, data=data, **kwargs))

    def patch(self, url: str, data: Any = None, **kwargs: Unpack[JsonOption]) -> Reply:
        """``request("PATCH", url, ...)``."""
        return self._resolve(self.session.request("PATCH", url, data=data, **kwargs))

    def delete(self, url: str, **kwargs: Unpack[BodyOptions]) -> Reply:
        """``request("DELETE", url, ...)``."""
        return self._resolve(self.session.request("DELETE", url, **kwargs))

    def head(self, url: str, **kwargs: Unpack[BodyOptions]) -> Reply:
        """``request("HEAD", url, ...)``, without following redirects unless asked."""
        kwargs.setdefault("allow_redirects", False)
        return self._resolve(self.session.request("HEAD", url, **kwargs))

    def options(self, url: str, **kwargs: Unpack[BodyOptions]) -> Reply:
        """``request("OPTIONS", url, ...)``."""
        return self._resolve(self.session.request("OPTIONS", url, **kwargs))

    def _resolve(self, coro: Coroutine[Any, Any, Response]) -> Reply:
        current = getcurrent()
        if type(current) is BridgedGreenlet:
            response: Response = current.parent.switch(None, coro)
            if response._stream is not None:
                response._stream.block = await_
            return response  # type: ignore[return-value]
        return coro  # type: ignore[return-value]

    def resolve(self, coro: Coroutine[Any, Any, T]) -> T | Coroutine[Any, Any, T]:
        """Any coroutine of the session in the calling task's style: its result in a
        blocking-style task, the coroutine itself in an async one (for helpers such as
        ``django_login``)."""
        if type(getcurrent()) is BridgedGreenlet:
            return await_(coro)
        return coro

    # Naming requests (Locust's) ----------------------------------------------------------------
    @property
    def request_name(self) -> str | None:
        """The name of the next requests that give none (``name=`` wins); None: their URL."""
        return self.session.request_name

    @request_name.setter
    def request_name(self, name: str | None) -> None:
        self.session.request_name = name

    @contextmanager
    def rename_request(self, name: str) -> Generator[None, None, None]:
        """Requests in the ``with`` block are recorded under ``name``."""
        self.session.request_name = name
        try:
            yield
        finally:
            self.session.request_name = None

    # The session's state, as Locust's client exposes it ---------------------------------------
    @property
    def headers(self) -> dict[str, str]:
        """Headers sent with every request (change them at any time, as in Locust)."""
        return self.session.headers

    @property
    def cookies(self) -> CookieJar:
        """The user's cookies: ``cookies.get("csrftoken")``, ``cookies.set(name, value)``."""
        return self.session.cookies

    @property
    def base_url(self) -> str | None:
        """The host requests go to (``-H``, or the class's ``host``)."""
        return self.session.base_url

    @base_url.setter
    def base_url(self, url: str | None) -> None:
        self.session.rebase(url)

    @property
    def stopping(self) -> bool:
        """Set when the user must stop: its next request raises StopUser instead of going out."""
        return self.session.stopping

    @stopping.setter
    def stopping(self, value: bool) -> None:
        self.session.stopping = value

    @property
    def stats(self) -> Recorder | None:
        """Where this client records (the run's stats, or a runner's stand-in)."""
        return self.session.recorder

    @stats.setter
    def stats(self, recorder: Recorder | None) -> None:
        self.session.recorder = recorder

    def close(self) -> None:
        """Close the user's connections (a streamed body still open is recorded as it is)."""
        self.session.close()


class LocustHttpSession(HttpClient):
    """Locust's ``HttpSession(base_url, request_event, user)``: a client of its own, for
    another host (``locust.clients.HttpSession``).

    Its requests are recorded like the user's: in the run's statistics and through the run's
    request event, when ``request_event`` is the user's (``self.client.request_event``); with
    another event, they are fired through it.
    """

    __slots__ = ()
    name_by_path = True  # Locust's HttpSession (requests): by the path requested

    def __init__(
        self,
        base_url: str,
        request_event: Any = None,
        user: Any = None,
        *args: Any,
        pool_manager: Any = None,
        **kwargs: Any,
    ) -> None:
        environment = getattr(user, "environment", None)
        events = getattr(environment, "events", None)
        own = events.request if events is not None else None
        recorder: Recorder | None = None
        listeners: Any = ()
        notify = None
        if own is not None and (request_event is None or request_event is own):
            recorder = environment.stats  # type: ignore[union-attr]
            listeners, notify = own.listeners, own.notify
        elif request_event is not None:
            listeners = [_fired_through(request_event)]
        session = HttpSession(
            base_url,
            recorder=recorder,
            listeners=listeners,
            notify=notify,
            verify=not getattr(environment, "insecure", False),
            user_context=getattr(user, "context", None),
            stop_error=UserStopped,
            flow_exceptions=FLOW_CONTROL,
            name_by_path=self.name_by_path,
        )
        super().__init__(session, request_event if request_event is not None else own)


def _fired_through(event: Any) -> Any:
    def fire(**kwargs: Any) -> None:
        event.fire(**kwargs)

    return fire


class LocustFastHttpSession(LocustHttpSession):
    """Locust's ``FastHttpSession(base_url, request_event, user)``: as ``HttpSession``, but
    naming requests by the URL given (Locust's FastHttpUser's rule)."""

    __slots__ = ()
    name_by_path = False
