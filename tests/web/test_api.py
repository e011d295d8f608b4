"""Every endpoint of the web API, its input checks and its refusal of cross-site control."""

import base64
import csv
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .conftest import WebRun

pytestmark = pytest.mark.timeout(120)


def call(url, method="GET", data=None, headers=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def stats(run):
    return json.loads(call(run.url + "/stats/requests")[1])


def swarm(run, **fields):
    fields = {"user_count": "3", "spawn_rate": "50", **fields}
    return call(run.url + "/swarm", "POST", fields, {"X-Horde-Token": run.token})


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_page_holds_the_token_and_the_scenario_facts(web_run, counting_target):
    status, page, headers = call(web_run.url + "/")
    assert status == 200
    assert web_run.token in page
    assert counting_target.url in page  # host prefilled
    assert "Visitor" in page and "browse" in page
    assert headers["X-Frame-Options"] == "DENY"
    # The page holds the token: not cached, not leaked through Referer, no foreign code.
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_swarm_stats_reset_and_stop(web_run, counting_target):
    status, body, _ = swarm(web_run)
    assert status == 200 and json.loads(body)["success"]
    data = wait_for(lambda: (s := stats(web_run))["stats"][-1]["num_requests"] > 20 and s)
    assert data["user_count"] == 3
    assert data["state"] in ("spawning", "running")
    assert {"errors", "total_rps", "fail_ratio", "current_response_time_percentiles"} <= set(data)

    assert swarm(web_run, user_count="5")[0] == 200  # change users while running
    wait_for(lambda: stats(web_run)["user_count"] == 5)

    assert (
        call(web_run.url + "/stats/reset", "POST", {}, {"X-Horde-Token": web_run.token})[0] == 200
    )
    assert stats(web_run)["stats"][-1]["num_requests"] < 20
    wait_for(lambda: stats(web_run)["stats"][-1]["num_requests"] > 5)

    status, _, _ = call(web_run.url + "/stop", "POST", {}, {"X-Horde-Token": web_run.token})
    assert status == 200
    assert wait_for(lambda: stats(web_run)["state"] == "stopped")
    total = stats(web_run)["stats"][-1]["num_requests"]
    assert total > 0

    rows = list(csv.DictReader(io.StringIO(call(web_run.url + "/stats/requests/csv")[1])))
    assert rows[-1]["Name"] == "Aggregated"
    assert int(rows[-1]["Request Count"]) == total
    for path, first in (
        ("/stats/failures/csv", "Method,Name,Error,Occurrences"),
        ("/exceptions/csv", "Count,Message,Traceback,Nodes"),
        ("/stats/requests_full_history/csv", "Timestamp,User Count"),
    ):
        status, body, headers = call(web_run.url + path)
        assert status == 200 and body.startswith(first)
        assert "attachment" in headers["Content-Disposition"]
    history = json.loads(call(web_run.url + "/stats/history?since=0")[1])["rows"]
    assert history and {"rps", "p50", "p95", "p99", "user_count"} <= set(history[0])
    document = json.loads(call(web_run.url + "/stats/json")[1])
    assert document["total"]["num_requests"] == total
    status, report, _ = call(web_run.url + "/stats/report")
    assert status == 200 and "uPlot" in report and "Aggregated" in report


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"user_count": "-1"}, "user_count must be between"),
        ({"user_count": "many"}, "user_count must be a whole number"),
        ({"user_count": "2000000"}, "user_count must be between"),
        ({"spawn_rate": "0"}, "spawn_rate must be greater than 0"),
        ({"spawn_rate": "fast"}, "spawn_rate must be a number"),
        ({"host": "ftp://example.com"}, "invalid host"),
        ({"host": "javascript:alert(1)"}, "invalid host"),
        ({"run_time": "soon"}, "invalid duration"),
    ],
)
def test_bad_input_is_a_clear_400(web_run, fields, message):
    status, body, _ = swarm(web_run, **fields)
    assert status == 400
    answer = json.loads(body)
    assert answer["success"] is False
    assert message in answer["message"]


def test_run_time_stops_the_test(web_run):
    assert swarm(web_run, run_time="1s")[0] == 200
    assert wait_for(lambda: stats(web_run)["state"] == "stopped", timeout=8)


def test_every_documented_path_answers(web_run):
    document = json.loads(call(web_run.url + "/openapi.json")[1])
    assert document["openapi"].startswith("3.")
    browser_without_token = {"Origin": web_run.url, "Sec-Fetch-Site": "same-origin"}
    for path, operations in document["paths"].items():
        for method in operations:
            if method == "post":
                # Control endpoints: a browser request without the token is refused...
                status, _, _ = call(web_run.url + path, "POST", {}, browser_without_token)
                assert status == 403, (method, path, status)
                continue
            status, _, _ = call(web_run.url + path)
            assert status == 200, (method, path, status)
    # ...and a script's (no browser headers, over loopback) goes through.
    assert call(web_run.url + "/stats/reset", "POST", {})[0] == 200


def test_basic_auth_when_asked(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url, "--web-auth", "admin:s3cret")
    try:
        assert call(run.url + "/stats/requests")[0] == 401
        good = {"Authorization": "Basic " + base64.b64encode(b"admin:s3cret").decode()}
        bad = {"Authorization": "Basic " + base64.b64encode(b"admin:nope").decode()}
        assert call(run.url + "/stats/requests", headers=bad)[0] == 401
        assert call(run.url + "/stats/requests", headers=good)[0] == 200
    finally:
        run.stop()


def test_listening_beyond_loopback_needs_auth(tmp_path, counting_target):
    (tmp_path / "s.py").write_text(
        "from horde import HttpUser, task\nclass U(HttpUser):\n    @task\n    def t(self): pass\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "horde", "run", "s.py", "-H", counting_target.url,
         "--web-host", "0.0.0.0", "--web-port", "0"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--web-auth" in result.stderr
    assert "Traceback" not in result.stderr


def test_quitting_writes_the_files(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url, "--csv", "out/run", "--html", "out/report.html")
    run.load_token()
    swarm(run)
    wait_for(lambda: stats(run)["stats"][-1]["num_requests"] > 10)
    out, err = run.stop()
    assert run.process.returncode == 0, err
    assert "Summary" in out
    assert (tmp_path / "out" / "run_stats.csv").exists()
    assert "uPlot" in (tmp_path / "out" / "report.html").read_text()


def test_the_open_model_and_stages_from_the_api(web_run, counting_target):
    # Open model: a rate, re-targeted while it runs; the counters are in /stats/requests.
    status, body, _ = swarm(web_run, load_model="arrival_rate", arrival_rate="40/s")
    assert status == 200, body
    data = wait_for(lambda: (s := stats(web_run))["total_rps"] > 0 and s)
    assert data["load_model"] == "arrival_rate"
    assert data["arrival_rate"] == pytest.approx(40)
    status, body, _ = swarm(web_run, load_model="users")
    assert status == 400 and "stop the running test" in body
    assert swarm(web_run, load_model="arrival_rate", arrival_rate="80")[0] == 200
    assert stats(web_run)["arrival_rate"] == pytest.approx(80)
    assert call(web_run.url + "/stop", "POST", {}, {"X-Horde-Token": web_run.token})[0] == 200
    results = json.loads(call(web_run.url + "/stats/json")[1])
    assert results["meta"]["load_model"] == "arrival rate 80/s"
    assert results["total"]["num_requests"] > 0

    # Stages: the test ends by itself after the last stage, and the UI stays up.
    status, body, _ = swarm(web_run, load_model="stages", stages="1s:4,1s:4")
    assert status == 200, body
    assert stats(web_run)["load_model"] == "stages"
    status, body, _ = swarm(web_run, user_count="9")
    assert status == 400 and "follows stages" in body
    wait_for(lambda: stats(web_run)["state"] == "stopped", timeout=10)
    rows = json.loads(call(web_run.url + "/stats/history")[1])["rows"]
    assert {r["target"] for r in rows} & {2.0, 4.0}
    assert max(r["user_count"] for r in rows) == 4
    assert web_run.process.poll() is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"load_model": "bursty"}, "load_model must be one of"),
        ({"load_model": "arrival_rate", "arrival_rate": "lots"}, "invalid arrival rate"),
        ({"load_model": "stages", "stages": "1s:4,2s"}, "invalid stage"),
        (
            {"load_model": "arrival_rate", "arrival_rate": "5", "max_concurrency": "0"},
            "max_concurrency must be between",
        ),
    ],
)
def test_bad_load_model_input_is_a_clear_400(web_run, fields, message):
    status, body, _ = swarm(web_run, **fields)
    assert status == 400
    assert message in json.loads(body)["message"]


def test_capacity_search_from_the_api(tmp_path, queue_target):
    server = queue_target(capacity=100)
    run = WebRun(tmp_path, server.url)
    try:
        run.load_token()
        status, body, _ = swarm(
            run, load_model="capacity", slo="p95<100ms", capacity_start="40/s",
            step_time="1s", settle_time="0.5s",
        )  # fmt: skip
        assert status == 200, body
        live = wait_for(lambda: stats(run).get("capacity"))
        assert live["reason"] == "running"
        status, body, _ = swarm(run, load_model="users")
        assert status == 400 and "capacity search is running" in body
        wait_for(lambda: stats(run)["state"] == "stopped", timeout=90)
        found = stats(run)["capacity"]
        assert found["max_load"] == pytest.approx(100, rel=0.15)
        assert found["reason"] == "refined to the precision asked for"
        results = json.loads(call(run.url + "/stats/json")[1])
        assert results["meta"]["capacity"]["max_load"] == found["max_load"]
        report = call(run.url + "/stats/report")[1]
        assert 'id="capacity-table"' in report
        # The history keeps the search as a capacity run, its result with it (the result
        # was once recorded only after the save).
        saved = json.loads(call(run.url + "/history/runs")[1])["runs"][0]
        assert saved["mode"] == "capacity", saved
        document = json.loads(call(run.url + f"/history/runs/{saved['id']}")[1])["document"]
        assert document["meta"]["capacity"]["max_load"] == found["max_load"]
    finally:
        run.stop()


def test_a_capacity_search_stopped_from_the_ui_keeps_its_steps(tmp_path, queue_target):
    server = queue_target()
    run = WebRun(tmp_path, server.url)
    try:
        run.load_token()
        assert swarm(run, load_model="capacity", slo="p95<1s", capacity_start="5",
                     step_time="1s", settle_time="0.2s")[0] == 200  # fmt: skip
        wait_for(lambda: len(stats(run).get("capacity", {}).get("steps", [])) >= 2, timeout=30)
        assert call(run.url + "/stop", "POST", {}, {"X-Horde-Token": run.token})[0] == 200
        data = stats(run)
        assert data["state"] == "stopped"
        assert data["capacity"]["reason"] == "stopped before the end"
        assert data["capacity"]["model"] == "users"
        assert len(data["capacity"]["steps"]) >= 2
    finally:
        run.stop()


def test_a_second_ctrl_c_ends_a_stop_held_up_by_a_stalled_server(tmp_path, queue_target):
    stalled = queue_target()
    run = WebRun(tmp_path, stalled.url, "--stop-timeout", "60", "--json", "run.json")
    try:
        run.load_token()
        assert swarm(run)[0] == 200
        wait_for(lambda: stats(run)["user_count"] == 3)
        stalled.get("/__stall?ms=30000")
        time.sleep(0.5)
        run.process.send_signal(2)
        time.sleep(1.0)
        assert run.process.poll() is None  # the first Ctrl-C waits for the tasks
        second = time.monotonic()
        run.process.send_signal(2)
        _out, err = run.process.communicate(timeout=40)
        assert time.monotonic() - second < 8, "the second Ctrl-C did not cut the stop short"
        assert "Traceback" not in err
        assert json.loads((tmp_path / "run.json").read_text())["total"]["num_failures"] > 0
    finally:
        run.stop()
