"""ZeroMQ sockets for master and workers, on the run's own asyncio loop (``zmq.asyncio``).

The master binds a ROUTER socket and addresses each worker by its id; a worker connects a DEALER
socket whose routing id is its worker id. ZeroMQ reconnects by itself and keeps per-peer order,
so a worker's final report always arrives before anything it sends after it.

Every message is signed (``security.Signer``) and encoded (``protocol``). Frames that fail
authentication are dropped, and the master answers their sender once with a plain, unsigned
"refused" notice, so that a worker started with the wrong secret exits with a clear message
instead of waiting forever. That notice carries no authority beyond the handshake.
"""

from __future__ import annotations

import ipaddress
import logging
import time

import zmq
import zmq.asyncio

from horde.distributed.protocol import DecodeError, Message, decode, encode
from horde.distributed.security import AuthError, Signer

log = logging.getLogger("horde.distributed")

__all__ = ["AuthRefused", "MasterTransport", "WorkerTransport", "zmq_address"]

_REFUSED = b"HORDE-AUTH-REFUSED"
# How long sockets try to deliver what is queued when closed (the last Quit, a final report).
_LINGER_MS = 1000
_NOTICE_INTERVAL = 5.0


class AuthRefused(Exception):
    """The master could not authenticate this worker's messages."""


def zmq_address(host: str, port: int | None = None) -> str:
    """A ``tcp://`` endpoint; IPv6 literals get brackets."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    shown = f"[{literal}]" if literal is not None and literal.version == 6 else host
    return f"tcp://{shown}" if port is None else f"tcp://{shown}:{port}"


def _wants_ipv6(host: str) -> bool:
    return ":" in host


class MasterTransport:
    """The master's ROUTER socket: receive from any worker, send to one worker by id."""

    def __init__(self, signer: Signer, host: str, port: int) -> None:
        self.signer = signer
        self._context = zmq.asyncio.Context()
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, _LINGER_MS)
        # A worker reconnecting with the same id takes its place instead of being ignored.
        self._socket.setsockopt(zmq.ROUTER_HANDOVER, 1)
        if _wants_ipv6(host):
            self._socket.setsockopt(zmq.IPV6, 1)
        try:
            if port == 0:
                self.port = self._socket.bind_to_random_port(zmq_address(host))
            else:
                self._socket.bind(zmq_address(host, port))
                self.port = port
        except zmq.ZMQError as exc:
            self.close()
            raise OSError(f"cannot listen for workers on {host}:{port}: {exc}") from None
        self.host = host
        self._noticed: dict[bytes, float] = {}

    async def recv(self) -> tuple[str, Message]:
        """The next authentic message and the id of the worker that sent it."""
        while True:
            frames = await self._socket.recv_multipart()
            identity, body = frames[0], frames[1:]
            try:
                message = decode(self.signer.verify(body))
            except AuthError as exc:
                self._refuse(identity, str(exc))
                continue
            except DecodeError as exc:
                log.warning("dropped a message from %r: %s", identity, exc)
                continue
            return identity.decode(errors="replace"), message

    async def send(self, worker_id: str, message: Message) -> None:
        """Queue ``message`` for one worker; never blocks on a worker that is gone."""
        frames = [worker_id.encode(), *self.signer.sign(encode(message))]
        try:
            await self._socket.send_multipart(frames, flags=zmq.DONTWAIT)
        except zmq.Again:
            log.debug("dropped %s for %s: its queue is full", message.TYPE, worker_id)

    def _refuse(self, identity: bytes, reason: str) -> None:
        now = time.monotonic()
        if now - self._noticed.get(identity, -_NOTICE_INTERVAL) < _NOTICE_INTERVAL:
            return
        self._noticed[identity] = now
        log.warning("refused a message from %s: %s", identity.decode(errors="replace"), reason)
        try:
            self._socket.send_multipart([identity, _REFUSED, reason.encode()], flags=zmq.DONTWAIT)
        except zmq.ZMQError:
            pass

    def close(self) -> None:
        self._socket.close()
        self._context.term()


class WorkerTransport:
    """A worker's DEALER socket, connected to the master."""

    def __init__(self, signer: Signer, master_host: str, master_port: int, worker_id: str) -> None:
        self.signer = signer
        self._context = zmq.asyncio.Context()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, _LINGER_MS)
        self._socket.setsockopt(zmq.IDENTITY, worker_id.encode())
        if _wants_ipv6(master_host):
            self._socket.setsockopt(zmq.IPV6, 1)
        self._socket.connect(zmq_address(master_host, master_port))

    async def recv(self) -> Message:
        """The next authentic message from the master; ``AuthRefused`` if it refused us."""
        while True:
            frames = await self._socket.recv_multipart()
            if len(frames) == 2 and frames[0] == _REFUSED:
                raise AuthRefused(frames[1].decode(errors="replace"))
            try:
                return decode(self.signer.verify(frames))
            except (AuthError, DecodeError) as exc:
                log.warning("dropped a message that claims to come from the master: %s", exc)

    async def send(self, message: Message) -> None:
        """Queue ``message`` for the master (ZeroMQ holds it until the connection is up)."""
        try:
            await self._socket.send_multipart(self.signer.sign(encode(message)), flags=zmq.DONTWAIT)
        except zmq.Again:
            log.debug("dropped %s: the queue to the master is full", message.TYPE)

    def close(self) -> None:
        self._socket.close()
        self._context.term()
