"""CPU-limited cgroups for tests: a pod's ``limits.cpu`` as the kernel enforces it.

A container runtime puts a pod's container in a cgroup whose CPU quota is its limit (cgroup v2
``cpu.max``, v1 ``cpu.cfs_quota_us``). Tests do the same to the processes standing in for pods,
so that ``--processes auto`` sees what it would see in the pod. Needs root and a cgroup
hierarchy with the cpu controller that this process may write; ``None`` otherwise.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

PERIOD_US = 100_000


def _own_path(controller: str) -> str | None:
    """This process's cgroup in the hierarchy of ``controller`` ("" for v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller == "" and controllers == "") or controller in controllers.split(","):
            return path
    return None


def _writable_parent() -> tuple[Path, str] | None:
    """A directory to create a child cgroup in, and its kind ("v1" or "v2")."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if " - " not in line:
            continue
        fs_type, _, options = line.split(" - ", 1)[1].split(" ", 2)
        mount_point = Path(fields[4])
        if fs_type == "cgroup" and "cpu" in options.split(","):
            own = _own_path("cpu")
            kind = "v1"
        elif fs_type == "cgroup2":
            own = _own_path("")
            kind = "v2"
        else:
            continue
        if own is None:
            continue
        parent = mount_point / own.lstrip("/")
        if kind == "v2":
            # A v2 cgroup holding processes enables no controller for its children: take the
            # nearest ancestor that does (as root, a sibling cgroup is as good as a child).
            while not _enables_cpu(parent) and parent != mount_point:
                parent = parent.parent
            if not _enables_cpu(parent):
                continue
        if os.access(parent, os.W_OK):
            return parent, kind
    return None


def _enables_cpu(directory: Path) -> bool:
    try:
        return "cpu" in (directory / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False


@contextlib.contextmanager
def cpu_limited(name: str, cores: float) -> Iterator[Callable[[], None] | None]:
    """A cgroup of its own limited to ``cores``; yields a ``preexec_fn`` that moves the new
    process into it (``None`` where no cgroup can be made). Removed on exit, once empty."""
    found = _writable_parent() if os.geteuid() == 0 else None
    if found is None:
        yield None
        return
    parent, kind = found
    directory = parent / f"{name}-{os.getpid()}"
    try:
        directory.mkdir()
    except OSError:
        yield None
        return
    try:
        quota = int(cores * PERIOD_US)
        if kind == "v2":
            (directory / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        else:
            (directory / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (directory / "cpu.cfs_quota_us").write_text(str(quota))
        procs = directory / "cgroup.procs"

        def join() -> None:
            procs.write_text(str(os.getpid()))

        yield join
    finally:
        # The processes are gone but the kernel may take a moment to say the cgroup is empty.
        for _ in range(50):
            try:
                directory.rmdir()
                break
            except OSError:
                time.sleep(0.1)
