"""Master, two workers and the target on four "hosts": network namespaces joined by a bridge.

The addresses (10.77.0.0/24) exist only inside namespaces this test creates (tests/distributed/
netns.py). Needs root (CI runs as root); skipped with the reason otherwise.
"""

from __future__ import annotations

import csv
import json

import pytest

from tests.distributed.netns import namespaces, netns_exec
from tests.distributed.servers import CountingServer

pytestmark = pytest.mark.timeout(180)

HOSTS = {"m": "10.77.0.1", "a": "10.77.0.2", "b": "10.77.0.3", "t": "10.77.0.4"}


def test_master_two_workers_and_target_on_separate_hosts(scenario, horde, tmp_path):
    with namespaces(HOSTS) as ns:
        netns = lambda host: netns_exec(ns[host])  # noqa: E731
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
