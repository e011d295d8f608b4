"""How many cores this process may use: what ``--processes auto`` starts one worker for.

``os.cpu_count()`` is the machine's count, not this process's share. In a container it is the
node's: a Kubernetes pod limited to one CPU on a 64-core node would start 64 workers, which
then share one core's worth of CPU time (each throttled, each measuring its own delays) and
join the master as 64 workers where ``--expect-workers`` counted one. So the count here is the
smallest of the CPUs this process may be scheduled on (its affinity: cpusets, ``taskset``,
Kubernetes' static CPU manager) and its cgroup's CPU quota (a pod's ``limits.cpu``, Docker's
``--cpus``), in cgroup v2 (``cpu.max``) or v1 (``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``),
on the process's own cgroup and every ancestor that is visible.

A fractional quota is rounded down (at least 1): a worker that can use only part of a core is
throttled in the middle of requests, and its latencies are then its own.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["available_cores", "cgroup_cpu_quota"]


def available_cores(root: Path = Path("/")) -> int:
    """The cores this process may use (at least 1); ``root`` is ``/`` but in tests."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return max(1, cores)


def cgroup_cpu_quota(root: Path = Path("/")) -> float | None:
    """The CPU quota of this process's cgroups in cores (the tightest); None when unlimited.

    Read from ``/proc/self/cgroup`` (the process's cgroup in each hierarchy) and
    ``/proc/self/mountinfo`` (where each hierarchy is mounted, and which part of it: inside a
    container the mount's root is the container's own cgroup).
    """
    try:
        memberships = (root / "proc/self/cgroup").read_text()
        mounts = (root / "proc/self/mountinfo").read_text()
    except OSError:
        return None
    paths: dict[str, str] = {}  # "" for the v2 hierarchy, else the v1 controllers' list
    for line in memberships.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths[parts[1]] = parts[2]
    v1_cpu = next((p for k, p in paths.items() if "cpu" in k.split(",")), None)
    quotas: list[float] = []
    for line in mounts.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        mount_root, mount_point = fields[3], fields[4]
        fs_type, _, options = line.split(" - ", 1)[1].split(" ", 2)
        if fs_type == "cgroup2" and "" in paths:
            cgroup, read = paths[""], _v2_quota
        elif fs_type == "cgroup" and "cpu" in options.split(",") and v1_cpu is not None:
            cgroup, read = v1_cpu, _v1_quota
        else:
            continue
        directory = root / mount_point.lstrip("/") / _inside(cgroup, mount_root)
        base = root / mount_point.lstrip("/")
        while True:
            quota = read(directory)
            if quota is not None:
                quotas.append(quota)
            if directory == base or base not in directory.parents:
                break
            directory = directory.parent
    return min(quotas) if quotas else None


def _inside(cgroup: str, mount_root: str) -> str:
    """The cgroup's path below the mount; "" when the mount is the cgroup itself or above it
    (a container sees its own cgroup as the root, whatever ``/proc/self/cgroup`` says)."""
    cgroup, mount_root = cgroup.rstrip("/"), mount_root.rstrip("/")
    if cgroup == mount_root or not cgroup.startswith(mount_root + "/"):
        return ""
    return cgroup[len(mount_root) + 1 :]


def _v2_quota(directory: Path) -> float | None:
    try:
        limit, period = (directory / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    return None if limit == "max" else int(limit) / int(period)


def _v1_quota(directory: Path) -> float | None:
    try:
        limit = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if limit <= 0 or period <= 0 else limit / period
