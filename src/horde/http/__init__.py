"""horde's HTTP/1.1 client: session (cookies, redirects, CSRF) over connection over protocol."""

from horde.http.django import django_login
from horde.http.errors import (
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
from horde.http.session import HttpSession

__all__ = [
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
    "Response",
    "TLSError",
    "TooManyRedirects",
    "TotalTimeout",
    "django_login",
]
