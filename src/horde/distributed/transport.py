"""ZeroMQ sockets for master and workers, on the run's own asyncio loop (``zmq.asyncio``).

The master binds a ROUTER socket and addresses each worker by its id; a worker connects a DEALER
socket whose routing id is its worker id. ZeroMQ reconnects by itself and keeps per-peer order,
so a worker's final report always arrives before anything it sends after it.

A master with 2,000 workers receives 2,000 reports and sends 2,000 heartbeats a second, so it
does not pay an asyncio future per message: it awaits the first message waiting and takes the
others already there in one go (``recv_batch``), sends without awaiting (the socket never
blocks), and signs a message for many workers once (``send_to_each``).

Every message is signed (``security.Signer``) and encoded (``protocol``). Frames that fail
authentication are dropped, and the master answers their sender once with a plain, unsigned
"refused" notice, so that a worker started with the wrong secret exits with a clear message
instead of waiting forever. That notice carries no authority beyond the handshake.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable

import zmq
import zmq.asyncio

from horde.distributed.protocol import DecodeError, Message, decode, encode
from horde.distributed.security import AuthError, Signer

log = logging.getLogger("horde.distributed")

__all__ = ["RECEIVE_BATCH", "AuthRefused", "MasterTransport", "WorkerTransport", "zmq_address"]

_REFUSED = b"HORDE-AUTH-REFUSED"
# How long sockets try to deliver what is queued when closed (the last Quit, a final report).
_LINGER_MS = 1000
_NOTICE_INTERVAL = 5.0
# Messages handled in one go before the master's loop runs its other tasks (ticks, the web UI).
RECEIVE_BATCH = 256


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
        # The same socket without asyncio's futures, for the calls that never wait.
        self._now: zmq.Socket[bytes] = zmq.Socket.shadow(self._socket.underlying)

    async def recv(self) -> tuple[str, Message]:
        """The next authentic message and the id of the worker that sent it."""
        while True:
            batch = await self.recv_batch(1)
            if batch:
                return batch[0]

    async def recv_batch(self, limit: int = RECEIVE_BATCH) -> list[tuple[str, Message]]:
        """Wait for a message, then take up to ``limit`` of those waiting, in order of arrival.

        Each item is (worker id, message); messages that fail authentication or decoding are
        left out, so the list may be empty.
        """
        first = self._open(await self._socket.recv_multipart())
        batch = [first] if first is not None else []
        batch += self.take_waiting(limit - 1)
        return batch

    def take_waiting(self, limit: int) -> list[tuple[str, Message]]:
        """The authentic messages already received, up to ``limit``, without waiting."""
        batch: list[tuple[str, Message]] = []
        if self._socket.closed:
            return batch
        receive = self._now.recv_multipart
        for _ in range(limit):
            try:
                frames = receive(zmq.NOBLOCK)
            except zmq.Again:
                break
            opened = self._open(frames)
            if opened is not None:
                batch.append(opened)
        return batch

    def _open(self, frames: list[bytes]) -> tuple[str, Message] | None:
        """(worker id, message) of authentic frames; None (after a notice) for others."""
        identity, body = frames[0], frames[1:]
        try:
            message = decode(self.signer.verify(body))
        except AuthError as exc:
            self._refuse(identity, str(exc))
            return None
        except DecodeError as exc:
            log.warning("dropped a message from %r: %s", identity, exc)
            return None
        return identity.decode(errors="replace"), message

    def send_now(self, worker_id: str, message: Message) -> None:
        """Queue ``message`` for one worker; never blocks on a worker that is slow or gone."""
        self._send_frames(worker_id, self.signer.sign(encode(message)), message)

    async def send(self, worker_id: str, message: Message) -> None:
        """``send_now``, for callers that are coroutines."""
        self.send_now(worker_id, message)

    def send_to_each(self, worker_ids: Iterable[str], message: Message) -> None:
        """The same message to many workers, encoded and signed once (heartbeats, each second).

        Every copy has the same nonce. That is no replay: each worker checks nonces for itself
        and sees this one once, and no message from the master names its recipient anyway.
        """
        frames = self.signer.sign(encode(message))
        for worker_id in worker_ids:
            self._send_frames(worker_id, frames, message)

    def _send_frames(self, worker_id: str, frames: list[bytes], message: Message) -> None:
        if self._socket.closed:
            return
        try:
            self._now.send_multipart([worker_id.encode(), *frames], flags=zmq.DONTWAIT)
        except zmq.Again:
            log.debug("dropped %s for %s: its queue is full", message.TYPE, worker_id)

    def _refuse(self, identity: bytes, reason: str) -> None:
        now = time.monotonic()
        if now - self._noticed.get(identity, -_NOTICE_INTERVAL) < _NOTICE_INTERVAL:
            return
        self._noticed[identity] = now
        log.warning("refused a message from %s: %s", identity.decode(errors="replace"), reason)
        try:
            self._now.send_multipart([identity, _REFUSED, reason.encode()], flags=zmq.DONTWAIT)
        except zmq.ZMQError:
            pass

    def close(self) -> None:
        self._socket.close()
        self._context.term()


class WorkerTransport:
    """A worker's DEALER socket, connected to the master.

    A worker process makes its own ZeroMQ context (one I/O thread). ``context`` lets a process
    that plays many workers (the scale benchmark's simulated workers) share one instead of
    starting a thread per worker; a shared context is left open on ``close``.
    """

    def __init__(
        self,
        signer: Signer,
        master_host: str,
        master_port: int,
        worker_id: str,
        context: zmq.asyncio.Context | None = None,
    ) -> None:
        self.signer = signer
        self._owns_context = context is None
        self._context = zmq.asyncio.Context() if context is None else context
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
        if self._owns_context:
            self._context.term()
