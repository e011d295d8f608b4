"""What Locust's locustfiles and library scripts call on ``environment.runner``, on every runner.

Locust's runners have a wider surface than horde's ``Runner`` interface: ``runner.quit()``,
``runner.stats``, ``runner.greenlet.join()``, custom messages between master and workers
(``register_message``/``send_message``), ``worker_count``, ``client_id``... Scenario code reads
and calls them, often from a task or a greenlet it spawned. This mixin gives them to every
runner (``RunLifecycle`` inherits it); a distributed runner sends messages over the protocol
instead of to itself (``deliver_message``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from horde.bridge import start_blocking
from horde.compat import hub
from horde.compat.waiting import BlockingOutsideTask, can_wait, wait_future

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.scenario.users import User
    from horde.stats import RequestStats

log = logging.getLogger("horde.runner")

__all__ = ["CustomMessage", "LocustRunnerSurface", "RunnerGreenlet"]


@dataclass(frozen=True)
class CustomMessage:
    """A message of ``send_message``, as its listener gets it (Locust's ``rpc.Message``)."""

    type: str
    data: Any
    node_id: str


MessageListener = Callable[..., Any]


class RunnerGreenlet:
    """``runner.greenlet``: what a Locust script joins to wait until the runner is quit."""

    def __init__(self, runner: LocustRunnerSurface) -> None:
        self._runner = runner
        self._quit = False
        self._waiters: list[asyncio.Future[Any]] = []

    def join(self, timeout: float | None = None) -> None:
        """Wait until ``runner.quit()`` (or the end of the run), at most ``timeout`` seconds."""
        if self._quit:
            return
        if not can_wait():
            raise BlockingOutsideTask("runner.greenlet.join()")
        loop = hub.loop() if hub.active() else asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        self._waiters.append(waiter)
        try:
            wait_future(waiter, timeout, "runner.greenlet.join()")
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def kill(self, block: bool = True, timeout: float | None = None) -> None:
        self._runner.quit()
        if block and can_wait():
            self.join(timeout)

    def ready(self) -> bool:
        return self._quit

    @property
    def dead(self) -> bool:
        return self._quit

    def quitted(self) -> None:
        """The runner was quit: wake whoever joins."""
        self._quit = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(True)


class LocustRunnerSurface:
    """Locust's runner attributes and calls beyond horde's ``Runner`` interface."""

    environment: Environment
    worker_index: int = 0
    _custom_messages: dict[str, tuple[MessageListener, bool]] | None = None
    _greenlet: RunnerGreenlet | None = None
    _client_id: str | None = None

    # Reading ---------------------------------------------------------------------------------
    @property
    def stats(self) -> RequestStats:
        """The run's statistics (``environment.stats``)."""
        return self.environment.stats

    @property
    def errors(self) -> dict[Any, Any]:
        return self.environment.stats.errors

    @property
    def exceptions(self) -> dict[int, dict[str, Any]]:
        """Exceptions of scenario code, as Locust keeps them (count, msg, traceback, nodes)."""
        return {
            hash(e.traceback): {
                "count": e.count,
                "msg": e.msg,
                "traceback": e.traceback,
                "nodes": {"local"},
            }
            for e in self.environment.stats.exceptions.values()
        }

    @property
    def user_classes(self) -> list[type[User]]:
        return list(self.environment.user_classes)

    @property
    def user_classes_by_name(self) -> dict[str, type[User]]:
        return {cls.__name__: cls for cls in self.environment.user_classes}

    @property
    def worker_count(self) -> int:
        """Workers that run users (1: this process, as Locust's LocalRunner says)."""
        return 1

    @property
    def client_id(self) -> str:
        if self._client_id is None:
            self._client_id = f"{socket.gethostname()}_{uuid.uuid4().hex}"
        return self._client_id

    @property
    def custom_messages(self) -> dict[str, tuple[MessageListener, bool]]:
        if self._custom_messages is None:
            self._custom_messages = {}
        return self._custom_messages

    @property
    def greenlet(self) -> RunnerGreenlet:
        """Joined by library scripts until the runner is quit (Locust's group of greenlets)."""
        if self._greenlet is None:
            self._greenlet = RunnerGreenlet(self)
        return self._greenlet

    # Ending ----------------------------------------------------------------------------------
    def quit(self) -> None:
        """Stop the test and end the run: under ``horde run``, the run ends as at the end of
        its run time (summary, files); a library script's ``runner.greenlet.join()`` returns
        once the test has stopped."""
        self.environment.request_test_stop("runner.quit() was called")
        stopping = self.stop()
        if hub.active():
            self.greenlet.quitted()
            return
        if isinstance(stopping, asyncio.Future):
            stopping.add_done_callback(lambda _: self.greenlet.quitted())
        else:
            self.greenlet.quitted()

    def stop(self) -> Any:
        raise NotImplementedError

    # Custom messages -------------------------------------------------------------------------
    def register_message(
        self, msg_type: str, listener: MessageListener, concurrent: bool = False
    ) -> None:
        """Call ``listener(environment=..., msg=...)`` for each message of ``msg_type`` from
        another node (``concurrent``: without waiting for it before the next message)."""
        if msg_type in self.custom_messages:
            raise Exception(
                f"Tried to register listener method for {msg_type}, but it already had a listener!"
            )
        self.custom_messages[msg_type] = (listener, concurrent)

    # Set by a distributed worker: sends a message to the master instead of to itself.
    peer_send: Callable[[CustomMessage], None] | None = None

    def send_message(self, msg_type: str, data: Any = None, client_id: Any = None) -> None:
        """Send a message to the other side's listener: on a worker, to the master; in one
        process, to this runner's own listener, at once (Locust's LocalRunner)."""
        if self.peer_send is not None:
            self.peer_send(CustomMessage(msg_type, data, self.client_id))
            return
        self.deliver_message(CustomMessage(msg_type, data, "local"))

    async def handle_message(self, message: CustomMessage) -> None:
        """A message from another node: its listener runs in a greenlet (it may wait); this
        returns once it has, unless it was registered ``concurrent=True``."""
        registered = self.custom_messages.get(message.type)
        if registered is None:
            log.warning("Unknown message type received: %s", message.type)
            return
        listener, concurrent = registered
        try:
            pending = start_blocking(listener, environment=self.environment, msg=message)
            if pending is None:
                return
            if concurrent:
                _running_handlers.add(pending)
                pending.add_done_callback(_handler_done)
                return
            await pending
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Uncaught exception in handler for %s", message.type)

    def deliver_message(self, message: CustomMessage) -> None:
        """Call the listener registered for ``message.type`` (in the caller: a greenlet, when
        scenario code sent it), or say that none is."""
        registered = self.custom_messages.get(message.type)
        if registered is None:
            log.warning("Unknown message type received: %s", message.type)
            return
        listener, _ = registered
        listener(environment=self.environment, msg=message)


_running_handlers: set[asyncio.Task[Any]] = set()


def _handler_done(task: asyncio.Task[Any]) -> None:
    _running_handlers.discard(task)
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        log.error("Uncaught exception in a message handler: %s", error, exc_info=error)
