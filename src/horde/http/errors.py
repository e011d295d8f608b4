"""Why a request failed, as a small flat set of named errors (like httpcore's ``_exceptions``).

They are recorded as failures and put on the response; they are never raised out of a request,
so a broken target is data, not a crashed user. Each ``str()`` is one readable sentence.
"""

from __future__ import annotations

__all__ = [
    "BodyTooLarge",
    "CatchResponseError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionRefused",
    "ConnectionReset",
    "DNSError",
    "HTTPError",
    "InvalidURL",
    "MalformedResponse",
    "ReadTimeout",
    "RequestCancelled",
    "RequestError",
    "TLSError",
    "TooManyRedirects",
    "TotalTimeout",
    "status_error",
    "with_detail",
]


class RequestError(Exception):
    """Base of every request failure."""


class ConnectError(RequestError):
    """The connection could not be opened."""


class ConnectionRefused(ConnectError):
    """Nothing listens on the target port."""


class ConnectTimeout(ConnectError):
    """TCP connect (and TLS handshake) took longer than the connect timeout."""


class DNSError(ConnectError):
    """The host name could not be resolved."""


class TLSError(ConnectError):
    """TLS handshake failed, for example certificate verification."""


class ReadTimeout(RequestError):
    """The server sent nothing for longer than the read timeout."""


class TotalTimeout(RequestError):
    """The whole request (with redirects) took longer than its timeout."""


class ConnectionReset(RequestError):
    """The connection was closed or reset before a complete response arrived."""


class MalformedResponse(RequestError):
    """The bytes received are not a valid HTTP/1.1 response."""


class BodyTooLarge(RequestError):
    """The body (after decompression) is larger than the session's ``max_body_size``."""


class TooManyRedirects(RequestError):
    """More redirects than the limit."""


class InvalidURL(RequestError):
    """The URL cannot be requested (no host, unsupported scheme)."""


class RequestCancelled(RequestError):
    """The request was in flight when the test stopped and did not finish in time."""


class CatchResponseError(RequestError):
    """A response a task marked as failed (``response.failure(reason)``), raised by its
    ``raise_for_status()`` (Locust's)."""


class HTTPError(RequestError):
    """The server answered with an error status (>= 400)."""


def status_error(status: int, reason: str, url: str) -> HTTPError:
    """The failure of an error status, worded as Locust's HttpUser (``requests``) words it:
    ``404 Client Error: Not Found for url: /missing`` (the request's name, in the stats)."""
    kind = "Client" if status < 500 else "Server"
    return HTTPError(f"{status} {kind} Error: {reason} for url: {url}")


def with_detail(message: str, detail: object) -> str:
    """``message: detail``, or ``message`` alone when the detail says nothing.

    Exceptions from the socket and TLS layers often have an empty ``str()``; a message must
    never end in a colon with nothing after it.
    """
    text = str(detail).strip() if detail is not None else ""
    if not text and isinstance(detail, BaseException):
        text = type(detail).__name__
    return f"{message}: {text}" if text else message
