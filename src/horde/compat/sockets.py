"""``socket.socket`` made cooperative in user greenlets, and unchanged everywhere else.

While horde runs a scenario, ``socket.socket`` is this subclass, so every socket created from
then on (by ``http.client``, ``urllib3``/``requests``, ``xmlrpc.client``, ``smtplib``, raw socket
code...) is one. A new socket is *unmanaged*: every call goes straight to CPython's own
implementation, so code outside user tasks sees no difference at all. The first blocking call
made from a user greenlet makes it *managed*: the descriptor is switched to non-blocking, the
timeout the caller set is kept here, and each call that would block waits for the descriptor on
the event loop instead (or, from outside a user greenlet, with ``poll()`` in its own thread, so
it still blocks exactly as it would have).

``isinstance(s, socket.socket)`` keeps answering for sockets created before the patch, because
uvloop, asyncio and libraries check socket types that way.
"""

from __future__ import annotations

import _socket
import errno
import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import getcurrent

from horde.bridge import BridgedGreenlet
from horde.compat import dns
from horde.compat.waiting import wait_fd

T = TypeVar("T")

__all__ = ["CooperativeSocket", "OriginalSocket"]

OriginalSocket = socket.socket
_C = _socket.socket  # CPython's methods, called on our instances without our overrides
_monotonic = time.monotonic
_UNMANAGED: Any = type("Unmanaged", (), {"__repr__": lambda self: "<unmanaged>"})()
_CONNECT_PENDING = frozenset(
    (errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK, errno.EALREADY, errno.EINTR)
)
_INET = (socket.AF_INET, socket.AF_INET6)
READ, WRITE = False, True


class _SocketType(type):
    """Lets ``isinstance(sock, socket.socket)`` stay true for sockets made before the patch."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is CooperativeSocket:
            return isinstance(instance, OriginalSocket)
        return type.__instancecheck__(cls, instance)

    def __subclasscheck__(cls, subclass: type) -> bool:
        if cls is CooperativeSocket:
            return issubclass(subclass, OriginalSocket)
        return type.__subclasscheck__(cls, subclass)


class CooperativeSocket(OriginalSocket, metaclass=_SocketType):
    """A ``socket.socket`` whose blocking calls wait on horde's loop inside user greenlets."""

    __slots__ = ("_horde_timeout",)

    def __init__(
        self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None
    ) -> None:
        OriginalSocket.__init__(self, family, type, proto, fileno)
        self._horde_timeout = _UNMANAGED

    # Timeouts: CPython's while unmanaged; ours, with the descriptor non-blocking, once managed.
    def _horde_manage(self) -> float | None:
        timeout = _C.gettimeout(self)
        _C.settimeout(self, 0.0)
        self._horde_timeout = timeout
        return timeout

    def settimeout(self, value: float | None) -> None:
        if self._horde_timeout is _UNMANAGED:
            _C.settimeout(self, value)
            return
        # CPython validates and normalises the value; then the descriptor goes back to
        # non-blocking.
        _C.settimeout(self, value)
        self._horde_timeout = _C.gettimeout(self)
        _C.settimeout(self, 0.0)

    def gettimeout(self) -> float | None:
        timeout = self._horde_timeout
        return _C.gettimeout(self) if timeout is _UNMANAGED else timeout

    def setblocking(self, flag: bool) -> None:
        if self._horde_timeout is _UNMANAGED:
            _C.setblocking(self, flag)
        else:
            self._horde_timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        timeout = self._horde_timeout
        return _C.getblocking(self) if timeout is _UNMANAGED else timeout != 0.0

    @property
    def timeout(self) -> float | None:
        return self.gettimeout()

    # The one loop every blocking call goes through --------------------------------------------
    def _horde_call(
        self,
        op: Callable[..., T],
        writing: bool,
        args: tuple[Any, ...],
        deadline: float | None = None,
        message: str = "timed out",
    ) -> T:
        """``op(self, *args)``, waiting for the descriptor whenever it would block."""
        timeout = self._horde_timeout
        if timeout is _UNMANAGED:
            if type(getcurrent()) is not BridgedGreenlet:
                return op(self, *args)
            timeout = self._horde_manage()
        if timeout == 0.0:
            return op(self, *args)  # the caller asked for a non-blocking socket
        if deadline is None and timeout is not None:
            deadline = _monotonic() + timeout
        while True:
            try:
                return op(self, *args)
            except BlockingIOError:
                pass
            if not wait_fd(_C.fileno(self), writing, deadline):
                raise TimeoutError(message)

    def _horde_deadline(self) -> float | None:
        """Manage this socket if called from a user greenlet; the deadline of a call now."""
        timeout = self._horde_timeout
        if timeout is _UNMANAGED and type(getcurrent()) is BridgedGreenlet:
            timeout = self._horde_manage()
        if timeout is _UNMANAGED or timeout is None:
            return None
        deadline: float = _monotonic() + timeout
        return deadline

    # Receiving ------------------------------------------------------------------------------
    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        return self._horde_call(_C.recv, READ, (bufsize, flags))

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        return self._horde_call(_C.recv_into, READ, (buffer, nbytes, flags))

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        return self._horde_call(_C.recvfrom, READ, (bufsize, flags))

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, Any]:
        return self._horde_call(_C.recvfrom_into, READ, (buffer, nbytes, flags))

    def recvmsg(self, *args: Any) -> Any:
        return self._horde_call(_C.recvmsg, READ, args)

    def recvmsg_into(self, *args: Any) -> Any:
        return self._horde_call(_C.recvmsg_into, READ, args)

    # Sending --------------------------------------------------------------------------------
    def send(self, data: Any, flags: int = 0) -> int:
        return self._horde_call(_C.send, WRITE, (data, flags))

    def sendto(self, *args: Any) -> int:
        return self._horde_call(_C.sendto, WRITE, args)

    def sendmsg(self, *args: Any) -> int:
        return self._horde_call(_C.sendmsg, WRITE, args)

    def sendall(self, data: Any, flags: int = 0) -> None:
        timeout = self._horde_timeout
        if timeout is _UNMANAGED and type(getcurrent()) is not BridgedGreenlet:
            return _C.sendall(self, data, flags)
        deadline = self._horde_deadline()
        if self._horde_timeout == 0.0:
            return _C.sendall(self, data, flags)
        # CPython's sendall cannot say how much went out before EAGAIN, so send in a loop; the
        # timeout covers the whole call, as CPython's does since 3.5.
        with memoryview(data) as view, view.cast("B") as octets:
            total = len(octets)
            sent = 0
            while sent < total:
                sent += self._horde_call(_C.send, WRITE, (octets[sent:], flags), deadline)
        return None

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        # os.sendfile on a blocking descriptor would block the loop: manage the socket first
        # (CPython's sendfile then waits through selectors, which are cooperative too).
        self._horde_deadline()
        return OriginalSocket.sendfile(self, file, offset, count)

    # Connecting and accepting ---------------------------------------------------------------
    def connect(self, address: Any) -> None:
        timeout = self._horde_timeout
        if (timeout is _UNMANAGED and type(getcurrent()) is not BridgedGreenlet) or timeout == 0.0:
            _C.connect(self, address)
            return
        error = self._horde_connect(address)
        if error:
            raise OSError(error, os.strerror(error))

    def connect_ex(self, address: Any) -> int:
        timeout = self._horde_timeout
        if (timeout is _UNMANAGED and type(getcurrent()) is not BridgedGreenlet) or timeout == 0.0:
            return _C.connect_ex(self, address)
        try:
            return self._horde_connect(address)
        except TimeoutError:
            return errno.EWOULDBLOCK

    def _horde_connect(self, address: Any) -> int:
        """Connect without blocking the thread: start, wait until writable, read the outcome."""
        timeout = self._horde_timeout
        if timeout is _UNMANAGED:
            timeout = self._horde_manage()
        deadline = None if timeout is None else _monotonic() + timeout
        if type(getcurrent()) is BridgedGreenlet:
            address = self._horde_resolve(address)
        error = _C.connect_ex(self, address)
        if error in (0, errno.EISCONN):
            return 0
        if error not in _CONNECT_PENDING:
            return error
        if not wait_fd(_C.fileno(self), WRITE, deadline):
            raise TimeoutError("timed out")
        return self.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)

    def _horde_resolve(self, address: Any) -> Any:
        """A host name in ``address`` resolved on the loop: CPython's connect() would resolve
        it with a blocking getaddrinfo()."""
        if self.family not in _INET or not isinstance(address, tuple) or len(address) < 2:
            return address
        host = address[0]
        if not isinstance(host, str) or dns.is_numeric(host):
            return address
        infos = dns.getaddrinfo(host, address[1], self.family, self.type, self.proto)
        return infos[0][4] if infos else address

    def accept(self) -> tuple[CooperativeSocket, Any]:
        fd, address = self._horde_call(_C._accept, READ, ())  # type: ignore[attr-defined]  # CPython's, not in typeshed
        sock = CooperativeSocket(self.family, self.type, self.proto, fileno=fd)
        # As CPython: an accepted socket is blocking if the listener has a timeout and there is
        # no default timeout.
        if _socket.getdefaulttimeout() is None and self.gettimeout():
            sock.setblocking(True)
        return sock, address
