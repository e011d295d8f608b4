"""The master: the same control surface as a runner in one process, with the load on workers.

It is a ``horde.runner.interface.Runner`` of either load model (``use_model``): ``start``,
``change``, ``stop()``, ``state``, ``user_count`` and ``user_classes_count`` behave as for one
process, so the console, the web UI and load shapes drive a distributed run without knowing it;
in the open model it is also an ``OpenModel`` (the workers' counters added up), and as a
``WorkersView`` it adds the workers table (``workers_info()``).

The master plans every worker's users per class (``plan.plan_workers``), merges the stats deltas
workers send every second into ``environment.stats``, and watches heartbeats: a worker silent for
``heartbeat_timeout`` seconds is marked missing and, unless ``redistribute`` is off, its users
are given to the others. What it reported before stays in the totals; if it comes back, it is
given users again. Each message type has its own handler (``_handlers``).

Messages are handled in batches (all those waiting, up to ``RECEIVE_BATCH``): what concerns all
workers at once (a new plan after joins, whether every worker now runs its users) is settled
once per batch, not once per message, so 2,000 workers joining or reporting cost the master
linear work, not quadratic.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from horde.distributed.plan import plan_workers, worker_spawn_rate
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
from horde.distributed.registry import GONE, MISSING, WorkerInfo
from horde.distributed.stats_delta import merge_delta
from horde.distributed.transport import RECEIVE_BATCH
from horde.runner.cpu import CpuMeter
from horde.runner.health import HealthSample
from horde.runner.lifecycle import DRAIN_GRACE, RunLifecycle, RunnerState
from horde.runner.load import ArrivalRate
from horde.runner.surface import CustomMessage
from horde.scenario.shape import ARRIVAL_RATE, USERS
from horde.stats import RequestStats
from horde.version import __version__

if TYPE_CHECKING:
    from horde.distributed.transport import MasterTransport
    from horde.runner.environment import Environment
    from horde.runner.load import Load

log = logging.getLogger("horde.distributed")

__all__ = ["HEARTBEAT_INTERVAL", "HEARTBEAT_TIMEOUT", "MasterRunner"]

HEARTBEAT_INTERVAL = 1.0
HEARTBEAT_TIMEOUT = 3.0
TICK_DELAY = 0.3


def next_tick(now: float, closed: int) -> tuple[float, int]:
    """(seconds to wait, the second to close then): the next one after ``closed``, TICK_DELAY
    after it ends.

    The second comes from the schedule, not from the clock read after waking: a timer may wake
    a millisecond early, which read as the clock would close the same second twice and then skip
    one (a row of 0 requests, then a row of two seconds). A master that wakes later than a whole
    second closes the seconds it missed as one row.
    """
    second = max(math.floor(now - TICK_DELAY) + 1, closed + 1)
    return max(second + TICK_DELAY - now, 0.0), second


class MasterRunner(RunLifecycle):
    """Drives workers over ``transport``; call ``serve()`` once before anything else."""

    def __init__(
        self,
        environment: Environment,
        transport: MasterTransport,
        scenario_digest: str,
        *,
        settings: dict[str, Any] | None = None,
        redistribute: bool = True,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    ) -> None:
        self.environment = environment
        environment.runner = self
        self.transport = transport
        self.scenario_digest = scenario_digest
        self.settings = dict(settings or {})
        self.redistribute = redistribute
        self.heartbeat_timeout = heartbeat_timeout
        self.state = RunnerState.READY
        self.target_user_count = 0
        self.spawn_rate = 0.0
        # The load model of the run (set by the session before it starts): with ARRIVAL_RATE,
        # start() takes an arrival rate and its ramp, and each worker runs its share of both.
        self.model = USERS
        self.max_concurrency: int | None = None
        self.target_rate = 0.0
        self.rate_ramp = math.inf
        self.planned: float | None = None
        self._service_stats = RequestStats()
        self._last_started = 0
        self.started_at: float | None = None
        self.run_id = ""
        self.workers: dict[str, WorkerInfo] = {}
        self.cpu_percent = 0.0
        self._cpu = CpuMeter()
        self._joins = 0
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._ticker: asyncio.Task[None] | None = None
        self._plan_stale = False  # a join or a return since the last plan: settle() replans
        self._customs: deque[tuple[str, Custom]] = deque()  # taken in by a tick (see _handle)
        self._handlers: dict[type[Message], Callable[[str, Any], None]] = {
            Hello: self._on_hello,
            Report: self._on_report,
            Bye: self._on_bye,
            StopTest: self._on_stop_test,
        }

    def use_model(self, model: str, max_concurrency: int | None = None) -> bool:
        """Run ``model`` from the next start: users (closed) or arrival rate (open); workers
        switch runners when told their share."""
        self.model = model
        self.max_concurrency = max_concurrency
        return True

    @property
    def open_model(self) -> MasterRunner | None:
        return self if self.model == ARRIVAL_RATE else None

    @property
    def workers_view(self) -> MasterRunner:
        return self

    # Reading ---------------------------------------------------------------------------------
    @property
    def live_workers(self) -> list[WorkerInfo]:
        return [w for w in self.workers.values() if w.live]

    @property
    def worker_count(self) -> int:
        return len(self.live_workers)

    @property
    def user_count(self) -> int:
        return sum(w.user_count for w in self.live_workers)

    @property
    def user_classes_count(self) -> dict[str, int]:
        counts = {cls.__name__: 0 for cls in self.environment.user_classes}
        for w in self.live_workers:
            for name, n in w.user_classes_count.items():
                counts[name] = counts.get(name, 0) + n
        return counts

    # The open model's figures, added up over workers (same names as ArrivalRateRunner's).
    @property
    def service_stats(self) -> RequestStats:
        return self._service_stats

    def _open_sum(self, key: str) -> int:
        return sum(int(w.open_model.get(key, 0)) for w in self.workers.values())

    @property
    def started(self) -> int:
        return self._open_sum("started")

    @property
    def late(self) -> int:
        return self._open_sum("late")

    @property
    def dropped(self) -> int:
        return self._open_sum("dropped")

    @property
    def pending(self) -> int:
        return sum(int(w.open_model.get("pending", 0)) for w in self.live_workers)

    @property
    def current_rate(self) -> float:
        return self.target_rate if self.state in (RunnerState.SPAWNING, RunnerState.RUNNING) else 0

    def summary(self) -> dict[str, Any]:
        """The open model's counters of the run, over all workers (as ArrivalRateRunner's)."""
        stats = self.environment.stats
        seconds = max((stats.end_time or time.time()) - stats.start_time, 1e-9)
        workers = self.workers.values()
        return {
            "max_concurrency": sum(int(w.open_model.get("max_concurrency", 0)) for w in workers),
            "scheduled_iterations": self._open_sum("scheduled"),
            "started_iterations": self.started,
            "completed_iterations": self._open_sum("completed"),
            "late_iterations": self.late,
            "dropped_iterations": self.dropped,
            "max_start_delay_ms": 1000 * max((w.open_model.get("max_lag", 0.0) for w in workers),
                                             default=0.0),
            "achieved_rate": self.started / seconds,
            "workers": len(self.workers),
        }  # fmt: skip

    @property
    def clients(self) -> dict[str, WorkerInfo]:
        """The workers connected now, by id (Locust's ``runner.clients``)."""
        return {w.id: w for w in self.live_workers}

    def send_message(self, msg_type: str, data: Any = None, client_id: Any = None) -> None:
        """Send scenario code's message to one worker (``client_id``) or to every worker
        connected now (Locust's ``MasterRunner.send_message``)."""
        if client_id:
            self._send_soon(str(client_id), Custom(msg_type, data, str(client_id)))
            return
        for w in self.live_workers:
            self._send_soon(w.id, Custom(msg_type, data, w.id))

    def pass_on_options(self, changes: Mapping[str, Any]) -> None:
        """Workers joining from now on take these values of the scenario's options (the web
        form changed them)."""
        self.settings.setdefault("options", {}).update(changes)

    def workers_info(self) -> list[dict[str, Any]]:
        """One row per worker that ever joined, in order of joining (for the UI and files)."""
        return [w.as_dict() for w in sorted(self.workers.values(), key=lambda w: w.index)]

    # Serving ---------------------------------------------------------------------------------
    def serve(self) -> None:
        """Start receiving messages and sending heartbeats on the running loop."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._receive()), loop.create_task(self._monitor())]

    async def wait_for_workers(self, count: int, timeout: float | None) -> bool:
        """Wait until ``count`` workers are connected; False after ``timeout`` seconds."""
        deadline = None if not timeout else time.monotonic() + timeout
        while self.worker_count < count:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            await self._wait_change(remaining if remaining is not None else 5.0)
        return True

    async def close(self) -> None:
        """Tell every worker to quit, then stop serving and close the socket."""
        for w in self.live_workers:
            await self.transport.send(w.id, Quit())
        for task in [*self._tasks, *([self._ticker] if self._ticker else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.transport.close()

    # Control ---------------------------------------------------------------------------------
    def _move_to(self, load: Load) -> None:
        """Move the whole run towards ``load``: users at a spawn rate, or an arrival rate and
        its ramp; each worker is sent its share."""
        if not self.live_workers:
            log.warning("no worker connected yet: users start as workers join")
        self._announce(load)
        self.state = RunnerState.SPAWNING
        if self._test_starting is not None and not self._test_starting.done():
            # test_start's listeners wait (runner/hooks.py): workers get users after them.
            self._tasks.append(asyncio.get_running_loop().create_task(self._rebalance_later()))
            return
        self._rebalance(force=True)

    def _announce(self, load: Load) -> None:
        if isinstance(load, ArrivalRate):
            self.target_rate, self.rate_ramp = load.per_second, load.ramp
        else:
            self.target_user_count, self.spawn_rate = load.count, load.spawn_rate

    async def _rebalance_later(self) -> None:
        await self._test_started()
        self._rebalance(force=True)

    def stop_users_now(self) -> None:
        """A second Ctrl-C: every worker stops its users at their next request."""
        for w in self.live_workers:
            self._send_soon(w.id, Stop(hard=True))

    # stop(): every worker stops its users; the master waits for their final reports.
    def _reset(self) -> None:
        self._service_stats.reset()
        self._last_started = 0
        self.run_id = uuid.uuid4().hex[:12]
        for w in self.workers.values():
            w.open_model = {}
            w.assigned_rate = None
            w.num_requests = w.num_failures = w.peak_user_count = 0
            w.peak_cpu_percent = 0.0

    async def _drain(self) -> None:
        waiting = self.live_workers
        for w in waiting:
            w.assigned = {}
            await self.transport.send(w.id, Stop())
        sent_at = self._seq_marks(waiting)
        timeout = self.environment.stop_timeout + DRAIN_GRACE + self.heartbeat_timeout + 2.0
        deadline = time.monotonic() + timeout
        while True:
            pending = [w for w in waiting if w.live and w.final_seq <= sent_at[w.id]]
            if not pending:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning(
                    "no final report from %s within %.0f s: their last requests are not counted",
                    ", ".join(w.id for w in pending),
                    timeout,
                )
                break
            await self._wait_change(remaining)

    def _ending(self, stopped_at: float) -> None:
        self.target_user_count = 0
        self.target_rate = 0.0
        self._service_stats.end_time = stopped_at

    # Planning --------------------------------------------------------------------------------
    def _rebalance(self, force: bool = False) -> None:
        """Send each live worker its share of the target, if it changed (or ``force``)."""
        if self.state not in (RunnerState.SPAWNING, RunnerState.RUNNING):
            return
        if self._test_starting is not None and not self._test_starting.done():
            return  # _rebalance_later sends every worker its share
        live = self.live_workers
        if self.model == ARRIVAL_RATE:
            self._rebalance_rate(live, force)
            return
        plan = plan_workers(
            self.environment.user_classes, self.target_user_count, [w.id for w in live]
        )
        rate = worker_spawn_rate(self.spawn_rate, len(live))
        changed = False
        for w in live:
            counts = plan[w.id]
            if force or counts != w.assigned:
                w.assigned = counts
                changed = True
                self._send_soon(w.id, Spawn(counts, rate, self.run_id))
        if changed:
            self.state = RunnerState.SPAWNING
            self._check_spawned()

    def _rebalance_rate(self, live: list[WorkerInfo], force: bool) -> None:
        """The open model: each live worker runs an equal share of the rate (and its ramp)."""
        if not live:
            return
        n = len(live)
        concurrency = max(1, self.max_concurrency // n) if self.max_concurrency else None
        share = (self.target_rate / n, self.rate_ramp / n, concurrency)
        changed = False
        for w in live:
            if force or w.assigned_rate != share:
                w.assigned_rate = share
                changed = True
                self._send_soon(w.id, SpawnRate(share[0], share[1], concurrency, self.run_id))
        if changed:
            self.state = RunnerState.SPAWNING
            self._check_spawned()

    def _check_spawned(self) -> None:
        """SPAWNING becomes RUNNING when every live worker runs what it was assigned."""
        if self.state != RunnerState.SPAWNING:
            return
        for w in self.live_workers:
            if w.state != RunnerState.RUNNING:
                return
            if self.model == USERS and w.user_count != w.assigned_count:
                return
        self.state = RunnerState.RUNNING
        log.info("all workers spawned: %d users %s", self.user_count, self.user_classes_count)
        self.environment.events.spawning_complete.fire(user_count=self.user_count)

    def _send_soon(self, worker_id: str, message: Message) -> None:
        """Queue ``message`` for one worker (at once: the socket never blocks)."""
        self.transport.send_now(worker_id, message)

    # Receiving -------------------------------------------------------------------------------
    async def _receive(self) -> None:
        while True:
            batch = await self.transport.recv_batch(RECEIVE_BATCH)
            # Scenario code's messages (Custom) are awaited in their place: a listener may wait
            # and, as under Locust, the messages after it wait for it (unless it was registered
            # concurrent=True). Those the tick took in are awaited first.
            first = 0
            for i, (worker_id, message) in enumerate(batch):
                if type(message) is Custom:
                    self._handle(batch[first:i])
                    first = i + 1
                    await self._deliver_customs()
                    await self._deliver(worker_id, message)
            self._handle(batch[first:])
            await self._deliver_customs()
            await asyncio.sleep(0)  # ticks, heartbeats and the web UI run between batches

    async def _deliver(self, worker_id: str, message: Custom) -> None:
        if worker_id in self.workers:
            await self.handle_message(CustomMessage(message.msg_type, message.data, worker_id))

    async def _deliver_customs(self) -> None:
        while self._customs:
            await self._deliver(*self._customs.popleft())

    def _handle(self, batch: list[tuple[str, Message]]) -> None:
        """Handle each message by its type, then settle what concerns all workers, once.

        Custom messages cannot be awaited here: they wait in ``_customs`` for ``_receive``.
        """
        if not batch:
            return
        handlers = self._handlers
        for worker_id, message in batch:
            if type(message) is Custom:
                self._customs.append((worker_id, message))
                continue
            handler = handlers.get(type(message))
            if handler is None:
                log.warning("ignored an unexpected %s message from %s", message.TYPE, worker_id)
                continue
            try:
                handler(worker_id, message)
            except Exception:
                log.exception("error handling %s from %s", message.TYPE, worker_id)
        self._settle()
        self._changed.set()

    def _settle(self) -> None:
        """After a batch: a new plan if workers joined or came back; SPAWNING to RUNNING."""
        if self._plan_stale:
            self._plan_stale = False
            self._rebalance()
        self._check_spawned()

    def _on_hello(self, worker_id: str, hello: Hello) -> None:
        reason = self._refusal(hello)
        if reason:
            log.error("refused worker %s from %s: %s", worker_id, hello.host, reason)
            self._send_soon(worker_id, Refused(reason))
            return
        worker = self.workers.get(worker_id)
        if worker is None:
            self._joins += 1
            worker = WorkerInfo(id=worker_id, host=hello.host, pid=hello.pid, index=self._joins)
            self.workers[worker_id] = worker
            log.info(
                "worker %s joined from %s (%d connected)", worker_id, hello.host, self.worker_count
            )
            self.environment.events.worker_connect.fire(client_id=worker_id)
        elif not worker.live:
            log.warning("worker %s is back", worker_id)
            worker.state = "ready"
            worker.last_seen = time.monotonic()
        self._send_soon(worker_id, Welcome(worker.index, self.settings))
        self._plan_stale = True

    def _refusal(self, hello: Hello) -> str:
        """Why a worker cannot take part, in one sentence; empty if it can."""
        if hello.version != __version__:
            return (
                f"it runs horde {hello.version} but the master runs horde {__version__}: "
                "install the same version everywhere"
            )
        if hello.protocol != PROTOCOL_VERSION:
            return (
                f"it speaks version {hello.protocol} of the worker protocol but the master "
                f"speaks version {PROTOCOL_VERSION} (both say horde {__version__}): install the "
                "same build of horde everywhere"
            )
        if hello.scenario_digest != self.scenario_digest:
            name = self.environment.scenario_path or "the scenario"
            return (
                f"its scenario file differs from the master's {name} (sha256 "
                f"{hello.scenario_digest[:12]} vs {self.scenario_digest[:12]}): "
                "run the same file everywhere"
            )
        missing = [
            c.__name__
            for c in self.environment.user_classes
            if c.__name__ not in hello.user_classes
        ]
        if missing:
            return f"it does not run user class {', '.join(missing)}: select the same classes"
        return ""

    def _on_report(self, worker_id: str, report: Report) -> None:
        worker = self.workers.get(worker_id)
        if worker is None:
            log.debug("report from unknown worker %s ignored", worker_id)
            return
        if report.stats:
            requests, failures = merge_delta(self.environment.stats, report.stats)
            worker.num_requests += requests
            worker.num_failures += failures
        hook = self.environment.events.worker_report
        if hook:
            data = {
                "user_count": report.user_count,
                "user_classes_count": dict(report.user_classes_count),
                **(report.custom or {}),
            }
            hook.fire(client_id=worker_id, data=data)
        if report.open_model:
            service = report.open_model.get("service")
            if service:
                merge_delta(self._service_stats, service)
            worker.open_model = {k: v for k, v in report.open_model.items() if k != "service"}
        if worker.state == GONE:
            return  # it said goodbye: a late report adds its stats, not its users
        was_missing = worker.state == MISSING
        worker.state = report.state
        worker.user_count = report.user_count
        worker.user_classes_count = dict(report.user_classes_count)
        worker.cpu_percent = report.cpu_percent
        worker.peak_user_count = max(worker.peak_user_count, report.user_count)
        worker.peak_cpu_percent = max(worker.peak_cpu_percent, report.cpu_percent)
        worker.last_seen = time.monotonic()
        worker.reports += 1
        if report.final:
            worker.final_seq = report.seq
        for data in report.health or ():
            try:
                sample = HealthSample.from_wire(data)
            except ValueError:
                continue  # a newer worker's sample this master cannot read: its figures only
            # The master warns (once per worker and test) when one becomes saturated.
            self.environment.health.record(worker_id, sample)
        if was_missing:
            log.warning("worker %s is back: giving it users again", worker_id)
            self._plan_stale = True

    def _on_bye(self, worker_id: str, bye: Bye) -> None:
        worker = self.workers.get(worker_id)
        if worker is None:
            return
        worker.state = GONE
        worker.user_count = 0
        worker.user_classes_count = {}
        log.warning("worker %s left (%s)", worker_id, bye.reason or "no reason given")
        self._lost(worker)

    def _on_stop_test(self, worker_id: str, message: StopTest) -> None:
        self.environment.request_test_stop(message.reason or f"StopTest on worker {worker_id}")

    # Heartbeats ------------------------------------------------------------------------------
    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            self.cpu_percent = self._cpu.percent()
            now = time.monotonic()
            alive = []
            for w in self.live_workers:
                silent = now - w.last_seen
                if silent > self.heartbeat_timeout:
                    w.state = MISSING
                    log.warning(
                        "worker %s missed heartbeats for %.1f s: marked missing (its stats up to "
                        "its last report are kept)",
                        w.id,
                        silent,
                    )
                    self._lost(w)
                    self._changed.set()
                else:
                    alive.append(w.id)
            self.transport.send_to_each(alive, Heartbeat(str(self.state)))
            sent = self.environment.events.heartbeat_sent
            if sent:
                for worker_id in alive:
                    sent.fire(client_id=worker_id, timestamp=time.time())

    def _lost(self, worker: WorkerInfo) -> None:
        """A worker no longer runs users: give them to the others, if allowed."""
        if self.state not in (RunnerState.SPAWNING, RunnerState.RUNNING):
            return
        if not self.live_workers:
            log.error("no worker left: the run carries on with no users until one joins")
            return
        if not self.redistribute:
            log.warning("its %d users are not redistributed (--no-redistribute)", worker.user_count)
            return
        log.warning(
            "redistributing %d users over %d workers", self.target_user_count, self.worker_count
        )
        self._rebalance()

    async def _tick_every_second(self) -> None:
        """Close each second a little after it ends, once workers' reports for it are in.

        Workers report on whole seconds of the wall clock; ticking TICK_DELAY later puts each
        report in the second it belongs to (hosts' clocks must agree within that, as NTP does).
        """
        closed = 0
        while True:
            delay, second = next_tick(time.time(), closed)
            await asyncio.sleep(delay)
            self.close_second(float(second))
            closed = second

    def _tick(self, now: float) -> None:
        # Reports already received belong to the second being closed, however far behind the
        # master is in handling them: handle them first, so that none falls in the next row
        # (about one a worker; bounded, so that an overloaded master still ticks).
        self._handle(self.transport.take_waiting(2 * len(self.workers) + RECEIVE_BATCH))
        stats = self.environment.stats
        stats.tick(now, self.user_count)
        if self.model == ARRIVAL_RATE:
            self._service_stats.tick(now, self.user_count)
        rows = stats.history.rows
        if not rows:
            return
        row = rows[-1]
        if self.model == ARRIVAL_RATE:
            started = self.started
            row["achieved"] = (started - self._last_started) / row["seconds"]
            self._last_started = started
            target = self.current_rate
        else:
            row["achieved"] = float(row["user_count"])
            target = float(self.target_user_count)
        row["target"] = self.planned if self.planned is not None else target

    # Helpers ---------------------------------------------------------------------------------
    async def _wait_change(self, timeout: float) -> None:
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout=timeout)
        except TimeoutError:
            pass

    @staticmethod
    def _seq_marks(workers: list[WorkerInfo]) -> dict[str, int]:
        """The final-report marks before a stop: a final report newer than these ends the wait."""
        return {w.id: w.final_seq for w in workers}
