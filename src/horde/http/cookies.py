"""A per-user cookie jar on the standard library's ``http.cookiejar``.

``CookieJar`` implements the real rules (domain and path matching, expiry, Secure, max-age), but
talks to urllib request and response objects; the two small adapters below give it what it asks
for, the way the ``requests`` library does. Jar work is skipped entirely while the jar is empty
and responses set no cookie, which is the common case on the request path.
"""

from __future__ import annotations

import http.cookiejar
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CookieJar"]


class _CookieRequest:
    """The parts of ``urllib.request.Request`` that CookieJar reads."""

    def __init__(self, url: str) -> None:
        self._url = url
        parts = urlsplit(url)
        self.type = parts.scheme
        self.host = parts.netloc
        self.origin_req_host = parts.hostname or ""
        self.unverifiable = False
        self.cookie_header: str | None = None

    def get_full_url(self) -> str:
        return self._url

    def get_host(self) -> str:
        return self.host

    def get_type(self) -> str:
        return self.type

    def is_unverifiable(self) -> bool:
        return False

    def get_origin_req_host(self) -> str:
        return self.origin_req_host

    def has_header(self, name: str) -> bool:
        return name.lower() == "cookie" and self.cookie_header is not None

    def get_header(self, name: str, default: str | None = None) -> str | None:
        if name.lower() == "host":
            return self.host
        return default

    def header_items(self) -> list[tuple[str, str]]:
        return []

    def add_unredirected_header(self, name: str, value: str) -> None:
        if name.lower() == "cookie":
            self.cookie_header = value


class _CookieResponse:
    """The parts of a urllib response that CookieJar reads: ``info().get_all()``."""

    def __init__(self, set_cookie: list[str]) -> None:
        self._message = Message()
        for value in set_cookie:
            self._message["Set-Cookie"] = value

    def info(self) -> Message:
        return self._message


# One policy serves every jar: it holds settings, and the time of the call in progress (calls
# never interleave: they all run on the one event loop thread).
_POLICY = http.cookiejar.DefaultCookiePolicy()
_NEVER = float("inf")
_HEADER_CACHE_SIZE = 64


def _contents(jar: http.cookiejar.CookieJar) -> list[tuple[Any, ...]]:
    """What decides the Cookie headers: every cookie's scope, value, expiry and flags."""
    return [
        (c.domain, c.path, c.name, c.value, c.expires, c.secure, c.port, c.version) for c in jar
    ]


class CookieJar:
    """Cookies of one simulated user.

    The standard library's jar (with its lock) is only created when the first cookie arrives:
    many load-test users never get one, and thousands of empty jars would cost memory.
    """

    __slots__ = ("_headers", "_headers_expire", "_jar")

    def __init__(self) -> None:
        self._jar: http.cookiejar.CookieJar | None = None
        # The Cookie header per URL (without its query), while the jar is unchanged: the
        # standard library's matching costs tens of microseconds, and a user sends the same
        # cookies to the same paths again and again.
        self._headers: dict[str, str | None] | None = None
        self._headers_expire = _NEVER  # when the first cookie in the jar expires

    @property
    def jar(self) -> http.cookiejar.CookieJar:
        """The standard library's jar (whoever holds it may change it: the cache is dropped)."""
        if self._jar is None:
            self._jar = http.cookiejar.CookieJar(_POLICY)
        self._headers = None
        return self._jar

    @property
    def nonempty(self) -> bool:
        """Cheap emptiness test: ``len(jar)`` walks every cookie, this looks at one dict."""
        jar = self._jar
        return jar is not None and bool(jar._cookies)  # type: ignore[attr-defined]

    def header_for(self, url: str) -> str | None:
        """The Cookie header value to send to ``url``, or None."""
        jar = self._jar
        if jar is None or not jar._cookies:  # type: ignore[attr-defined]
            return None
        key = url.partition("?")[0]
        headers = self._headers
        if headers is not None and time.time() < self._headers_expire:
            if key in headers:
                return headers[key]
        else:
            headers = self._headers = {}
            self._headers_expire = min(
                (c.expires for c in jar if c.expires is not None), default=_NEVER
            )
        request = _CookieRequest(url)
        jar.add_cookie_header(request)  # type: ignore[arg-type]
        if len(headers) < _HEADER_CACHE_SIZE:
            headers[key] = request.cookie_header
        return request.cookie_header

    def extract(self, url: str, raw_headers: list[tuple[bytes, bytes]]) -> None:
        """Store the cookies a response to ``url`` sets."""
        values = [v.decode("latin-1") for n, v in raw_headers if n.lower() == b"set-cookie"]
        if values:
            jar = self._jar
            if jar is None:
                jar = self._jar = http.cookiejar.CookieJar(_POLICY)
            before = _contents(jar)
            jar.extract_cookies(_CookieResponse(values), _CookieRequest(url))  # type: ignore[arg-type]
            # Django sets its CSRF cookie again on every page with a form, unchanged: keep the
            # cached headers unless a cookie really changed.
            if _contents(jar) != before:
                self._headers = None

    def get(self, name: str, default: str | None = None, domain: str | None = None) -> str | None:
        """Value of the cookie ``name`` (for ``domain`` when given; hosts without a dot get
        CookieJar's ``.local`` suffix, e.g. ``localhost.local``)."""
        for cookie in self:
            if cookie.name == name and (domain is None or cookie.domain.lstrip(".") == domain):
                return cookie.value
        return default

    def value_for(self, name: str, url: str) -> str | None:
        """Value of the cookie ``name`` that would be sent to ``url``."""
        header = self.header_for(url)
        if not header:
            return None
        for part in header.split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value.strip('"')
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        cookie = http.cookiejar.Cookie(
            0, name, value, None, False, domain, bool(domain), domain.startswith("."),
            path, True, False, None, False, None, None, {},
        )  # fmt: skip
        self.jar.set_cookie(cookie)

    def clear(self) -> None:
        self._headers = None
        if self._jar is not None:
            self._jar.clear()

    def __len__(self) -> int:
        return len(self._jar) if self._jar is not None else 0

    def __iter__(self) -> Iterator[http.cookiejar.Cookie]:
        return iter(self._jar) if self._jar is not None else iter(())

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.jar)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value
