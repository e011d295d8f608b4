"""The response a task gets back, with Locust's attributes, built lazily.

Headers, text and cookies are only decoded when the task reads them: most load-test tasks never
look at a response, and that work would be paid on every request.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from horde.http.errors import HTTPError, RequestError
from horde.http.protocol import parse_head

if TYPE_CHECKING:
    from horde.http.session import HttpSession

__all__ = ["Headers", "Response"]


class Headers:
    """Case-insensitive, multi-valued view of raw header pairs."""

    __slots__ = ("_index", "_raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._index: dict[str, list[str]] | None = None

    def _lookup(self) -> dict[str, list[str]]:
        if self._index is None:
            index: dict[str, list[str]] = {}
            for name, value in self._raw:
                index.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
            self._index = index
        return self._index

    def __getitem__(self, name: str) -> str:
        values = self._lookup()[name.lower()]
        return ", ".join(values)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._lookup().get(name.lower())
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._lookup().get(name.lower(), ()))

    getlist = get_all

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup()

    def items(self) -> list[tuple[str, str]]:
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self._raw]

    def keys(self) -> list[str]:
        return list(self._lookup())

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"


class Response:
    """One HTTP response (status 0 and ``error`` set when the request failed on the network)."""

    __slots__ = (
        "_cookies",
        "_headers",
        "_name",
        "_outcome",
        "_raw_headers",
        "_session",
        "_time_us",
        "content",
        "elapsed",
        "error",
        "head",
        "history",
        "request_method",
        "status_code",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int = 0,
        head: bytes = b"",
        content: bytes = b"",
        elapsed: float = 0.0,
        error: Exception | None = None,
    ) -> None:
        self.request_method = method
        self.url = url
        self.status_code = status_code
        self.head = head
        self._raw_headers: list[tuple[bytes, bytes]] | None = None
        self.content = content
        self.elapsed = elapsed
        self.error = error
        self.history: list[Response] = []
        self._headers: Headers | None = None
        self._cookies: dict[str, str] | None = None
        # Set while a catch_response result waits for its verdict (recorded in __exit__).
        self._session: HttpSession | None = None
        self._name = ""
        self._time_us = 0
        self._outcome: Exception | str | bool | None = False  # False: not decided

    # Reading -------------------------------------------------------------------------------------
    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Header pairs as received, parsed from the raw header block on first use."""
        if self._raw_headers is None:
            self._raw_headers = parse_head(self.head)
        return self._raw_headers

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.raw_headers)
        return self._headers

    @property
    def reason(self) -> str:
        from http import HTTPStatus

        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def encoding(self) -> str:
        content_type = self.headers.get("content-type", "") or ""
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"'")
        return "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies set by this response (name -> value)."""
        if self._cookies is None:
            jar: dict[str, str] = {}
            for value in self.headers.get_all("set-cookie"):
                parsed: SimpleCookie = SimpleCookie()
                try:
                    parsed.load(value)
                except Exception:
                    continue
                for name, morsel in parsed.items():
                    jar[name] = morsel.value
            self._cookies = jar
        return self._cookies

    @property
    def ok(self) -> bool:
        return self.error is None and 0 < self.status_code < 400

    def raise_for_status(self) -> None:
        if self.error is not None:
            raise self.error
        if self.status_code >= 400:
            raise HTTPError(f"{self.status_code} {self.reason} for {self.url}")

    # catch_response ------------------------------------------------------------------------------
    def success(self) -> None:
        """Count this response as a success (inside ``with ... catch_response=True``)."""
        self._outcome = None

    def failure(self, reason: Exception | str) -> None:
        """Count this response as a failure with ``reason``."""
        self._outcome = reason if reason else "failure() called without a reason"

    def __enter__(self) -> Response:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        session = self._session
        if session is None:
            return False
        self._session = None
        if exc is not None and not isinstance(exc, RequestError):
            from horde.exceptions import (
                InterruptTaskSet,
                RescheduleTask,
                StopTest,
                StopUser,
                UserStopped,
            )

            steering = StopUser | StopTest | InterruptTaskSet | RescheduleTask | UserStopped
            if isinstance(exc, steering):
                session._record_response(self, self._default_outcome())
            else:
                session._record_response(self, exc)
            return False
        outcome = self._outcome
        session._record_response(self, self._default_outcome() if outcome is False else outcome)
        return False

    def _default_outcome(self) -> Exception | None:
        if self.error is not None:
            return self.error
        if self.status_code >= 400:
            return HTTPError(f"{self.status_code} {self.reason}")
        return None

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}] {self.request_method} {self.url}>"
