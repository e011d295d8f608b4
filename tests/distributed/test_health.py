"""Workers' own health reaches the master: each worker samples its CPU and loop lag, sends the
seconds in its reports, and the master judges the generator (``meta.generator_health``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)

LIGHT = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.2)

    @task
    def home(self):
        self.client.get("/")
"""

CPU_HEAVY = """
from horde import HttpUser, constant, task

class Heavy(HttpUser):
    wait_time = constant(0)

    @task
    def work(self):
        total = 0
        for i in range(40000):
            total += i * i
        self.client.get("/")
"""


def run(tmp_path, scenario, target, *args, cpu=None):
    (tmp_path / "scenario.py").write_text(scenario)
    return subprocess.run(
        [sys.executable, "-m", "horde", "run", "scenario.py", "-H", target.url, "--headless",
         "--only-summary", "--processes", "2", "--json", "out.json", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=90,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
    )  # fmt: skip


def test_each_workers_health_is_carried_to_the_master(tmp_path, target):
    result = run(tmp_path, LIGHT, target, "-u", "6", "-r", "20", "-t", "6s")
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "out.json").read_text())["meta"]
    health = meta["generator_health"]
    worker_ids = {w["id"] for w in meta["workers"]}
    by_name = {p["name"]: p for p in health["processes"]}
    # One series per worker, named by its id, with the seconds of the test.
    assert set(by_name) == worker_ids and len(worker_ids) == 2
    for process in by_name.values():
        assert process["makes_load"] and process["seconds"] >= 4, process
        assert 0 < process["cpu_percent"]["max"] < 50, process
    assert health["sampled"] and health["saturated"] is False, health
    assert health["message"].endswith("(worst of 2 workers).")
    assert "Load generator: horde was not saturated" in result.stdout
    # The master's rows carry the worst worker's second, for the charts.
    rows = json.loads((tmp_path / "out.json").read_text())["history"]
    assert sum(r.get("generator_cpu") is not None for r in rows) >= 4


def test_workers_short_of_cpu_are_flagged_by_the_master(tmp_path, target):
    """Two CPU-heavy workers pinned to one core: each gets half of it and waits for the rest."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("pinning to one CPU needs os.sched_setaffinity (Linux)")
    cpu = min(os.sched_getaffinity(0))
    result = run(tmp_path, CPU_HEAVY, target, "-u", "10", "-r", "100", "-t", "8s", cpu=cpu)
    assert result.returncode == 0, result.stderr
    health = json.loads((tmp_path / "out.json").read_text())["meta"]["generator_health"]
    assert health["saturated"] is True, health
    assert len(health["processes_saturated"]) == 2
    assert health["worst_process"] in health["processes_saturated"]
    # Each used about half a core and waited for the other half.
    assert health["cpu_demand_max"] >= 90
    assert health["cpu_wait_percent"]["in_hot_seconds"] >= 25
    assert "waited for a CPU" in health["message"]
    # The master warned while it ran, naming the worker; the summary says it plainly.
    assert "worker " in result.stderr and "is saturated" in result.stderr
    assert "Load generator saturated: 2 of 2 workers" in result.stdout
