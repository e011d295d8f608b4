"""Put the cooperative replacements into the standard library, and take them out again.

Each patch replaces one attribute (``socket.socket``, ``time.sleep``, a selector's ``select``...)
and remembers what it replaced, so ``remove()`` restores exactly the original objects. Code that
copied a name before the patch (``from time import sleep`` in a module imported earlier) keeps
the original: that is why horde applies the patches before it imports the scenario.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from typing import Any

from horde.compat import dns, selecting, sleeping
from horde.compat.sockets import CooperativeSocket
from horde.compat.tls import CooperativeSSLSocket

__all__ = ["applied", "apply", "original", "remove"]

_MISSING = object()
_saved: dict[tuple[Any, str], Any] = {}


def _replacements() -> list[tuple[Any, str, Any]]:
    patches: list[tuple[Any, str, Any]] = [
        (socket, "socket", CooperativeSocket),
        (socket, "getaddrinfo", dns.getaddrinfo),
        (socket, "gethostbyname", dns.gethostbyname),
        (socket, "gethostbyname_ex", dns.gethostbyname_ex),
        (socket, "gethostbyaddr", dns.gethostbyaddr),
        (socket, "getnameinfo", dns.getnameinfo),
        (ssl.SSLContext, "sslsocket_class", CooperativeSSLSocket),
        (time, "sleep", sleeping.sleep),
        (select, "select", selecting.select),
        (select, "poll", selecting.CooperativePoll),
    ]
    for cls in selecting.patched_selector_classes():
        patches.append((cls, "select", selecting.cooperative_selector_select(cls.select)))  # type: ignore[attr-defined]  # a selector class
    return patches


def apply() -> None:
    """Install every patch (once; applying again does nothing)."""
    if _saved:
        return
    for owner, name, replacement in _replacements():
        _saved[(owner, name)] = owner.__dict__.get(name, _MISSING)
        setattr(owner, name, replacement)


def remove() -> None:
    """Restore every patched attribute to the object it replaced."""
    for (owner, name), value in _saved.items():
        if value is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, value)
    _saved.clear()


def applied() -> bool:
    return bool(_saved)


def original(owner: Any, name: str) -> Any:
    """The object ``owner.name`` held before the patches (the current one if unpatched)."""
    value = _saved.get((owner, name), _MISSING)
    return getattr(owner, name) if value is _MISSING else value
