"""How many users of each class to run, and in which order to start them.

Pure functions, so the local runner and a distributed master compute the same answer. Users with
``fixed_count`` are placed first; the rest is shared by ``weight`` with the largest-remainder
method, so counts always add up to the target exactly. The spawn order interleaves classes (smooth
weighted round robin), so that a ramp stopped half-way still has the planned mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["distribute", "interleave"]


def distribute(user_classes: Sequence[Any], total: int) -> dict[Any, int]:
    """Users per class for ``total`` users; ``fixed_count`` first, then by ``weight``."""
    counts = {cls: 0 for cls in user_classes}
    remaining = total
    for cls in user_classes:
        fixed = getattr(cls, "fixed_count", 0) or 0
        if fixed > 0:
            take = min(fixed, remaining)
            counts[cls] = take
            remaining -= take
    weighted = [c for c in user_classes if not (getattr(c, "fixed_count", 0) or 0)]
    weight_sum = sum(max(0, getattr(c, "weight", 1)) for c in weighted)
    if remaining <= 0 or not weighted or weight_sum <= 0:
        return counts
    shares = [(c, remaining * max(0, getattr(c, "weight", 1)) / weight_sum) for c in weighted]
    floors = {c: int(s) for c, s in shares}
    left = remaining - sum(floors.values())
    # Largest remainder first; ties go to the class declared first, for a stable answer.
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i][1] - floors[shares[i][0]]), i))
    for i in order[:left]:
        floors[shares[i][0]] += 1
    for c, n in floors.items():
        counts[c] += n
    return counts


def interleave(counts: dict[Any, int]) -> list[Any]:
    """Each class repeated by its count, mixed evenly (smooth weighted round robin)."""
    total = sum(counts.values())
    current = dict.fromkeys(counts, 0)
    order: list[Any] = []
    for _ in range(total):
        for cls, n in counts.items():
            current[cls] += n
        best = max(current, key=lambda c: current[c])
        current[best] -= total
        order.append(best)
    return order
