"""The mix a run makes: users per class and how often each task is picked (``/tasks``).

Locust's ``/tasks`` answers ``per_class`` (each class's share of users; its tasks' shares within
the class) and ``total`` (tasks' shares of all task picks); horde answers the same keys, and
adds each class's running users, weight and ``fixed_count`` and each task's weight. Before a test
starts the class shares are the planned ones (weights), afterwards those of the running users.
"""

from __future__ import annotations

from typing import Any

__all__ = ["task_ratios"]

MAX_DEPTH = 8  # task sets nested deeper than this are not listed (a set may contain itself)


def _tasks(holder: Any, share: float, total: bool, depth: int = 0) -> dict[str, Any]:
    tasks = list(getattr(holder, "_horde_tasks", []))
    weight_sum = sum(t.weight for t in tasks)
    out: dict[str, Any] = {}
    if not weight_sum or depth > MAX_DEPTH:
        return out
    for t in tasks:
        ratio = t.weight / weight_sum * (share if total else 1.0)
        name = getattr(t.fn, "__name__", t.name)
        while name in out:  # two tasks may share a function name: keep both
            name += "'"
        item: dict[str, Any] = {"ratio": ratio, "weight": t.weight}
        if t.is_taskset:
            item["tasks"] = _tasks(t.fn, ratio, total, depth + 1)
        out[name] = item
    return out


def _class_shares(user_classes: list[type], running: dict[str, int]) -> dict[type, float]:
    users = sum(running.get(c.__name__, 0) for c in user_classes)
    if users:
        return {c: running.get(c.__name__, 0) / users for c in user_classes}
    # Nothing runs: the planned mix. fixed_count classes take their count out of 100 users.
    from horde.runner.distribution import distribute

    planned = distribute(user_classes, 100)
    planned_sum = sum(planned.values()) or 1
    return {c: planned[c] / planned_sum for c in user_classes}


def task_ratios(user_classes: list[type], running: dict[str, int]) -> dict[str, Any]:
    """``{"per_class": {...}, "total": {...}}``; ``running``: users per class name now."""
    shares = _class_shares(list(user_classes), running)
    result: dict[str, Any] = {"per_class": {}, "total": {}}
    for cls, share in shares.items():
        about = {
            "ratio": share,
            "users": running.get(cls.__name__, 0),
            "weight": getattr(cls, "weight", 1),
            "fixed_count": getattr(cls, "fixed_count", 0) or 0,
        }
        result["per_class"][cls.__name__] = {**about, "tasks": _tasks(cls, share, False)}
        result["total"][cls.__name__] = {**about, "tasks": _tasks(cls, share, True)}
    return result
