"""What ``import gevent`` gives a locustfile under horde (see horde.compat.aliases).

gevent's everyday names run on horde's event loop: ``sleep``, ``spawn``/``spawn_later``,
``joinall``/``killall``, ``Greenlet``, ``Timeout``/``with_timeout``, ``wait``/``iwait``, and the
modules ``gevent.lock``, ``gevent.event``, ``gevent.pool``, ``gevent.queue``, ``gevent.monkey``
and ``gevent.exceptions``. ``gevent.socket``, ``gevent.ssl``, ``gevent.select`` and
``gevent.selectors`` are the standard library's modules, which horde has made cooperative. The
rest of gevent (its servers, ``gevent.local``, thread pools, subprocesses, the hub) is not
provided; importing it says so.
"""

from greenlet import GreenletExit

from horde.compat.gevent.greenlets import (
    Greenlet,
    getcurrent,
    idle,
    iwait,
    joinall,
    kill,
    killall,
    sleep,
    spawn,
    spawn_later,
    spawn_raw,
    wait,
)
from horde.compat.gevent.timeouts import Timeout, with_timeout

__all__ = [
    "Greenlet",
    "GreenletExit",
    "Timeout",
    "getcurrent",
    "idle",
    "iwait",
    "joinall",
    "kill",
    "killall",
    "sleep",
    "spawn",
    "spawn_later",
    "spawn_raw",
    "wait",
    "with_timeout",
]
