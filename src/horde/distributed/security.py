"""Authenticating every message between master and workers with a shared secret.

Each message travels as three frames: an HMAC-SHA256 over the other two, a header (send time and
a random nonce), and the payload. A peer without the secret cannot produce a valid MAC, so its
messages are refused before they are decoded (msgpack never sees untrusted bytes). The time and
nonce limit replay: a message older than ``window`` seconds is refused, and so is a nonce seen
within the window. Hosts therefore need clocks within ``window`` of each other (NTP is enough).

Without a secret the key is empty: messages are still checked for integrity, but anyone who can
reach the port can talk to the master, which is why the master then binds to loopback only.
"""

from __future__ import annotations

import hmac
import os
import struct
import time
from collections.abc import Callable, Sequence

__all__ = ["AuthError", "Signer"]

_HEADER = struct.Struct("!d16s")
_MAC_SIZE = 32


class AuthError(Exception):
    """A message that fails authentication; the text says why, in one sentence."""


class Signer:
    """Signs outgoing payloads and verifies incoming frames for one shared secret."""

    def __init__(
        self,
        secret: str | bytes,
        window: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = secret.encode() if isinstance(secret, str) else bytes(secret)
        self.window = window
        self._clock = clock
        self._seen: dict[bytes, float] = {}
        self._next_prune = 0.0

    @property
    def has_secret(self) -> bool:
        return bool(self._key)

    def sign(self, payload: bytes) -> list[bytes]:
        """The frames to send for ``payload``: MAC, header, payload."""
        header = _HEADER.pack(self._clock(), os.urandom(16))
        mac = hmac.digest(self._key, header + payload, "sha256")
        return [mac, header, payload]

    def verify(self, frames: Sequence[bytes]) -> bytes:
        """The payload of authentic, fresh ``frames``; raises ``AuthError`` otherwise."""
        if len(frames) != 3 or len(frames[0]) != _MAC_SIZE or len(frames[1]) != _HEADER.size:
            raise AuthError("malformed message (not from a horde peer of this version)")
        mac, header, payload = frames
        expected = hmac.digest(self._key, header + payload, "sha256")
        if not hmac.compare_digest(mac, expected):
            raise AuthError("bad signature: the peer does not share this secret (--secret)")
        sent, nonce = _HEADER.unpack(header)
        now = self._clock()
        if abs(now - sent) > self.window:
            raise AuthError(
                f"message sent {now - sent:+.0f} s from now: replayed, or clocks differ by more "
                f"than {self.window:.0f} s"
            )
        if nonce in self._seen:
            raise AuthError("replayed message (nonce already seen)")
        self._seen[nonce] = sent
        if now >= self._next_prune:
            self._prune(now)
        return payload

    def _prune(self, now: float) -> None:
        """Forget nonces older than the window: their messages are refused by time anyway."""
        limit = now - self.window
        self._seen = {n: t for n, t in self._seen.items() if t >= limit}
        self._next_prune = now + self.window / 4
