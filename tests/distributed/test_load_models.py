"""The open model, stages and the capacity search across worker processes (``--processes``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(180)

SCENARIO = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.1)

    @task
    def index(self):
        self.client.get("/")
"""


def horde(tmp_path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    (tmp_path / "scenario.py").write_text(SCENARIO)
    return subprocess.run(
        [sys.executable, "-m", "horde", *args], cwd=tmp_path, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def test_arrival_rate_is_shared_by_workers_and_counted_exactly(tmp_path, queue_target):
    server = queue_target()
    result = horde(
        tmp_path, "run", "scenario.py", "-H", server.url, "--arrival-rate", "200/s", "-t", "4s",
        "--headless", "--only-summary", "--processes", "2", "--json", "out.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    open_model = data["meta"]["open_model"]
    assert open_model["achieved_rate"] == pytest.approx(200, rel=0.02)
    assert open_model["dropped_iterations"] == 0
    assert data["total"]["num_requests"] == server.count()
    # An iteration started just as the test stopped is told to stop at its request: none sent.
    assert 0 <= open_model["started_iterations"] - data["total"]["num_requests"] <= 4
    assert open_model["service_time"]["total"]["num_requests"] == data["total"]["num_requests"]
    workers = data["meta"]["workers"]
    assert len(workers) == 2 and all(w["num_requests"] > 300 for w in workers)


def test_stages_drive_workers_in_the_closed_model(tmp_path, queue_target):
    server = queue_target()
    result = horde(
        tmp_path, "run", "scenario.py", "-H", server.url, "--stages", "2s:6,2s:6",
        "--headless", "--only-summary", "--processes", "2", "--json", "out.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["meta"]["stop_reason"] == "the load shape ended"
    assert max(r["user_count"] for r in data["history"]) == 6
    assert 6.0 in {r.get("target") for r in data["history"]}
    assert data["total"]["num_requests"] == server.count()


def test_capacity_search_with_worker_processes(tmp_path, queue_target):
    capacity = 240
    server = queue_target(capacity=capacity)
    result = horde(
        tmp_path, "capacity", "scenario.py", "-H", server.url, "--slo", "p95<100ms",
        "--arrival-rate", "80/s", "--step-time", "2s", "--settle-time", "1s",
        "--precision", "8%", "--processes", "2", "--only-summary", "--json", "out.json",
        timeout=170,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "out.json").read_text())["meta"]["capacity"]
    assert found["max_load"] == pytest.approx(capacity, rel=0.10)
    assert "Workers" in result.stdout
