"""gevent.exceptions: the names locustfiles catch. ``LoopExit`` is what horde raises when a
gevent-style wait is asked for where nothing else could run (outside a user task)."""

from __future__ import annotations

from greenlet import GreenletExit

from horde.compat.waiting import BlockingOutsideTask

__all__ = [
    "BlockingSwitchOutError",
    "ConcurrentObjectUseError",
    "GreenletExit",
    "HubDestroyed",
    "InvalidSwitchError",
    "InvalidThreadUseError",
    "LoopExit",
]

LoopExit = BlockingOutsideTask


class BlockingSwitchOutError(AssertionError):
    pass


class InvalidSwitchError(AssertionError):
    pass


class ConcurrentObjectUseError(AssertionError):
    pass


class InvalidThreadUseError(RuntimeError):
    pass


class HubDestroyed(GreenletExit):  # type: ignore[misc]  # greenlet ships no types
    pass
