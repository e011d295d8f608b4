"""Facts about host names that several layers need (the web UI and distributed mode both ask
whether they listen beyond loopback before they allow a run without a password)."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ``::1``).

    Host names come from URLs, sockets and Host headers, so the forms they take there are
    accepted: any case and a trailing dot (``LOCALHOST.``), brackets around IPv6 (``[::1]``), a
    zone (``::1%lo``), and IPv4 mapped into IPv6 (``::ffff:127.0.0.1``, a dual-stack socket).
    """
    host = host.strip()
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback
