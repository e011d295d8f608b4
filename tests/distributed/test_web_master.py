"""The web UI driving a master with local worker processes, as it drives one process."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.parse
import urllib.request

import pytest

from tests.distributed.dist_helpers import free_port

pytestmark = pytest.mark.timeout(180)


def call(url: str, data: dict | None = None, token: str = "") -> str:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    headers = {"X-Horde-Token": token} if token else {}
    request = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_web_ui_starts_and_stops_a_distributed_run(scenario, target, horde, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run = horde(
        str(scenario), "-H", target.url, "--web-port", str(port), "--processes", "2",
        "--json", "run.json", "-L", "INFO",
    )  # fmt: skip
    page = wait_for(lambda: call(url + "/"))
    token = re.search(r'name="horde-token" content="([^"]+)"', page).group(1)
    run.wait_for("joined", count=2)
    call(url + "/swarm", {"user_count": "4", "spawn_rate": "50"}, token)
    stats = lambda: json.loads(call(url + "/stats/requests"))  # noqa: E731
    wait_for(lambda: stats()["state"] == "running" and stats()["user_count"] == 4)
    time.sleep(1.5)
    live = stats()
    assert live["worker_count"] == 2
    assert sorted(w["user_count"] for w in live["workers"]) == [2, 2]
    assert all(w["state"] == "running" and "cpu_usage" in w for w in live["workers"])
    call(url + "/stop", {}, token)
    wait_for(lambda: stats()["state"] == "stopped")
    run.process.send_signal(signal.SIGINT)
    assert run.finish(timeout=30) == 0, run.stderr()
    document = json.loads((tmp_path / "run.json").read_text())
    assert len(document["meta"]["workers"]) == 2
    assert document["total"]["num_requests"] == target.stop() > 0


def test_web_ui_runs_the_open_model_over_workers(scenario, target, horde, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run = horde(
        str(scenario), "-H", target.url, "--web-port", str(port), "--processes", "2",
        "--json", "run.json", "-L", "INFO",
    )  # fmt: skip
    page = wait_for(lambda: call(url + "/"))
    token = re.search(r'name="horde-token" content="([^"]+)"', page).group(1)
    run.wait_for("joined", count=2)
    call(url + "/swarm", {"load_model": "arrival_rate", "arrival_rate": "60/s"}, token)
    stats = lambda: json.loads(call(url + "/stats/requests"))  # noqa: E731
    wait_for(lambda: stats()["state"] == "running")
    live = wait_for(lambda: (s := stats())["total_rps"] > 0 and s)
    assert live["load_model"] == "arrival_rate"
    assert live["arrival_rate"] == pytest.approx(60)
    time.sleep(3)
    call(url + "/stop", {}, token)
    wait_for(lambda: stats()["state"] == "stopped")
    run.process.send_signal(signal.SIGINT)
    assert run.finish(timeout=30) == 0, run.stderr()
    document = json.loads((tmp_path / "run.json").read_text())
    open_model = document["meta"]["open_model"]
    assert open_model["workers"] == 2
    assert open_model["started_iterations"] > 100
    assert document["total"]["num_requests"] == target.stop() > 0
    assert all(w["num_requests"] > 0 for w in document["meta"]["workers"])
