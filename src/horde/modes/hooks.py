"""Events every mode fires the same way: ``init`` once the environment, the runner and (when
there is one) the web UI are made, and ``quit`` with the exit code, last of all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from horde.runner.cpu import CpuMeter
from horde.runner.environment import Environment
from horde.runner.hooks import fire_and_wait

__all__ = ["fire_init", "fire_quit", "usage_monitor"]


async def fire_init(environment: Environment, runner: Any) -> None:
    """Locust's ``init``: ``environment``, ``runner``, ``web_ui`` (None when headless), fired
    in a greenlet (a listener may fetch data or sleep: ``horde.runner.hooks``)."""
    await fire_and_wait(
        environment.events.init,
        environment=environment,
        runner=runner,
        web_ui=environment.web_ui,
    )
    if environment.listener_failures:
        # Locust's rule: an init listener that raised (logged above) is fatal.
        print("horde: error: an init listener raised (see above)", file=sys.stderr, flush=True)
        raise SystemExit(1)


def fire_quit(environment: Environment, exit_code: int) -> int:
    """Locust's ``quit``: the exit code, after everything else; returns it."""
    environment.events.quit.fire(exit_code=exit_code)
    return exit_code


CPU_MONITOR_INTERVAL = 10.0
CPU_WARNING_THRESHOLD = 90.0
"""Locust's: ``usage_monitor`` every 10 s, ``cpu_warning`` above 90 % of one core."""


@contextlib.asynccontextmanager
async def usage_monitor(environment: Environment) -> AsyncIterator[None]:
    """Fire Locust's ``usage_monitor`` (``environment``, ``cpu_usage`` %, ``memory_usage`` RSS
    bytes) every ``CPU_MONITOR_INTERVAL`` seconds, and ``cpu_warning`` when the CPU is above
    the threshold, for as long as the block runs (nothing runs when neither has a listener)."""
    hooks = environment.events
    if not hooks.usage_monitor and not hooks.cpu_warning:
        yield
        return
    task = asyncio.get_running_loop().create_task(_monitor(environment))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _monitor(environment: Environment) -> None:
    meter = CpuMeter(window=CPU_MONITOR_INTERVAL)
    while True:
        await asyncio.sleep(CPU_MONITOR_INTERVAL)
        cpu = meter.percent()
        if cpu > CPU_WARNING_THRESHOLD:
            environment.events.cpu_warning.fire(environment=environment, cpu_usage=cpu)
        environment.events.usage_monitor.fire(
            environment=environment, cpu_usage=cpu, memory_usage=resident_bytes()
        )


def resident_bytes() -> int:
    """This process's resident memory (RSS), in bytes."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
