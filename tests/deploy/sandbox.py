"""A pod's sandbox for a local process: its network namespace, /etc/hosts, hostname and cgroup.

What a container runtime gives a pod's container, done in the child between fork and exec
(``preexec_fn``): it joins the pod's cgroup (its CPU limit), enters the pod's network namespace
(setns), and takes mount and UTS namespaces of its own, where the pod's hosts file is
bind-mounted over /etc/hosts (the cluster's DNS names) and the hostname is the pod's name.

Unlike ``ip netns exec``, /sys is left as it is, so the cgroup filesystem stays visible as in a
container: ``--processes auto`` reads the CPU quota there.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path

from tests.distributed.netns import NETNS_DIR

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000


def _check(result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def enter_pod(
    namespace: str, hosts_file: Path, hostname: str, join_cgroup: Callable[[], None] | None
) -> Callable[[], None]:
    """The ``preexec_fn`` that puts the new process in the pod's sandbox."""
    libc = ctypes.CDLL(None, use_errno=True)
    netns = str(NETNS_DIR / namespace)
    hosts, name = str(hosts_file).encode(), hostname.encode()

    def enter() -> None:
        if join_cgroup is not None:
            join_cgroup()
        fd = os.open(netns, os.O_RDONLY)
        try:
            _check(libc.setns(fd, CLONE_NEWNET))
        finally:
            os.close(fd)
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWUTS))
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None))
        _check(libc.mount(hosts, b"/etc/hosts", None, MS_BIND, None))
        _check(libc.sethostname(name, len(name)))

    return enter


def enter_network(namespace: str) -> Callable[[], None]:
    """The ``preexec_fn`` that only enters a pod's network namespace: what ``kubectl
    port-forward`` does (the runtime connects to the port on the pod's loopback)."""
    libc = ctypes.CDLL(None, use_errno=True)
    netns = str(NETNS_DIR / namespace)

    def enter() -> None:
        fd = os.open(netns, os.O_RDONLY)
        try:
            _check(libc.setns(fd, CLONE_NEWNET))
        finally:
            os.close(fd)

    return enter
