"""Master, two workers and the target on four "hosts": network namespaces joined by a bridge.

The addresses (10.77.0.0/24) exist only on veth pairs inside namespaces this test creates, and
the bridge lives in a namespace of its own, so no traffic leaves them. Needs root (CI runs as
root); skipped with the reason otherwise. Namespaces are deleted afterwards, even on failure.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.distributed.servers import CountingServer

pytestmark = pytest.mark.timeout(180)

HOSTS = {"m": "10.77.0.1", "a": "10.77.0.2", "b": "10.77.0.3", "t": "10.77.0.4"}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def namespaces() -> Iterator[dict[str, str]]:
    """Create the hosts and the switch; yields ``{host: namespace}``; always cleans up."""
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root (CI runs as root)")
    if shutil.which("ip") is None:
        pytest.skip("the 'ip' command (iproute2) is not installed")
    prefix = f"hd{os.getpid() % 100000}"
    names = {h: f"{prefix}{h}" for h in [*HOSTS, "s"]}
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
        for host, address in HOSTS.items():
            ns, inner, outer = names[host], f"{prefix}{host}0", f"{prefix}{host}1"
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
        yield {h: names[h] for h in HOSTS}
    finally:
        for ns in reversed(created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_master_two_workers_and_target_on_separate_hosts(scenario, horde, tmp_path):
    with namespaces() as ns:
        netns = lambda host: ["ip", "netns", "exec", ns[host]]  # noqa: E731
        target = CountingServer(HOSTS["t"], 8080, prefix=netns("t"))
        try:
            secret = {"HORDE_SECRET": "multi-host secret"}
            master = horde(
                str(scenario),
                "-H",
                target.url,
                "-u",
                "6",
                "-r",
                "50",
                "-t",
                "4s",
                "--headless",
                "--master",
                "--master-bind-host",
                HOSTS["m"],
                "--expect-workers",
                "2",
                "--expect-workers-max-wait",
                "60s",
                "--csv",
                "run",
                "--json",
                "run.json",
                env=secret,
                prefix=netns("m"),
                name="master",
            )
            workers = [
                horde(
                    str(scenario),
                    "--worker",
                    "--master-host",
                    HOSTS["m"],
                    env=secret,
                    prefix=netns(h),
                    name=f"worker-{h}",
                )
                for h in ("a", "b")
            ]
            code = master.finish(timeout=90)
            failures = [tmp_path / f"run_{kind}.csv" for kind in ("failures", "exceptions")]
            assert code == 0, [p.read_text() for p in failures if p.exists()] + [master.stderr()]
            assert all(w.finish(timeout=30) == 0 for w in workers)
            served = target.stop()
        finally:
            target.kill()
    rows = list(csv.DictReader((tmp_path / "run_stats.csv").read_text().splitlines()))
    total = int(rows[-1]["Request Count"])
    assert total == served > 50
    document = json.loads((tmp_path / "run.json").read_text())
    workers_info = document.get("meta", document)["workers"]
    assert [w["num_requests"] > 0 for w in workers_info] == [True, True]
