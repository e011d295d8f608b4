"""How many users of each class every worker runs, computed once on the master.

The global counts come from ``horde.runner.distribution.distribute`` (``fixed_count`` first, then
weights), exactly as for one process, so the mix of the whole run is the same whatever the number
of workers. Each class is then split as evenly as possible over the workers, its odd users going
to the workers with the fewest users so far: per-class counts add up to the global ones, worker
totals differ by at most one, and each worker runs close to the global mix. Workers are taken in
sorted order, so the plan is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from horde.runner.distribution import distribute

__all__ = ["plan_workers", "worker_spawn_rate"]


def plan_workers(
    user_classes: Sequence[Any], total: int, worker_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """``{worker_id: {class_name: count}}`` for ``total`` users over ``worker_ids``."""
    workers = sorted(worker_ids)
    plan = {w: {cls.__name__: 0 for cls in user_classes} for w in workers}
    if not workers:
        return plan
    totals = dict.fromkeys(workers, 0)
    position = {w: i for i, w in enumerate(workers)}
    for cls, count in distribute(user_classes, total).items():
        base, extra = divmod(count, len(workers))
        # The odd users of each class go to the workers with the fewest users so far, which
        # keeps every worker's total within one of the others'.
        lucky = set(sorted(workers, key=lambda w: (totals[w], position[w]))[:extra])
        for w in workers:
            n = base + (w in lucky)
            plan[w][cls.__name__] = n
            totals[w] += n
    return plan


def worker_spawn_rate(spawn_rate: float, worker_count: int) -> float:
    """Each worker's share of the run's spawn rate, so that all together ramp at ``spawn_rate``.

    Every worker's change of user count is within one of the others' (``plan_workers``), so an
    equal share makes them finish their ramps together.
    """
    return spawn_rate / max(1, worker_count)
