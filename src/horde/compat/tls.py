"""``ssl.SSLSocket`` made cooperative in user greenlets, on top of ``CooperativeSocket``.

The class derives from both ``ssl.SSLSocket`` and ``CooperativeSocket``, so what SSLSocket does
through ``super()`` (the TCP connect, accept, plain reads before the handshake) is already
cooperative; only the calls into OpenSSL are wrapped here. On a managed (non-blocking)
descriptor OpenSSL says ``SSLWantReadError``/``SSLWantWriteError`` instead of blocking: the call
waits for the descriptor the same way as a plain socket call, and is tried again.
``SSLContext.wrap_socket`` creates these while horde runs a scenario.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet
from horde.compat.sockets import _UNMANAGED, READ, WRITE, CooperativeSocket
from horde.compat.waiting import wait_fd

T = TypeVar("T")

__all__ = ["CooperativeSSLSocket", "OriginalSSLSocket"]

OriginalSSLSocket = ssl.SSLSocket
_fileno = ssl.SSLSocket.fileno
_monotonic = time.monotonic


class CooperativeSSLSocket(ssl.SSLSocket, CooperativeSocket):  # type: ignore[misc]  # accept: the cooperative one wins, as at run time
    """An ``ssl.SSLSocket`` whose handshake, reads and writes wait on horde's loop."""

    def _horde_tls(
        self, op: Callable[..., T], message: str, args: tuple[Any, ...], block: bool = False
    ) -> T:
        """``op(self, *args)`` (an OpenSSL call), waiting whenever OpenSSL wants the socket."""
        timeout = self._horde_timeout
        if timeout is _UNMANAGED:
            if type(getcurrent()) is not BridgedGreenlet:
                return op(self, *args)
            timeout = self._horde_manage()
        if timeout == 0.0:
            if not block:
                return op(self, *args)
            timeout = None  # do_handshake(block=True) on a non-blocking socket
        deadline = None if timeout is None else _monotonic() + timeout
        while True:
            try:
                return op(self, *args)
            except ssl.SSLWantReadError:
                writing = READ
            except ssl.SSLWantWriteError:
                writing = WRITE
            if not wait_fd(_fileno(self), writing, deadline):
                raise TimeoutError(message)

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        return self._horde_tls(
            OriginalSSLSocket.read, "The read operation timed out", (len, buffer)
        )

    def write(self, data: Any) -> int:
        return self._horde_tls(OriginalSSLSocket.write, "The write operation timed out", (data,))

    def send(self, data: Any, flags: int = 0) -> int:
        # Before the handshake this is a plain send, which CooperativeSocket makes cooperative.
        return self._horde_tls(
            OriginalSSLSocket.send, "The write operation timed out", (data, flags)
        )

    def do_handshake(self, block: bool = False) -> None:
        self._check_connected()  # type: ignore[attr-defined]  # SSLSocket's own, not in typeshed
        if self._horde_timeout is _UNMANAGED and type(getcurrent()) is not BridgedGreenlet:
            OriginalSSLSocket.do_handshake(self, block)
            return
        self._horde_tls(_handshake, "The handshake operation timed out", (), block)

    def unwrap(self) -> Any:
        if not self._sslobj:  # type: ignore[has-type]  # SSLSocket's own, not in typeshed
            raise ValueError("No SSL wrapper around " + str(self))
        plain = self._horde_tls(_shutdown, "The read operation timed out", ())
        self._sslobj = None
        return plain


def _handshake(sock: CooperativeSSLSocket) -> None:
    sock._sslobj.do_handshake()  # type: ignore[attr-defined]  # SSLSocket's own, not in typeshed


def _shutdown(sock: CooperativeSSLSocket) -> Any:
    return sock._sslobj.shutdown()  # type: ignore[attr-defined]  # as above
