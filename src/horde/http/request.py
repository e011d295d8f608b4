"""A request on its way: what the task asked for, and the bytes and target prepared from it.

One ``PreparedRequest`` carries a request through the hot path: the session prepares it
(origin, target, bytes), checks out a connection for its origin, the connection exchanges it,
and the session builds the response from it. A redirect hop is a new one built from the last
(``follow``), so nothing is threaded through as loose arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from horde.http.session import Origin

__all__ = ["PreparedRequest", "same_origin_for_credentials"]


class PreparedRequest:
    """One request (one hop of a redirect chain), from the task's arguments to its bytes.

    Slotted and built with one call: it is created for every request.
    """

    __slots__ = (
        "auth",
        "body",
        "content_type",
        "context",
        "cookies",
        "deadline",
        "foreign",
        "full_url",
        "head_only",
        "headers",
        "limit",
        "method",
        "mode",
        "name",
        "origin",
        "raw",
        "started_ns",
        "timeout",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        name: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        content_type: str | None,
        cookies: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
        timeout: float | None,
        deadline: float | None,
        mode: int,
        limit: int,
    ) -> None:
        self.reuse(
            method, url, name, headers, body, content_type, cookies, auth,
            timeout, deadline, mode, limit,
        )  # fmt: skip

    @classmethod
    def blank(cls) -> PreparedRequest:
        """An object for ``reuse`` to fill."""
        return cls.__new__(cls)

    def reuse(
        self,
        method: str,
        url: str,
        name: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        content_type: str | None,
        cookies: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
        timeout: float | None,
        deadline: float | None,
        mode: int,
        limit: int,
    ) -> None:
        """Make this object a new request: a session keeps its last one and fills it again for
        the next, because allocating one costs about as much as the rest of preparing.
        ``HttpSession.request`` does the same stores inline (a test checks it sets them all)."""
        self.method = method
        self.url = url  # as the task gave it (with params), or a redirect's absolute URL
        self.name = name  # the stats name
        self.headers = headers
        self.body = body
        self.content_type = content_type
        self.cookies = cookies
        self.auth = auth
        self.timeout = timeout  # the total timeout, for the message when it fires
        self.deadline = deadline  # loop time by which the whole request (and its hops) ends
        self.mode = mode  # body.BodyMode
        self.limit = limit  # the body cap, decoded bytes
        self.head_only = method == "HEAD"
        # Filled in by the session when it prepares the bytes.
        self.origin: Origin | None = None
        self.raw = b""
        self.full_url = url
        self.started_ns = 0
        # Set on a redirect hop to another origin: no Authorization or Cookie header but the
        # jar's (see ``follow``).
        self.foreign = False
        self.context: Mapping[str, Any] | None = None  # the request event's, from the task

    def follow(self, method: str, url: str, name: str, same_origin: bool) -> PreparedRequest:
        """The next hop of a redirect to ``url``.

        A 303 (or a 301/302 after a POST) becomes a GET without a body, as browsers do. On a
        change of origin the credentials of this request are not sent on, as ``requests`` does:
        ``auth=``, ``cookies=``, and Authorization and Cookie headers (the request's and the
        session's); the session's cookie jar still sends what belongs to the new host. Once
        dropped they stay dropped for the rest of the chain.
        """
        keep_body = method == self.method
        hop = PreparedRequest(
            method, url, name, self.headers,
            self.body if keep_body else None, self.content_type if keep_body else None,
            self.cookies, self.auth, self.timeout, self.deadline, self.mode, self.limit,
        )  # fmt: skip
        hop.context = self.context
        if self.foreign or not same_origin:
            hop.foreign = True
            hop.auth = None
            hop.cookies = None
        return hop


def same_origin_for_credentials(old: Origin, new: Origin) -> bool:
    """May credentials go from ``old`` to ``new``? ``requests``' rule (``should_strip_auth``):
    the same host, and the same port, or the standard ports of the scheme, or an upgrade from
    http on 80 to https on 443."""
    if old.host != new.host:
        return False
    if old.scheme == new.scheme:
        return old.port == new.port
    return old.scheme == "http" and old.port == 80 and new.scheme == "https" and new.port == 443
