"""Users per worker and class: the global mix is exactly the single-process one."""

import pytest

from horde.distributed.plan import plan_workers, worker_spawn_rate
from horde.runner.distribution import distribute

pytestmark = pytest.mark.timeout(180)


def cls(name, weight=1, fixed_count=0):
    return type(name, (), {"weight": weight, "fixed_count": fixed_count})


A, B, C = cls("A", 3), cls("B", 1), cls("Admin", fixed_count=2)
CLASSES = [A, B, C]


@pytest.mark.parametrize("total", [0, 1, 2, 5, 7, 17, 100, 1001])
@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_sums_equal_the_single_process_distribution(total, workers):
    ids = [f"w{i}" for i in range(workers)]
    plan = plan_workers(CLASSES, total, ids)
    expected = {c.__name__: n for c, n in distribute(CLASSES, total).items()}
    summed = {name: sum(p[name] for p in plan.values()) for name in expected}
    assert summed == expected
    totals = [sum(p.values()) for p in plan.values()]
    assert max(totals) - min(totals) <= 1


def test_fixed_count_is_global_not_per_worker():
    plan = plan_workers(CLASSES, 50, ["a", "b", "c", "d"])
    assert sum(p["Admin"] for p in plan.values()) == 2


def test_each_worker_gets_close_to_the_global_mix():
    plan = plan_workers([A, B], 400, ["a", "b", "c", "d"])
    for counts in plan.values():
        assert counts == {"A": 75, "B": 25}


def test_plan_is_deterministic_whatever_the_order_of_ids():
    assert plan_workers(CLASSES, 11, ["b", "a", "c"]) == plan_workers(CLASSES, 11, ["c", "b", "a"])


def test_no_workers_means_no_plan():
    assert plan_workers(CLASSES, 10, []) == {}


def test_spawn_rate_is_shared():
    assert worker_spawn_rate(10.0, 4) == 2.5
    assert worker_spawn_rate(10.0, 0) == 10.0
