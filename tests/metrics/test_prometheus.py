"""/metrics scraped during real runs against a real target: the counts are the server's.

Headless with --metrics-port, a master with two worker processes, and the web UI's own port
(behind its Host allowlist and --web-auth).
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.metrics.helpers import (
    PER_USER,
    metrics_url,
    requests_total,
    scrape,
    value,
    wait_until,
    write_scenario,
)
from tests.web.conftest import WebRun

USERS = 4


def _start(
    tmp_path, target_url: str, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    scenario = write_scenario(tmp_path)
    log = (tmp_path / "stderr.log").open("w")
    port = () if env and "HORDE_METRICS_PORT" in env else ("--metrics-port", "0")
    process = subprocess.Popen(
        [sys.executable, "-m", "horde", "run", str(scenario), "-H", target_url, "--headless",
         "-u", str(USERS), "-r", "100", "-t", "60s", *port, *args],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=log, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        url = wait_until(
            lambda: metrics_url((tmp_path / "stderr.log").read_text()) or process.poll(),
            what="the metrics URL",
        )
    except AssertionError:
        process.kill()
        raise
    assert isinstance(url, str), (tmp_path / "stderr.log").read_text()
    return process, url


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
    return process.returncode


def _quiescent(url: str, expected: int) -> dict[str, object]:
    """Scrape while the run goes on until every request has been counted; the last scrape."""
    last: dict[str, object] = {}

    def settled() -> bool:
        last.clear()
        last.update(scrape(url))
        return requests_total(last) >= expected

    wait_until(settled, what=f"{expected} requests in /metrics")
    return last


def _check_histograms(families: dict[str, object]) -> None:
    histogram = families["horde_response_time_seconds"]
    for name in {s.labels["name"] for s in histogram.samples}:
        buckets = [s.value for s in histogram.samples
                   if s.name.endswith("_bucket") and s.labels["name"] == name]  # fmt: skip
        assert buckets == sorted(buckets)  # cumulative
        count = value(families, "horde_response_time_seconds",
                      "horde_response_time_seconds_count", name=name)  # fmt: skip
        assert buckets[-1] == count == value(families, "horde_requests",
                                             "horde_requests_total", name=name)  # fmt: skip


def test_headless_metrics_port_counts_equal_the_servers(tmp_path, counting_target):
    process, url = _start(tmp_path, counting_target.url)
    try:
        during = scrape(url)  # while users start and make requests
        assert value(during, "horde_run_info", mode="headless") == 1
        families = _quiescent(url, USERS * PER_USER)
        assert requests_total(families) == counting_target.count() == USERS * PER_USER
        assert value(families, "horde_users") == USERS
        assert value(families, "horde_test_running") == 1
        assert value(families, "horde_requests", "horde_requests_total",
                     method="GET", name="/items/:id") == USERS * PER_USER  # fmt: skip
        assert value(families, "horde_request_failures", "horde_request_failures_total",
                     name="/items/:id") == 0  # fmt: skip
        _check_histograms(families)
        info = families["horde_run_info"].samples[0].labels
        assert info["mode"] == "headless" and info["host"] == counting_target.url
        # The self-check of the generator, once it has closed a second.
        later = wait_until(lambda: (f := scrape(url)) and "horde_generator_cpu_ratio" in f and f)
        assert 0 <= value(later, "horde_generator_cpu_ratio", process="local") < 2
        lags = [s for s in later["horde_generator_loop_lag_seconds"].samples]
        assert {s.labels["quantile"] for s in lags} == {"0.5", "0.99", "1"}
        assert value(later, "horde_generator_saturated", process="local") in (0, 1)
    finally:
        code = _stop(process)
    assert code == 0


def test_master_metrics_port_counts_every_workers_requests(tmp_path, counting_target):
    process, url = _start(tmp_path, counting_target.url, "--processes", "2")
    try:
        families = _quiescent(url, USERS * PER_USER)
        assert requests_total(families) == counting_target.count() == USERS * PER_USER
        _check_histograms(families)
        assert value(families, "horde_workers") == 2
        assert families["horde_run_info"].samples[0].labels["mode"] == "master"
        assert value(families, "horde_master_cpu_ratio") >= 0

        # Each worker's own CPU and lag, by worker id.
        def both_workers() -> dict[str, object] | None:
            found = scrape(url)
            cpu = found.get("horde_generator_cpu_ratio")
            return found if cpu is not None and len(cpu.samples) == 2 else None

        with_health = wait_until(both_workers, what="both workers' health")
        processes = {s.labels["process"] for s in with_health["horde_generator_cpu_ratio"].samples}
        assert "local" not in processes and len(processes) == 2
    finally:
        code = _stop(process)
    assert code == 0


def test_metrics_port_from_the_environment_is_the_masters_alone(tmp_path, counting_target):
    # HORDE_METRICS_PORT reaches the master; its local workers do not inherit it (they would
    # only say that a worker ignores it).
    env = {"HORDE_METRICS_PORT": "0"}
    process, url = _start(tmp_path, counting_target.url, "--processes", "2", env=env)
    try:
        families = _quiescent(url, USERS * PER_USER)
        assert value(families, "horde_workers") == 2
    finally:
        assert _stop(process) == 0
    assert "ignored on a worker" not in (tmp_path / "stderr.log").read_text()


def test_metrics_port_answers_only_metrics_and_only_to_allowed_hosts(tmp_path, counting_target):
    process, url = _start(tmp_path, counting_target.url)
    base = url.removesuffix("/metrics")
    try:
        rebound = urllib.request.Request(url, headers={"Host": "attacker.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebound, timeout=5)
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/stats/requests", timeout=5)
        assert missing.value.code == 404
        with pytest.raises(urllib.error.HTTPError) as post:
            urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=5)
        assert post.value.code == 405
        local = urllib.request.Request(url, headers={"Host": "localhost"})
        with urllib.request.urlopen(local, timeout=5) as response:
            assert response.status == 200
    finally:
        _stop(process)


def test_a_metrics_port_in_use_is_a_usage_error(tmp_path, counting_target):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        scenario = write_scenario(tmp_path)
        done = subprocess.run(
            [sys.executable, "-m", "horde", "run", str(scenario), "-H", counting_target.url,
             "--headless", "-t", "5s", "--metrics-port", str(port)],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2
    assert f"cannot serve metrics on 127.0.0.1:{port} (--metrics-port)" in done.stderr
    assert "Traceback" not in done.stderr
    assert counting_target.count() == 0  # no load before the port was bound


def _basic(user_password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user_password.encode()).decode()}


def test_web_ui_serves_metrics_on_its_port_with_exact_counts(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url, scenario=write_scenario(tmp_path).read_text())
    try:
        url = run.url + "/metrics"
        before = scrape(url)
        assert "horde_requests" in before and requests_total(before) == 0
        start = urllib.request.Request(
            run.url + "/swarm", data=f"user_count={USERS}&spawn_rate=100".encode(), method="POST"
        )
        with urllib.request.urlopen(start, timeout=5) as response:
            assert response.status == 200
        families = _quiescent(url, USERS * PER_USER)
        assert value(families, "horde_users") == USERS
        urllib.request.urlopen(urllib.request.Request(run.url + "/stop", method="POST"), timeout=10)
        stopped = wait_until(
            lambda: (f := scrape(url)) and value(f, "horde_test_running") == 0 and f
        )
        assert requests_total(stopped) == counting_target.count() == USERS * PER_USER
        assert value(stopped, "horde_users") == 0
        _check_histograms(stopped)
        assert stopped["horde_run_info"].samples[0].labels["mode"] == "web"
        rebound = urllib.request.Request(url, headers={"Host": "attacker.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebound, timeout=5)
        assert refused.value.code == 403
    finally:
        run.stop()


def test_web_ui_metrics_need_the_web_auth_password(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url, "--web-auth", "ops:s3cret")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(run.url + "/metrics", timeout=5)
        assert refused.value.code == 401
        families = scrape(run.url + "/metrics", _basic("ops:s3cret"))
        assert "horde_run_info" in families
    finally:
        run.stop()


ONE_REQUEST_SCENARIO = """
from horde import HttpUser, task

class Visitor(HttpUser):
    @task
    async def page(self):
        await self.client.get("/")
"""


def test_open_model_iterations_in_flight_and_dropped(tmp_path, queue_target):
    # A target that serves 20 requests a second, asked for 40 with one iteration at a time:
    # iterations wait for the slot (late), and those still waiting at the stop are dropped.
    target = queue_target(capacity=20)
    run = WebRun(tmp_path, target.url, scenario=ONE_REQUEST_SCENARIO)
    try:
        url = run.url + "/metrics"
        start = urllib.request.Request(
            run.url + "/swarm",
            data=b"load_model=arrival_rate&arrival_rate=40&max_concurrency=1",
            method="POST",
        )
        with urllib.request.urlopen(start, timeout=5) as response:
            assert response.status == 200
        running = wait_until(lambda: (f := scrape(url)) and requests_total(f) >= 40 and f)
        assert value(running, "horde_arrival_rate") == 40
        assert value(running, "horde_max_concurrency") == 1
        assert value(running, "horde_iterations_in_flight") in (0, 1)
        assert value(running, "horde_iterations_pending") >= 1
        assert value(running, "horde_iterations_late", "horde_iterations_late_total") > 0
        assert "horde_users" not in running  # iterations, not users, in the open model
        urllib.request.urlopen(urllib.request.Request(run.url + "/stop", method="POST"), timeout=10)
        stopped = wait_until(
            lambda: (f := scrape(url)) and value(f, "horde_test_running") == 0 and f
        )
        started = value(stopped, "horde_iterations_started", "horde_iterations_started_total")
        # One request an iteration: iterations started, requests counted and served agree.
        assert started == requests_total(stopped) == target.count()
        assert value(stopped, "horde_iterations_dropped", "horde_iterations_dropped_total") > 0
        assert value(stopped, "horde_iterations_in_flight") == 0
        assert stopped["horde_run_info"].samples[0].labels["load_model"] == "arrival_rate"
    finally:
        run.stop()
