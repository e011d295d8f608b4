"""horde's HTTP/1.1 client: session (cookies, redirects, CSRF) over connection over protocol.

Purely asynchronous, and below the scenario layer: it knows nothing of tasks, users, the bridge
or events. It records through a ``horde.stats.recorder.Recorder``; the scenario layer's client
(``horde.scenario.client.HttpClient``) decides whether a task waits for a request or awaits it.
"""

from horde.http.body import DEFAULT_MAX_BODY_SIZE
from horde.http.django import django_login
from horde.http.errors import (
    BodyTooLarge,
    ConnectError,
    ConnectionRefused,
    ConnectionReset,
    ConnectTimeout,
    DNSError,
    HTTPError,
    InvalidURL,
    MalformedResponse,
    ReadTimeout,
    RequestCancelled,
    RequestError,
    TLSError,
    TooManyRedirects,
    TotalTimeout,
)
from horde.http.response import Headers, Response
from horde.http.session import HttpSession, RequestOptions

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "BodyTooLarge",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionRefused",
    "ConnectionReset",
    "DNSError",
    "HTTPError",
    "Headers",
    "HttpSession",
    "InvalidURL",
    "MalformedResponse",
    "ReadTimeout",
    "RequestCancelled",
    "RequestError",
    "RequestOptions",
    "Response",
    "TLSError",
    "TooManyRedirects",
    "TotalTimeout",
    "django_login",
]
