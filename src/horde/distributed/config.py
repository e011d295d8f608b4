"""Which role this process plays (single, master or worker), from the run's settings.

All the rules about combining the distributed flags live here, so they are checked once, before
any socket is opened, and each mistake is one sentence (a ``ScenarioError``, exit code 2). The
security rule: without a shared secret anyone who reaches the master's port could drive the
workers, so the master then listens on loopback only.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from horde.distributed.cores import available_cores
from horde.exceptions import ScenarioError
from horde.hosts import is_loopback
from horde.settings import Settings

__all__ = [
    "DEFAULT_MASTER_PORT",
    "LOCAL_WORKER_ENV",
    "DistributedConfig",
    "is_loopback",
    "parse_processes",
    "resolve",
]

DEFAULT_MASTER_PORT = 5557
# Set in the environment of worker processes started by --processes: they are workers, whatever
# a config file or HORDE_* variable says about --master or --processes.
LOCAL_WORKER_ENV = "HORDE_LOCAL_WORKER_OF"
# How long a master started with --processes waits for its own workers by default.
LOCAL_WORKERS_WAIT = 60.0

T = TypeVar("T")


def parse_processes(value: object) -> int:
    """``auto`` (or -1) is one per core this process may use (its affinity and cgroup CPU quota:
    a container's share, not the node's); otherwise a whole number >= 0 (0: no extra process)."""
    text = str(value).strip().lower()
    if text in ("auto", "-1"):
        return available_cores()
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"invalid process count {value!r}: use a number or 'auto'") from None
    if number < 0:
        raise ValueError(f"invalid process count {value!r}: use a number >= 0 or 'auto'")
    return number


@dataclass(frozen=True)
class DistributedConfig:
    """The resolved role and its settings; ``mode`` is ``single``, ``master`` or ``worker``."""

    mode: str
    processes: int = 0
    secret: str = ""
    bind_host: str = "127.0.0.1"
    bind_port: int = DEFAULT_MASTER_PORT
    master_host: str = "127.0.0.1"
    master_port: int = DEFAULT_MASTER_PORT
    expect_workers: int = 1
    expect_workers_max_wait: float = 0.0
    redistribute: bool = True
    master_timeout: float = 10.0
    parent_pid: int | None = None


def resolve(options: Settings, environ: Mapping[str, str]) -> DistributedConfig:
    """The role ``options`` ask for; raises ``ScenarioError`` for a combination that cannot work."""
    secret = options.secret or environ.get("HORDE_SECRET", "")
    processes = parse_processes(_given(options.processes, 0))
    parent = environ.get(LOCAL_WORKER_ENV)
    single = DistributedConfig(
        mode="single",
        secret=secret,
        redistribute=not options.no_redistribute,
        master_timeout=float(_given(options.master_timeout, 10.0)),
    )
    master_host = _given(options.master_host, "127.0.0.1")
    master_port = int(_given(options.master_port, DEFAULT_MASTER_PORT))
    if parent:
        return replace(
            single,
            mode="worker",
            master_host=master_host,
            master_port=master_port,
            parent_pid=int(parent),
        )
    if options.master and options.worker:
        raise ScenarioError(
            "--master and --worker cannot be combined: a process is one or the other"
        )
    if options.worker:
        return replace(
            single,
            mode="worker",
            processes=processes,
            master_host=master_host,
            master_port=master_port,
        )
    if not options.master and not processes:
        return single
    if options.master:
        bind_host = options.master_bind_host or ("*" if secret else "127.0.0.1")
        if not secret and not is_loopback(bind_host):
            raise ScenarioError(
                f"--master-bind-host {bind_host} is reachable from other machines: set a shared "
                "secret with --secret or HORDE_SECRET so that only your workers can join"
            )
        bind_port = int(_given(options.master_bind_port, DEFAULT_MASTER_PORT))
        expect = max(int(_given(options.expect_workers, 1)), processes)
        max_wait = float(_given(options.expect_workers_max_wait, 0.0))
    else:
        # --processes alone: a private master on a free loopback port, with a secret of its own
        # so that no other local user's process can join or drive it.
        bind_host, bind_port, expect = "127.0.0.1", 0, processes
        single = replace(single, secret=secret or secrets.token_hex(16))
        max_wait = float(_given(options.expect_workers_max_wait, 0.0)) or LOCAL_WORKERS_WAIT
    return replace(
        single,
        mode="master",
        processes=processes,
        bind_host=bind_host,
        bind_port=bind_port,
        expect_workers=expect,
        expect_workers_max_wait=max_wait,
    )


def _given(value: T | None, default: T) -> T:
    """An option's value, or ``default`` where it was not given."""
    return default if value is None else value
