"""Thresholds: every form parses, bad ones are one-sentence errors, the exit code follows them."""

import json
import subprocess
import sys

import pytest

from horde.stats import RequestStats
from horde.thresholds import evaluate, parse_threshold

pytestmark = pytest.mark.timeout(90)


@pytest.mark.parametrize(
    ("text", "metric", "op", "limit", "method", "name"),
    [
        ("p95<300ms", "p95", "<", 300.0, None, None),
        ("p99.9 <= 1.5s", "p99.9", "<=", 1500.0, None, None),
        ("avg<20", "avg", "<", 20.0, None, None),
        ("fail_ratio<1%", "fail_ratio", "<", 0.01, None, None),
        ("fail_ratio<=0.05", "fail_ratio", "<=", 0.05, None, None),
        ("rps>=100", "rps", ">=", 100.0, None, None),
        ("requests>10", "requests", ">", 10.0, None, None),
        ("GET /pages/:p99<800ms", "p99", "<", 800.0, "GET", "/pages/"),
        ("/api/items/?page=2:max<1s", "max", "<", 1000.0, None, "/api/items/?page=2"),
        ("POST http://h:8000/x:med<5", "med", "<", 5.0, "POST", "http://h:8000/x"),
    ],
)
def test_forms(text, metric, op, limit, method, name):
    t = parse_threshold(text)
    assert (t.metric, t.op, t.limit, t.method, t.name) == (metric, op, limit, method, name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p95", "use e.g."),
        ("p95=300", "use e.g."),
        ("latency<3ms", "unknown metric"),
        ("p0<3ms", "between p0 and p100"),
        ("p95<3%", "is a time"),
        ("fail_ratio<3ms", "is a ratio"),
        ("rps>3s", "takes no unit"),
    ],
)
def test_bad_forms(text, message):
    with pytest.raises(ValueError, match=message):
        parse_threshold(text)


def test_evaluate_rows_and_verdicts():
    stats = RequestStats()
    for ms in range(1, 101):
        stats.record("GET", "/a", ms * 1000, 10)
    stats.record("POST", "/a", 500_000, 10, error="boom")
    verdicts = evaluate(
        [parse_threshold(t) for t in ("p50<60ms", "/a:max<200ms", "GET /b:p99<1s",
                                      "fail_ratio<1%")],
        stats,
    )  # fmt: skip
    by = {(v["threshold"], v["row"]): v for v in verdicts}
    assert by[("p50<60ms", "Aggregated")]["passed"]
    assert by[("/a:max<200ms", "GET /a")]["passed"]
    assert not by[("/a:max<200ms", "POST /a")]["passed"]  # 500 ms
    assert not by[("GET /b:p99<1s", "/b")]["passed"]  # no such request: fails, says why
    assert by[("fail_ratio<1%", "Aggregated")]["passed"]  # 1 failure in 101


def run(tmp_path, url, *thresholds, extra=()):
    (tmp_path / "s.py").write_text(
        "from horde import HttpUser, constant, task\n"
        "class U(HttpUser):\n"
        "    wait_time = constant(0.05)\n"
        "    @task\n"
        "    def t(self):\n"
        "        self.client.get('/')\n"
    )
    args = [a for t in thresholds for a in ("--threshold", t)]
    return subprocess.run(
        [sys.executable, "-m", "horde", "run", "s.py", "-H", url, "-u", "2", "-r", "10",
         "-t", "1s", "--headless", "--only-summary", "--json", "r.json", *args, *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_exit_code_follows_the_verdict(tmp_path, counting_target):
    passed = run(tmp_path, counting_target.url, "p99<5s", "fail_ratio<1%", "requests>5")
    assert passed.returncode == 0, passed.stderr
    assert "Thresholds" in passed.stdout and "FAIL" not in passed.stdout
    verdicts = json.loads((tmp_path / "r.json").read_text())["meta"]["thresholds"]
    assert [v["passed"] for v in verdicts] == [True, True, True]

    failed = run(tmp_path, counting_target.url, "p99<5s", "rps>1000000")
    assert failed.returncode == 1
    assert "FAIL" in failed.stdout
    verdicts = json.loads((tmp_path / "r.json").read_text())["meta"]["thresholds"]
    assert [v["passed"] for v in verdicts] == [True, False]


def test_a_bad_threshold_stops_before_any_load(tmp_path):
    result = run(tmp_path, "http://127.0.0.1:9", "p95<3%")
    assert result.returncode == 2
    assert "is a time" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "measured", "requests", "seconds", "broken"),
    [
        # Can never pass again: ends the run at once, however early.
        ("max<100ms", 150.0, 5, 1.0, True),
        ("failures<1", 1.0, 5, 1.0, True),
        ("min>5ms", 2.0, 5, 1.0, True),
        # Statistical: only by a wide margin, and only with enough behind it.
        ("p95<100ms", 250.0, 500, 20.0, True),
        ("p95<100ms", 150.0, 500, 20.0, False),  # failing, but not by 2x
        ("p95<100ms", 250.0, 50, 20.0, False),  # too few requests yet
        ("p95<100ms", 250.0, 500, 5.0, False),  # too early
        ("fail_ratio<1%", 0.05, 500, 20.0, True),
        # Can still come good, or is a rate: never early.
        ("requests>1000", 10.0, 500, 20.0, False),
        ("rps>100", 1.0, 500, 20.0, False),
    ],
)
def test_clearly_broken(text, measured, requests, seconds, broken):
    from horde.runner.threshold_watch import clearly_broken

    threshold = parse_threshold(text)
    verdict = {"measured": measured, "passed": False}
    assert clearly_broken(threshold, verdict, requests, seconds) is broken
    assert clearly_broken(threshold, {"measured": measured, "passed": True}, 10**6, 1e3) is False


def test_abort_on_threshold_ends_a_broken_run_early(tmp_path):
    # Nothing listens on port 9: every request fails, and failures<1 can never pass again.
    result = run(tmp_path, "http://127.0.0.1:9", "failures<1", extra=("-t", "60s",
                 "--abort-on-threshold"))  # fmt: skip
    assert result.returncode == 1, result.stderr
    meta = json.loads((tmp_path / "r.json").read_text())["meta"]
    assert meta["stop_reason"].startswith("threshold failures<1 clearly broken")
    assert meta["duration"] < 10
    assert [v["passed"] for v in meta["thresholds"]] == [False]
