"""A distributed run from the command line: the master's headless session, or a worker's.

The master's session mirrors the single-process one (``horde.modes.headless``): the same console,
summary, files and exit codes, so a user sees one run whatever the number of processes. Before
starting it waits for the expected workers; at the end it stops them, waits for their final
reports, and only then prints and writes results. Worker processes it started are reaped on
every way out (run time, Ctrl-C, errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from horde.distributed.config import DistributedConfig, resolve
from horde.distributed.master import MasterRunner
from horde.distributed.processes import LocalWorkers, worker_command
from horde.distributed.security import Signer
from horde.distributed.summary import workers_table
from horde.distributed.transport import MasterTransport, WorkerTransport
from horde.distributed.worker import Worker, new_worker_id
from horde.modes.conclusion import conclude, run_meta
from horde.modes.headless import drive_until_stopped
from horde.modes.signals import install_stop_signals, on_interrupts, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.models import choose_load_plan
from horde.runner.stop_guard import StopGuard
from horde.settings import Settings

log = logging.getLogger("horde.distributed")

__all__ = [
    "MasterSession",
    "master_session",
    "master_settings",
    "run_distributed",
    "scenario_digest",
    "start_master",
    "wait_for_workers",
]


def run_distributed(environment: Environment, options: Settings) -> int | None:
    """Run as master or worker if the options say so; ``None`` for a single-process run."""
    config = resolve(options, os.environ)
    if config.mode == "single":
        return None
    import uvloop

    if config.mode == "worker":
        if config.processes > 1:
            return uvloop.run(_supervise_workers(environment, options, config))
        return uvloop.run(_worker(environment, config))
    if not options.headless:
        return uvloop.run(_master_web(environment, options, config))
    return uvloop.run(_master_headless(environment, options, config))


def scenario_digest(environment: Environment) -> str:
    """SHA-256 of the scenario file (as ``Scenario.digest``): workers must run the same file."""
    return hashlib.sha256(Path(environment.scenario_path or "").read_bytes()).hexdigest()


def master_settings(
    environment: Environment, scenario_options: Mapping[str, Any]
) -> dict[str, Any]:
    """What workers take from the master on joining: target, stop timeout, scenario options."""
    custom = {k: v for k, v in scenario_options.items() if _plain(v)}
    return {
        "host": environment.host,
        "stop_timeout": environment.stop_timeout,
        "insecure": environment.insecure,
        "options": custom,
    }


def _plain(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


@dataclass
class MasterSession:
    """A serving master and the local worker processes it started (``--processes``)."""

    master: MasterRunner
    config: DistributedConfig
    local: LocalWorkers | None

    @property
    def address(self) -> str:
        return f"{self.config.bind_host}:{self.master.transport.port}"


@contextlib.asynccontextmanager
async def master_session(
    environment: Environment, options: Settings, config: DistributedConfig
) -> AsyncIterator[MasterSession]:
    """Serve workers (and start local ones) for the body; then quit them and reap processes.

    For the headless run here and the web UI alike; ``OSError`` if the port cannot be bound.
    """
    master = await start_master(environment, config, options.scenario_options)
    local: LocalWorkers | None = None
    try:
        if config.processes:
            local_host = config.bind_host
            if local_host in ("*", "0.0.0.0", "::"):
                local_host = "127.0.0.1"
            scenario = environment.scenario_path or ""
            command = worker_command(options, scenario, local_host, master.transport.port)
            local = LocalWorkers(command, config.processes, config.secret)
            local.start()
        yield MasterSession(master, config, local)
    finally:
        await master.close()
        if local is not None:
            await local.stop()


async def start_master(
    environment: Environment,
    config: DistributedConfig,
    scenario_options: Mapping[str, Any] | None = None,
) -> MasterRunner:
    """Bind, and start serving workers on the running loop."""
    transport = MasterTransport(Signer(config.secret), config.bind_host, config.bind_port)
    master = MasterRunner(
        environment,
        transport,
        scenario_digest(environment),
        settings=master_settings(environment, scenario_options or {}),
        redistribute=config.redistribute,
    )
    master.serve()
    return master


# Master ---------------------------------------------------------------------------------------
async def _master_headless(
    environment: Environment, options: Settings, config: DistributedConfig
) -> int:
    return await run_as_master(
        environment, options, config, lambda master: _run_headless(master, environment, options)
    )


async def run_as_master(
    environment: Environment,
    options: Settings,
    config: DistributedConfig,
    run: Callable[[MasterRunner], Awaitable[int]],
) -> int:
    """A headless run as master: bind, handle Ctrl-C, wait for the workers, then ``run``.

    Returns ``run``'s exit code; 1 when the workers never came, 2 when the master cannot bind.
    """
    loop = asyncio.get_running_loop()
    try:
        async with master_session(environment, options, config) as session:
            install_stop_signals(loop, environment, session.master)
            if not await wait_for_workers(session, environment):
                return 1
            return await run(session.master)
    except OSError as exc:
        print(f"horde: error: {exc}", file=sys.stderr)
        return 2
    finally:
        remove_stop_signals(loop)


async def _master_web(
    environment: Environment, options: Settings, config: DistributedConfig
) -> int:
    """The web UI drives the master (as ``horde.modes.web.run_web`` drives a LocalRunner).

    Tests start from the page as often as the user likes, with whichever workers are connected
    (new ones get users at once); Ctrl-C stops, prints the summary and writes the files.
    """
    from horde.console import Console
    from horde.web.server import start_web_ui

    loop = asyncio.get_running_loop()
    try:
        async with master_session(environment, options, config) as session:
            master = session.master
            install_stop_signals(loop, environment, master)
            ui, app_runner, url = await start_web_ui(environment, master, options)
            print(
                f"horde web UI on {url} (Ctrl-C to quit); workers join at {session.address}",
                file=sys.stderr,
                flush=True,
            )
            environment.events.init.fire(environment=environment, runner=master)
            started, cpu_started = time.time(), time.process_time()
            await environment.test_stop_event.wait()
            if ui.run_time_timer is not None:
                ui.run_time_timer.cancel()
            await master.stop()
            await app_runner.cleanup()
            master_cpu = 100.0 * (time.process_time() - cpu_started) / (time.time() - started)
            meta = ui.run_meta()
            meta.setdefault("start_time", started)
            meta["stop_reason"] = environment.stop_reason
            meta["workers"] = master.workers_info()
            meta["master_cpu_percent"] = round(master_cpu, 1)
            table = workers_table(meta["workers"], master_cpu)
            return conclude(environment, options, meta, Console(environment, options), table)
    except OSError as exc:
        print(f"horde: error: {exc}", file=sys.stderr)
        return 2
    finally:
        remove_stop_signals(loop)


async def _run_headless(master: MasterRunner, environment: Environment, options: Settings) -> int:
    """The run itself, as in one process: console, run time, stop, summary, files."""
    from horde.console import Console

    console = Console(environment, options)
    started = time.time()
    cpu_started = time.process_time()
    environment.events.init.fire(environment=environment, runner=master)
    plan = choose_load_plan(environment, options)
    master.use_model(plan.model, options.max_concurrency)
    await drive_until_stopped(environment, options, master, plan, console)
    ended = time.time()
    master_cpu = 100.0 * (time.process_time() - cpu_started) / max(1e-9, ended - started)
    meta = run_meta(environment, options, started, ended)
    meta["load_model"] = plan.describe()
    meta["workers"] = master.workers_info()
    meta["master_cpu_percent"] = round(master_cpu, 1)
    table = workers_table(meta["workers"], master_cpu)
    return conclude(environment, options, meta, console, table)


async def wait_for_workers(session: MasterSession, environment: Environment) -> bool:
    """Wait for the expected workers, saying so every few seconds; False on timeout or Ctrl-C."""
    master, config, local, where = session.master, session.config, session.local, session.address
    expected = config.expect_workers
    limit = config.expect_workers_max_wait
    started = time.monotonic()
    told = started
    while master.worker_count < expected:
        if environment.test_stop_event.is_set():
            print(f"horde: {environment.stop_reason} while waiting for workers", file=sys.stderr)
            return False
        if local is not None:
            failed = [(pid, rc) for pid, rc in local.exited() if rc != 0]
            if failed:
                pid, rc = failed[0]
                print(
                    f"horde: error: worker process {pid} exited with code {rc} before joining "
                    "(its messages are above)",
                    file=sys.stderr,
                )
                return False
        now = time.monotonic()
        if limit and now - started >= limit:
            print(
                f"horde: error: only {master.worker_count} of {expected} workers connected to the "
                f"master at {where} within {limit:.0f} s (--expect-workers-max-wait): start "
                "workers with 'horde run SCENARIO --worker --master-host HOST', or lower "
                "--expect-workers",
                file=sys.stderr,
            )
            return False
        if now - told >= 5.0:
            told = now
            print(
                f"waiting for workers on {where}: {master.worker_count} of {expected} connected",
                file=sys.stderr,
            )
        await master.wait_for_workers(expected, 0.25)
    return True


# Worker ---------------------------------------------------------------------------------------
async def _worker(environment: Environment, config: DistributedConfig) -> int:
    loop = asyncio.get_running_loop()
    worker_id = new_worker_id()
    address = f"{config.master_host}:{config.master_port}"
    transport = WorkerTransport(
        Signer(config.secret), config.master_host, config.master_port, worker_id
    )
    worker = Worker(
        environment,
        transport,
        worker_id,
        scenario_digest(environment),
        address,
        master_timeout=config.master_timeout,
        parent_pid=config.parent_pid,
    )
    on_interrupts(loop, lambda name: worker.request_quit(f"interrupted ({name})"), worker.hard_stop)
    # The blocked-loop warning, and user code that will not stop never keeps the process: the
    # master holds the results, so the guard's last resort is only to exit.
    watch = BlockWatch()
    watch.start(loop)
    watch.guard = StopGuard(environment)
    environment.events.init.fire(environment=environment, runner=worker.runner)
    try:
        code = await worker.run()
    finally:
        watch.stop()
        remove_stop_signals(loop)
        transport.close()
    environment.events.quitting.fire(environment=environment)
    return code


async def _supervise_workers(
    environment: Environment, options: Settings, config: DistributedConfig
) -> int:
    """``--worker --processes N``: N worker processes on this machine for a remote master."""
    loop = asyncio.get_running_loop()
    command = worker_command(
        options, environment.scenario_path or "", config.master_host, config.master_port
    )
    # The children are workers of a remote master, not of this process: no parent check.
    local = LocalWorkers(command, config.processes, config.secret, watch_parent=False)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    local.start()
    try:
        while len(local.exited()) < len(local.processes) and not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.2)
            except TimeoutError:
                pass
        if stop.is_set():
            for p in local.processes:
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
        await local.stop(grace=environment.stop_timeout + 10.0)
    finally:
        remove_stop_signals(loop)
        local.kill_all()
    return max((p.returncode or 0) for p in local.processes)
