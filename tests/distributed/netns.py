"""Hosts for tests: network namespaces joined by a bridge.

The addresses exist only on veth pairs inside namespaces a test creates, and the bridge lives in
a namespace of its own, so no traffic leaves them. Needs root (CI runs as root); a test is
skipped with the reason otherwise. Namespaces are deleted afterwards, even on failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

# Where `ip netns add NAME` keeps the namespace (a file to open for setns(2)).
NETNS_DIR = Path("/run/netns")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def require_namespaces() -> None:
    """Skip the calling test, with the reason, where network namespaces cannot be made."""
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root (CI runs as root)")
    if shutil.which("ip") is None:
        pytest.skip("the 'ip' command (iproute2) is not installed")


@contextlib.contextmanager
def namespaces(hosts: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """One namespace per ``{host: address}`` (a /24 on one bridge); yields ``{host: namespace}``.

    Everything is removed on exit.
    """
    require_namespaces()
    prefix = f"hd{os.getpid() % 100000}"
    names = {h: f"{prefix}{h}" for h in [*hosts, "s"]}
    created: list[str] = []
    try:
        for ns in names.values():
            try:
                _ip("netns", "add", ns)
            except subprocess.CalledProcessError as exc:
                pytest.skip(f"'ip netns add' is not permitted here: {exc.stderr.strip()}")
            created.append(ns)
        switch = names["s"]
        _ip("-n", switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", switch, "link", "set", "br0", "up")
        for index, (host, address) in enumerate(hosts.items()):
            ns, inner, outer = names[host], f"{prefix}i{index}", f"{prefix}o{index}"
            _ip(
                "link",
                "add",
                inner,
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                outer,
                "netns",
                switch,
            )
            _ip("-n", switch, "link", "set", outer, "master", "br0")
            _ip("-n", switch, "link", "set", outer, "up")
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", inner)
            _ip("-n", ns, "link", "set", inner, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield {h: names[h] for h in hosts}
    finally:
        for ns in reversed(created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def netns_exec(namespace: str) -> list[str]:
    """The command prefix that runs a program in ``namespace``."""
    return ["ip", "netns", "exec", namespace]
