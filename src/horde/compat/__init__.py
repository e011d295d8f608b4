"""Run Locust 2.x locustfiles as written: blocking code made cooperative, Locust's and gevent's
names served by horde.

Locust runs on gevent, which patches the standard library so that blocking calls yield to other
users. horde runs every user on one asyncio loop; blocking-style tasks run in greenlets of
``horde.bridge``. ``install()``, called by horde before it imports a scenario, does for those
greenlets what gevent does for Locust's:

- ``time.sleep``, ``socket.socket`` (connect, accept, send/sendall/recv/recv_into and the rest,
  so ``makefile()`` readers such as ``http.client`` too), ``ssl`` sockets, ``select.select``,
  ``select.poll``, the ``selectors`` classes and DNS (``getaddrinfo``, ``gethostbyname``...)
  wait on the event loop when called from a user greenlet, so ``requests``, ``urllib.request``,
  ``http.client``, ``xmlrpc.client`` and raw sockets let the other users run; called from
  anywhere else (outside tasks, other threads, the loop itself) they behave exactly as before;
- ``import gevent`` and its everyday modules give horde's versions (``horde.compat.gevent``),
  whose greenlets are bridged work on the loop;
- ``import locust`` and its API modules give horde's objects (``horde.compat.locust_api``).

What it does not cover (the call still blocks every user, and the blocked-loop watchdog names
it, using ``stalls.describe_stall``): ``threading`` locks, conditions and queues, ``subprocess``
and ``os`` waits, ``select.epoll`` objects used directly, and C extensions that do their own
network I/O. Sockets created before ``install()`` (by a module imported earlier that kept a
socket) stay blocking.

This package sits just above the bridge in horde's layers: it imports the bridge, ``horde.events``
and the standard library, and names the rest of horde only as data (the tables of aliases).
"""

from __future__ import annotations

from typing import Any

from horde.compat import aliases, dns, patches
from horde.compat.locust_api.entries import UnsupportedLocustFeature
from horde.compat.stalls import describe_stall
from horde.compat.waiting import BlockingOutsideTask

__all__ = [
    "BlockingOutsideTask",
    "UnsupportedLocustFeature",
    "describe_stall",
    "install",
    "installed",
    "uninstall",
]


def _on_init(**kwargs: Any) -> None:
    if _gevent_in_use():
        from horde.compat.gevent import lifetime

        lifetime.on_init()


def _on_test_start(**kwargs: Any) -> None:
    if _gevent_in_use():
        from horde.compat.gevent import lifetime

        lifetime.on_test_start()


def _on_test_stop(**kwargs: Any) -> None:
    if _gevent_in_use():
        from horde.compat.gevent import lifetime

        lifetime.on_test_stop()


def _gevent_in_use() -> bool:
    """Whether anything imported horde's gevent (it is loaded only for locustfiles that do)."""
    import sys

    return "horde.compat.gevent.greenlets" in sys.modules


# Spawned greenlets start when horde's loop does and stop with the test (gevent/lifetime.py).
_LISTENERS = (("init", _on_init), ("test_start", _on_test_start), ("test_stop", _on_test_stop))


def install() -> None:
    """Make blocking calls cooperative in user greenlets and serve ``locust``/``gevent``
    imports from horde (idempotent)."""
    if patches.applied():
        return
    from horde.events import events

    patches.apply()
    dns.lookup_threads.start()  # here, where starting a thread stalls no user
    aliases.install_finder()
    for name, listener in _LISTENERS:
        getattr(events, name).add_listener(listener)


def uninstall() -> None:
    """Undo ``install()``: the standard library's objects back, the alias modules forgotten."""
    if not patches.applied():
        return
    from horde.events import events

    for name, listener in _LISTENERS:
        hook = getattr(events, name)
        if listener in hook._listeners:
            hook.remove_listener(listener)
    aliases.remove_finder()
    patches.remove()


def installed() -> bool:
    return patches.applied()
