"""Worker processes on this machine for ``--processes N``: started, watched, always reaped.

One Python process uses one core, so a machine with N cores needs N processes to load a target
fully. Each worker is ``python -m horde run SCENARIO --worker`` on a free loopback port of a
private master. The secret goes through the environment (never the command line, which other
users of the machine can read). Workers get their own session, so a Ctrl-C at the terminal
reaches only the master, which then stops them in order (final stats first); they also watch
their parent and leave if it dies, so no worker outlives a killed master.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from horde.distributed.config import LOCAL_WORKER_ENV
from horde.settings import Settings

log = logging.getLogger("horde.distributed")

__all__ = ["LocalWorkers", "worker_command"]

# HORDE_* settings that would turn a worker back into a master (from the user's environment).
_ROLE_VARIABLES = (
    "HORDE_MASTER",
    "HORDE_PROCESSES",
    "HORDE_EXPECT_WORKERS",
    "HORDE_MASTER_BIND_HOST",
    "HORDE_MASTER_BIND_PORT",
    # The master exports the run's metrics; a worker would only say it ignores them.
    "HORDE_METRICS_PORT",
    "HORDE_OTEL",
)


def worker_command(
    options: Settings, scenario_path: str, master_host: str, master_port: int
) -> list[str]:
    """The command line of one local worker: what shapes its users, nothing about output.

    Run settings (host, stop timeout, scenario options) also come from the master on joining;
    tags and class names select the user classes at start-up, so they are passed here.
    """
    cmd = [sys.executable, "-m", "horde", "run", str(Path(scenario_path).resolve())]
    cmd += list(options.user_class_names)
    cmd += ["--worker", "--master-host", master_host, "--master-port", str(master_port)]
    cmd += ["--processes", "0", "--loglevel", options.loglevel]
    if options.host:
        cmd += ["-H", options.host]
    if options.config:
        cmd += ["--config", options.config]
    if options.master_timeout:
        cmd += ["--master-timeout", str(options.master_timeout)]
    for flag, values in (("-T", options.tags), ("-E", options.exclude_tags)):
        if values:
            cmd += [flag, *values]
    return cmd


class LocalWorkers:
    """``count`` worker processes running ``command``; ``stop()`` reaps every one.

    With ``watch_parent`` the workers belong to this process's master: they exit if it dies.
    """

    def __init__(
        self,
        command: list[str],
        count: int,
        secret: str,
        environ: Mapping[str, str] | None = None,
        watch_parent: bool = True,
    ) -> None:
        env = {k: v for k, v in (os.environ if environ is None else environ).items()}
        for name in _ROLE_VARIABLES:
            env.pop(name, None)
        env["HORDE_SECRET"] = secret
        if watch_parent:
            env[LOCAL_WORKER_ENV] = str(os.getpid())
        else:
            env.pop(LOCAL_WORKER_ENV, None)
        self.command = command
        self.count = count
        self._env = env
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for _ in range(self.count):
            self.processes.append(
                # Their output is the master's (what a scenario prints on a worker shows, as
                # with Locust's --processes); a worker itself prints nothing but logs.
                subprocess.Popen(
                    self.command,
                    env=self._env,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        log.info("started %d worker processes: %s", self.count, [p.pid for p in self.processes])

    def exited(self) -> list[tuple[int, int]]:
        """``(pid, exit code)`` of the workers that have exited."""
        return [(p.pid, p.returncode) for p in self.processes if p.poll() is not None]

    async def stop(self, grace: float = 5.0) -> None:
        """Wait up to ``grace`` s for workers to exit (they were told to quit), then end them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while any(p.poll() is None for p in self.processes) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        self.kill_all()

    def kill_all(self) -> None:
        """SIGTERM twice, then SIGKILL whatever is left; waits for all, so none stays a zombie.

        A worker still there was told to quit and has not: its loop is likely held by user
        code. A second interrupt makes its stop guard end that code at once
        (``horde.runner.stop_guard``), so it can still leave in order.
        """
        alive = [p for p in self.processes if p.poll() is None]
        for p in alive:
            p.terminate()
        if alive:
            time.sleep(0.1)  # two signals at once would be counted as one
        for p in alive:
            if p.poll() is None:
                p.terminate()
        for p in alive:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for p in alive:
            log.warning("worker process %d had to be terminated (exit %s)", p.pid, p.returncode)
