"""A worker from the command line: one worker process, or ``--worker --processes N`` supervising
N worker processes on this machine for a remote master.
"""

from __future__ import annotations

import asyncio
import signal

from horde.distributed.config import DistributedConfig
from horde.distributed.processes import LocalWorkers, worker_command
from horde.distributed.security import Signer
from horde.distributed.session import scenario_digest
from horde.distributed.transport import WorkerTransport
from horde.distributed.worker import Worker, new_worker_id
from horde.modes.hooks import fire_init, usage_monitor
from horde.modes.signals import on_interrupts, remove_stop_signals
from horde.runner.blockwatch import BlockWatch
from horde.runner.environment import Environment
from horde.runner.stop_guard import StopGuard
from horde.settings import Settings

__all__ = ["run_worker"]


async def run_worker(environment: Environment, options: Settings, config: DistributedConfig) -> int:
    """This process as a worker, or the supervisor of ``config.processes`` local workers."""
    if config.processes > 1:
        return await _supervise_workers(environment, options, config)
    return await _worker(environment, config)


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
    # master holds the results, so the guard's last resort is only to exit. This process's CPU
    # and loop lag go to the master in its reports, which warns about saturation itself.
    environment.health.announce = False
    watch = BlockWatch(health=environment.health)
    watch.start(loop)
    watch.guard = StopGuard(environment)
    await fire_init(environment, worker.runner)
    try:
        async with usage_monitor(environment):
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
