"""The CPU a bare asyncio timer wake-up costs on this machine, sparse and dense.

    .venv/bin/python bench/wakeup_cost.py        # prints one JSON object

Why: in the realistic benchmark (bench/compare.py --realistic) each request costs a generator
about two wake-ups (the wait before the task, the response), and between them the process sleeps.
On a VM a wake-up from sleep costs far more than the same work done back to back (cold caches,
the hypervisor's halt and resume), and every generator pays it. This measures that floor with
no HTTP at all: tasks that only sleep, at the realistic benchmark's pace (50 tasks waiting
0.05-0.2 s) and densely (1,000 tasks), on uvloop, in this process.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource

import uvloop


async def _sleepers(tasks: int, wakes_each: int, low: float, high: float) -> None:
    async def sleeper() -> None:
        for _ in range(wakes_each):
            await asyncio.sleep(random.uniform(low, high))

    await asyncio.gather(*(sleeper() for _ in range(tasks)))


def cpu_per_wake(tasks: int, wakes_each: int, low: float = 0.05, high: float = 0.2) -> float:
    """Microseconds of CPU (user + system) per timer wake-up of ``tasks`` sleeping tasks."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    uvloop.run(_sleepers(tasks, wakes_each, low, high))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return 1e6 * cpu / (tasks * wakes_each)


def main() -> None:
    sparse = cpu_per_wake(50, 60)  # about 400 wake-ups a second, as in the realistic benchmark
    dense = cpu_per_wake(1000, 4)  # about 8,000 a second: the process hardly ever sleeps
    print(json.dumps({"sparse_us": round(sparse, 1), "dense_us": round(dense, 1)}))


if __name__ == "__main__":
    main()
