"""A master at work: bound, serving workers, with the local worker processes it started.

What every way of running a master needs (the headless run, the web UI, the capacity search:
``horde.modes``): bind and serve (``start_master``), start and always reap local workers
(``master_session``), wait for the expected workers (``wait_for_workers``), and the settings and
scenario digest that workers must share with their master.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from horde.distributed.config import DistributedConfig
from horde.distributed.master import MasterRunner
from horde.distributed.processes import LocalWorkers, worker_command
from horde.distributed.security import Signer
from horde.distributed.transport import MasterTransport
from horde.runner.environment import Environment
from horde.settings import Settings

log = logging.getLogger("horde.distributed")

__all__ = [
    "MasterSession",
    "master_session",
    "master_settings",
    "scenario_digest",
    "start_master",
    "wait_for_workers",
]


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
