"""A worker: joins a master, runs the users it is told to, and reports what they recorded.

Messages are handled by type (``_handlers``); orders that take time (spawn, stop, quit) go through
one queue so they apply in the order sent, while heartbeats are taken at once. Every second the
worker sends a ``Report`` with what its users recorded since the previous one; after a stop it
sends a final report once in-flight requests are recorded, so the master's totals are exact.

A worker that hears nothing from its master for ``master_timeout`` seconds stops its users and
exits with code 1: a load generator must never keep loading a target nobody watches.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from horde.distributed.protocol import (
    PROTOCOL_VERSION,
    Bye,
    Custom,
    Heartbeat,
    Hello,
    Message,
    Quit,
    Refused,
    Report,
    Spawn,
    SpawnRate,
    Stop,
    StopTest,
    Welcome,
)
from horde.distributed.stats_delta import DeltaTaker
from horde.distributed.transport import AuthRefused, WorkerTransport
from horde.distributed.worker_runner import WorkerRunner
from horde.runner.arrival_rate import ArrivalRateRunner
from horde.runner.health import LOCAL
from horde.runner.lifecycle import IDLE
from horde.runner.load import ArrivalRate
from horde.runner.surface import CustomMessage
from horde.version import __version__

if TYPE_CHECKING:
    from horde.runner.environment import Environment

log = logging.getLogger("horde.distributed")

__all__ = ["EXIT_LOST_MASTER", "EXIT_REFUSED", "REPORT_INTERVAL", "Worker", "new_worker_id"]

REPORT_INTERVAL = 1.0
EXIT_LOST_MASTER = 1
EXIT_REFUSED = 2


def new_worker_id() -> str:
    """Host, process and a random suffix: unique even when a worker restarts with a reused pid."""
    return f"{socket.gethostname()}_{os.getpid()}_{secrets.token_hex(3)}"


class Worker:
    """One worker process's side of the protocol."""

    def __init__(
        self,
        environment: Environment,
        transport: WorkerTransport,
        worker_id: str,
        scenario_digest: str,
        master_address: str,
        master_timeout: float = 10.0,
        connect_timeout: float = 60.0,
        parent_pid: int | None = None,
    ) -> None:
        self.environment = environment
        self.transport = transport
        self.worker_id = worker_id
        self.scenario_digest = scenario_digest
        self.master_address = master_address
        self.master_timeout = master_timeout
        self.connect_timeout = connect_timeout
        self.parent_pid = parent_pid
        # A WorkerRunner (closed model), or an ArrivalRateRunner once told to run the open one.
        self.runner: WorkerRunner | ArrivalRateRunner = WorkerRunner(
            environment, on_state=self._send_report_soon
        )
        self._join_runner(self.runner)
        self._sending: set[asyncio.Task[None]] = set()
        self._service_delta: DeltaTaker | None = None
        self.accepted = False
        self.exit_code: int | None = None
        self._health_sent = 0.0  # the last second of health sent to the master
        self._delta = DeltaTaker(environment.stats)
        self._seq = 0
        self._last_heard = time.monotonic()
        self._done = asyncio.Event()
        self._orders: asyncio.Queue[Message] = asyncio.Queue()
        self._report_now = asyncio.Event()
        self._handlers: dict[type[Message], Callable[[Any], None]] = {
            Welcome: self._on_welcome,
            Refused: self._on_refused,
            Heartbeat: self._on_heartbeat,
            Spawn: self._orders.put_nowait,
            SpawnRate: self._orders.put_nowait,
            Stop: self._on_stop,
            Quit: self._orders.put_nowait,
        }
        self._orders_handlers: dict[type[Message], Callable[[Any], Awaitable[None]]] = {
            Spawn: self._do_spawn,
            SpawnRate: self._do_spawn_rate,
            Stop: self._do_stop,
            Quit: self._do_quit,
        }

    # Lifecycle -------------------------------------------------------------------------------
    async def run(self) -> int:
        """Join the master and obey it until told to quit; returns the exit code."""
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(self._receive()),
            loop.create_task(self._obey()),
            loop.create_task(self._report_every_second()),
            loop.create_task(self._watch_master()),
            loop.create_task(self._pass_on_test_stop()),
        ]
        await self._send_hello()
        try:
            await self._done.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.runner.state not in IDLE:
                await self.runner.stop()
        return self.exit_code if self.exit_code is not None else 0

    def request_quit(self, reason: str) -> None:
        """Leave on this worker's own initiative (Ctrl-C, SIGTERM): stop, report, say bye."""
        self._orders.put_nowait(Bye(reason=reason))

    def hard_stop(self) -> None:
        """Do not let users finish their current task (a second Ctrl-C)."""
        self.environment.stop_timeout = 0
        self.runner.stop_users_now()

    def _finish(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        self._done.set()

    # Receiving -------------------------------------------------------------------------------
    async def _receive(self) -> None:
        while True:
            try:
                message = await self.transport.recv()
            except AuthRefused as exc:
                if not self.accepted:
                    log.error("the master at %s refused this worker: %s", self.master_address, exc)
                    self._finish(EXIT_REFUSED)
                    return
                continue
            self._last_heard = time.monotonic()
            if isinstance(message, Custom):
                # Scenario code's message: its listener may wait (Locust runs it in the
                # worker's receiving greenlet too, unless it is concurrent).
                await self.runner.handle_message(
                    CustomMessage(message.msg_type, message.data, message.node_id)
                )
                continue
            handler = self._handlers.get(type(message))
            if handler is None:
                log.warning("ignored an unexpected %s message from the master", message.TYPE)
            else:
                handler(message)

    def _on_heartbeat(self, message: Heartbeat) -> None:
        hook = self.environment.events.heartbeat_received
        if hook:
            hook.fire(client_id=self.worker_id, timestamp=time.time())

    def _join_runner(self, runner: WorkerRunner | ArrivalRateRunner, previous: Any = None) -> None:
        """Make ``runner`` this worker's: its messages go to the master, under this worker's
        id, and it keeps the message listeners scenario code registered on the one before."""
        runner.peer_send = self._send_custom
        runner._client_id = self.worker_id
        if previous is not None:
            runner._custom_messages = previous._custom_messages
            runner.worker_index = previous.worker_index

    def _send_custom(self, message: CustomMessage) -> None:
        self._send_later(Custom(message.type, message.data, self.worker_id))

    def _send_later(self, message: Message) -> None:
        task = asyncio.get_running_loop().create_task(self.transport.send(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def _on_welcome(self, message: Welcome) -> None:
        if message.protocol != PROTOCOL_VERSION:
            log.error(
                "the master at %s speaks version %d of the worker protocol but this worker "
                "(horde %s) speaks version %d: install the same build of horde everywhere",
                self.master_address,
                message.protocol,
                __version__,
                PROTOCOL_VERSION,
            )
            self._orders.put_nowait(Bye(reason="another version of the worker protocol"))
            self.exit_code = EXIT_REFUSED
            return
        self.runner.worker_index = message.worker_index
        if not self.accepted:
            log.info(
                "joined the master at %s as worker %d", self.master_address, message.worker_index
            )
        self.accepted = True
        self._apply_settings(message.settings)

    def _on_stop(self, message: Stop) -> None:
        # A hard stop cannot queue behind the stop it hurries: it acts on arrival.
        if message.hard:
            self.hard_stop()
        else:
            self._orders.put_nowait(message)

    def _on_refused(self, message: Refused) -> None:
        log.error("the master at %s refused this worker: %s", self.master_address, message.reason)
        self._finish(EXIT_REFUSED)

    def _apply_settings(self, settings: dict[str, Any]) -> None:
        """Take the run's settings from the master, so every worker loads the same way."""
        env = self.environment
        if settings.get("host"):
            env.host = settings["host"]
        if "stop_timeout" in settings:
            env.stop_timeout = float(settings["stop_timeout"] or 0)
        if "insecure" in settings:
            env.insecure = bool(settings["insecure"])
        options = env.parsed_options
        for key, value in (settings.get("options") or {}).items():
            if options is not None:
                setattr(options, key, value)

    # Orders, one at a time -------------------------------------------------------------------
    async def _obey(self) -> None:
        while True:
            order = await self._orders.get()
            try:
                if isinstance(order, Bye):
                    await self._leave(order)
                else:
                    await self._orders_handlers[type(order)](order)
            except Exception:
                # One bad order must not leave the worker deaf to the next ones.
                log.exception("error carrying out %s", order.TYPE)

    async def _open_model_runner(self, max_concurrency: int | None) -> ArrivalRateRunner:
        """The runner of the open model, made (the other one stopped first) if need be."""
        if isinstance(self.runner, ArrivalRateRunner):
            return self.runner
        if self.runner.state not in IDLE:
            await self.runner.stop()
        previous, self.runner = self.runner, ArrivalRateRunner(self.environment, max_concurrency)
        self._join_runner(self.runner, previous)
        self._service_delta = DeltaTaker(self.runner.service_stats)
        return self.runner

    async def _closed_model_runner(self) -> WorkerRunner:
        """The runner of the closed model, made (the other one stopped first) if need be."""
        if isinstance(self.runner, WorkerRunner):
            return self.runner
        if self.runner.state not in IDLE:
            await self.runner.stop()
        previous = self.runner
        self.runner = WorkerRunner(self.environment, on_state=self._send_report_soon)
        self._join_runner(self.runner, previous)
        self._service_delta = None
        return self.runner

    async def _do_spawn_rate(self, message: SpawnRate) -> None:
        runner = await self._open_model_runner(message.max_concurrency)
        load = ArrivalRate(message.rate, message.ramp if message.ramp > 0 else math.inf)
        if runner.state in IDLE:
            runner.start(load)
        else:
            runner.change(load)
        log.debug("arrival rate %.2f/s", message.rate)
        self._report_now.set()

    async def _do_spawn(self, message: Spawn) -> None:
        runner = await self._closed_model_runner()
        try:
            runner.start_counts(message.user_classes_count, message.spawn_rate)
        except ValueError as exc:
            log.error("cannot start the users the master asked for: %s", exc)
            return
        log.debug("spawning %s at %.2f/s", message.user_classes_count, message.spawn_rate)
        self._report_now.set()

    async def _do_stop(self, _: Stop | None = None) -> None:
        await self.runner.stop()
        await self._send_report(final=True)

    async def _do_quit(self, _: Quit) -> None:
        if self.runner.state not in IDLE:
            await self._do_stop()
        log.info("the master ended the run")
        self._finish(0)

    async def _leave(self, bye: Bye) -> None:
        if self.runner.state not in IDLE:
            await self._do_stop()
        await self.transport.send(bye)
        self._finish(0)

    # Sending ---------------------------------------------------------------------------------
    async def _send_hello(self) -> None:
        await self.transport.send(
            Hello(
                worker_id=self.worker_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                version=__version__,
                scenario_digest=self.scenario_digest,
                user_classes=[c.__name__ for c in self.environment.user_classes],
            )
        )

    def _send_report_soon(self) -> None:
        self._report_now.set()

    async def _send_report(self, final: bool = False) -> None:
        self._seq += 1
        runner = self.runner
        custom: dict[str, Any] | None = None
        hook = self.environment.events.report_to_master
        if hook:
            custom = {}
            hook.fire(client_id=self.worker_id, data=custom)
        await self.transport.send(
            Report(
                state=str(runner.state),
                user_count=runner.user_count,
                user_classes_count=runner.user_classes_count,
                cpu_percent=self._cpu_percent(),
                stats=self._delta.take(),
                final=final,
                seq=self._seq,
                open_model=self._open_model_report(),
                custom=custom,
                health=self._new_health(),
            )
        )

    def _cpu_percent(self) -> float:
        """This process's CPU over its last whole second (0 when it is not sampled)."""
        own = self.environment.health.process(LOCAL)
        latest = own.latest if own is not None else None
        return latest.cpu if latest is not None else 0.0

    def _new_health(self) -> list[dict[str, Any]] | None:
        """The seconds of this process's health (CPU, loop lag) not yet sent."""
        own = self.environment.health.process(LOCAL)
        samples = own.samples_after(self._health_sent)[-10:] if own is not None else []
        if not samples:
            return None
        self._health_sent = samples[-1].timestamp
        return [s.to_wire() for s in samples]

    def _open_model_report(self) -> dict[str, Any] | None:
        runner = self.runner
        if self._service_delta is None or not isinstance(runner, ArrivalRateRunner):
            return None
        return {
            "scheduled": runner.scheduled,
            "started": runner.started,
            "completed": runner.completed,
            "late": runner.late,
            "dropped": runner.dropped,
            "pending": runner.pending,
            "max_lag": runner.max_lag,
            "max_concurrency": runner.max_concurrency,
            "service": self._service_delta.take(),
        }

    async def _report_every_second(self) -> None:
        """Report on whole seconds of the wall clock (the master ticks just after them)."""
        hello_sent = time.monotonic()
        while True:
            until_next = REPORT_INTERVAL - (time.time() % REPORT_INTERVAL)
            try:
                await asyncio.wait_for(self._report_now.wait(), timeout=until_next)
            except TimeoutError:
                pass
            self._report_now.clear()
            if self.accepted:
                await self._send_report()
            elif time.monotonic() - hello_sent > 5.0:
                # The first hello may have gone to a master that restarted since: say it again.
                hello_sent = time.monotonic()
                await self._send_hello()

    async def _pass_on_test_stop(self) -> None:
        """``StopTest`` in scenario code ends the whole run: the master decides, as it would."""
        env = self.environment
        while True:
            await env.test_stop_event.wait()
            env.test_stop_event.clear()
            await self.transport.send(StopTest(env.stop_reason or "StopTest on a worker"))
            env.stop_reason = None

    async def _watch_master(self) -> None:
        started = time.monotonic()
        told = False
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            if not self.accepted and not told and now - started > 5.0:
                told = True
                log.warning(
                    "waiting for a master at %s (giving up after %.0f s)",
                    self.master_address,
                    self.connect_timeout,
                )
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log.error("the master process %d has exited: stopping users", self.parent_pid)
                self._finish(EXIT_LOST_MASTER)
                return
            if not self.accepted and now - started > self.connect_timeout:
                log.error(
                    "no answer from a master at %s within %.0f s: is it running, and are "
                    "--master-host and --master-port right?",
                    self.master_address,
                    self.connect_timeout,
                )
                self._finish(EXIT_LOST_MASTER)
                return
            if self.accepted and now - self._last_heard > self.master_timeout:
                log.error(
                    "lost the master at %s (nothing heard for %.0f s): stopping users and exiting",
                    self.master_address,
                    now - self._last_heard,
                )
                self._finish(EXIT_LOST_MASTER)
                return
