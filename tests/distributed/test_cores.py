"""``--processes auto`` counts the cores this process may use: a container's CPU limit.

The first tests lay out /proc/self and /sys/fs/cgroup as the kernel shows them inside and
outside containers (files in a temporary root); the last one runs horde in a real cgroup with a
CPU quota (root only).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from horde.distributed.cores import available_cores, cgroup_cpu_quota
from tests.distributed.cgroups import cpu_limited

V2_MOUNT = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_v2_container_sees_its_own_limit_at_the_root(tmp_path):
    # A pod with limits.cpu 2500m under containerd: a cgroup namespace of its own.
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/\n",
            "proc/self/mountinfo": V2_MOUNT,
            "sys/fs/cgroup/cpu.max": "250000 100000\n",
        },
    )
    assert cgroup_cpu_quota(root) == 2.5
    assert available_cores(root) == min(2, len(os.sched_getaffinity(0)))


def test_v2_host_view_takes_the_tightest_ancestor(tmp_path):
    pod = "kubepods.slice/kubepods-pod1.slice"
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": f"0::/{pod}/cri-containerd-abc.scope\n",
            "proc/self/mountinfo": V2_MOUNT,
            "sys/fs/cgroup/kubepods.slice/cpu.max": "max 100000\n",
            f"sys/fs/cgroup/{pod}/cpu.max": "100000 100000\n",
            f"sys/fs/cgroup/{pod}/cri-containerd-abc.scope/cpu.max": "400000 100000\n",
        },
    )
    assert cgroup_cpu_quota(root) == 1.0
    assert available_cores(root) == 1


def test_v1_container_without_a_cgroup_namespace(tmp_path):
    # Docker on cgroup v1: /proc/self/cgroup names the host's path, the mount is that cgroup.
    mounts = (
        "30 24 0:27 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup "
        "rw,cpu,cpuacct\n"
        "31 24 0:28 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
    )
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
            "proc/self/mountinfo": mounts,
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "150000\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        },
    )
    assert cgroup_cpu_quota(root) == 1.5
    assert available_cores(root) == 1  # rounded down: half a core would be throttled


def test_no_quota_is_the_affinity(tmp_path):
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/user.slice\n",
            "proc/self/mountinfo": V2_MOUNT,
            "sys/fs/cgroup/user.slice/cpu.max": "max 100000\n",
        },
    )
    assert cgroup_cpu_quota(root) is None
    assert available_cores(root) == len(os.sched_getaffinity(0))
    assert cgroup_cpu_quota(tmp_path / "nothing-here") is None


def _auto_in(preexec) -> int:
    code = "from horde.distributed.config import parse_processes; print(parse_processes('auto'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        preexec_fn=preexec,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def test_auto_in_a_cgroup_limited_to_one_cpu():
    with cpu_limited("horde-cores", 1.0) as join:
        if join is None:
            pytest.skip("needs root and a writable cgroup hierarchy with the cpu controller")
        assert _auto_in(join) == 1
    with cpu_limited("horde-cores", 1.0 * len(os.sched_getaffinity(0)) + 4) as join:
        assert join is not None
        assert _auto_in(join) == len(os.sched_getaffinity(0))
