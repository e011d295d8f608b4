"""Name lookups (``socket.getaddrinfo`` and friends) that do not stall the loop.

The C resolver blocks its thread for as long as DNS takes (seconds, when a server is slow). In
a user greenlet a lookup runs on a thread of horde's own instead and the greenlet waits for it
on the loop; numeric addresses, which need no lookup, are answered directly. Everywhere else the
original functions run, unchanged.

Not the loop's default executor: it starts a thread when a lookup finds none idle, on the
loop's thread, and ``Thread.start`` waits until the new thread runs, which on a busy machine
stalls every user for a tenth of a second or more (the blockwatch saw it, in the first lookup
of a ``test_start`` listener). Here the first thread starts with the cooperative layer, before
the load, and each thread that takes the last idle place starts the next one itself.
"""

from __future__ import annotations

import _socket
import asyncio
import os
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet
from horde.compat.waiting import cooperative_wait

T = TypeVar("T")

__all__ = [
    "LookupThreads",
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


class LookupThreads:
    """Threads that run blocking lookups for the loop, never started by the loop's thread."""

    def __init__(self, most: int) -> None:
        self._most = most
        self._jobs: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    def start(self) -> None:
        """Start the first thread (from a thread that may wait: not during the load)."""
        with self._lock:
            if self._threads:
                return
            self._threads = self._idle = 1
        self._start_one()

    def forget(self) -> None:
        """A forked child has none of its parent's threads: the next ``start`` makes one."""
        self._jobs = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = self._idle = 0

    def submit(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``function(*args)`` on one of the threads; its result on the running loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._threads:
            self.start()  # not installed (a test calling in directly): start one here
        self._jobs.put((loop, future, function, args))
        return future

    def _start_one(self) -> None:
        threading.Thread(target=self._work, name="horde-lookup", daemon=True).start()

    def _work(self) -> None:
        while True:
            loop, future, function, args = self._jobs.get()
            with self._lock:
                self._idle -= 1
                another = self._idle == 0 and self._threads < self._most
                if another:
                    self._threads += 1
                    self._idle += 1
            if another:
                self._start_one()
            try:
                outcome: tuple[Any, BaseException | None] = (function(*args), None)
            except BaseException as exc:  # handed to the waiting greenlet
                outcome = (None, exc)
            with self._lock:
                self._idle += 1
            try:
                loop.call_soon_threadsafe(_settle, future, *outcome)
            except RuntimeError:
                pass  # the loop closed meanwhile: nobody waits for this answer
            del loop, future, function, args, outcome


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # its greenlet was killed while it waited
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


# As many as asyncio's default executor would start.
lookup_threads = LookupThreads(most=min(32, (os.cpu_count() or 1) + 4))
os.register_at_fork(after_in_child=lookup_threads.forget)


def _off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking resolver call on a lookup thread; wait for it cooperatively."""
    return cooperative_wait(lookup_threads.submit(function, *args))


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
