"""Name lookups (``socket.getaddrinfo`` and friends) that do not stall the loop.

The C resolver blocks its thread for as long as DNS takes (seconds, when a server is slow). In
a user greenlet a lookup runs on the loop's thread pool instead and the greenlet waits for it
on the loop; numeric addresses, which need no lookup, are answered directly. Everywhere else the
original functions run, unchanged.
"""

from __future__ import annotations

import _socket
import asyncio
import socket
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet
from horde.compat.waiting import cooperative_wait

T = TypeVar("T")

__all__ = [
    "getaddrinfo",
    "gethostbyaddr",
    "gethostbyname",
    "gethostbyname_ex",
    "getnameinfo",
    "is_numeric",
]

# The originals, captured before anything is patched.
original_getaddrinfo = socket.getaddrinfo
original_gethostbyname = socket.gethostbyname
original_gethostbyname_ex = socket.gethostbyname_ex
original_gethostbyaddr = socket.gethostbyaddr
original_getnameinfo = socket.getnameinfo
_inet_pton = _socket.inet_pton
_AF_INET = _socket.AF_INET
_AF_INET6 = _socket.AF_INET6


def is_numeric(host: Any) -> bool:
    """True for None and IP address literals: names the resolver answers without a lookup."""
    if host is None:
        return True
    if isinstance(host, bytes):
        try:
            host = host.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(host, str):
        return False
    for family in (_AF_INET, _AF_INET6):
        try:
            _inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return True
    return False


def _off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking resolver call on the loop's thread pool; wait for it cooperatively."""
    loop = asyncio.get_running_loop()
    return cooperative_wait(loop.run_in_executor(None, function, *args))


def getaddrinfo(
    host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> list[tuple[Any, ...]]:
    if getcurrent().__class__ is not BridgedGreenlet or is_numeric(host):
        return original_getaddrinfo(host, port, family, type, proto, flags)
    return _off_the_loop(original_getaddrinfo, host, port, family, type, proto, flags)


def gethostbyname(hostname: str) -> str:
    if getcurrent().__class__ is not BridgedGreenlet or is_numeric(hostname):
        return original_gethostbyname(hostname)
    return _off_the_loop(original_gethostbyname, hostname)


def gethostbyname_ex(hostname: str) -> tuple[str, list[str], list[str]]:
    if getcurrent().__class__ is not BridgedGreenlet or is_numeric(hostname):
        return original_gethostbyname_ex(hostname)
    return _off_the_loop(original_gethostbyname_ex, hostname)


def gethostbyaddr(ip_address: str) -> tuple[str, list[str], list[str]]:
    if getcurrent().__class__ is not BridgedGreenlet:
        return original_gethostbyaddr(ip_address)
    return _off_the_loop(original_gethostbyaddr, ip_address)


def getnameinfo(sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
    if getcurrent().__class__ is not BridgedGreenlet:
        return original_getnameinfo(sockaddr, flags)
    return _off_the_loop(original_getnameinfo, sockaddr, flags)
