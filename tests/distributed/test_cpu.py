"""Worker CPU figures (issue 12, item 11): each covers at least a second, so a report sent a
millisecond after the previous one (a ramp complete, a stop) no longer divides a burst by
nothing; a lightly loaded worker reads a few percent and draws no "add workers" warning (a
machine busy with other work may still make it wait for a CPU, which is said as such)."""

from __future__ import annotations

import json
import time

import pytest

from horde.runner.cpu import CpuMeter

pytestmark = pytest.mark.timeout(90)

LIGHT = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.5)

    @task
    def home(self):
        self.client.get("/")
"""


def burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_reading_right_after_another_repeats_the_last_whole_window():
    meter = CpuMeter()
    time.sleep(1.0)
    burn(0.03)
    first = meter.percent()  # a second and a bit, 30 ms of it on the CPU
    assert 1 <= first <= 10
    burn(0.005)
    # 5 ms of CPU since the last reading, a few ms ago: that is no measure of anything.
    assert meter.percent() == first


def test_a_lightly_loaded_distributed_run_reports_plausible_worker_cpu(tmp_path, target, horde):
    (tmp_path / "light.py").write_text(LIGHT)
    run = horde(
        "light.py", "-H", target.url, "-u", "10", "-r", "20", "-t", "5s", "--headless",
        "--only-summary", "--processes", "2", "--json", "run.json", name="master",
    )  # fmt: skip
    run.process.communicate(timeout=60)
    assert run.process.returncode == 0, run.stderr()
    assert "spread the load" not in run.stderr()  # no "worker ... saturated ... add workers"
    workers = json.loads((tmp_path / "run.json").read_text())["meta"]["workers"]
    assert len(workers) == 2
    for worker in workers:
        # 5 users at 2 requests a second each: a few percent of a core, on a busy machine.
        assert 0 < worker["peak_cpu_percent"] < 40, workers
