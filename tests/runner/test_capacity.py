"""The capacity search finds a known capacity: a server that serves at most N requests/s."""

import json
import subprocess
import sys

import pytest
import uvloop

from horde import HttpUser, task
from horde.runner.capacity import (
    CapacityResult,
    CapacitySearch,
    CapacitySettings,
    Step,
    parse_slo,
)
from horde.runner.environment import Environment
from horde.runner.local import LocalRunner
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(180)

SCENARIO = """
from horde import HttpUser, task

class Visitor(HttpUser):
    @task
    def index(self):
        self.client.get("/")
"""


def test_open_model_search_finds_the_capacity_within_ten_percent(tmp_path, queue_target):
    capacity = 300
    server = queue_target(capacity=capacity)
    (tmp_path / "scenario.py").write_text(SCENARIO)
    result = subprocess.run(
        [sys.executable, "-m", "horde", "capacity", "scenario.py", "-H", server.url,
         "--slo", "p95<100ms,fail_ratio<1%", "--arrival-rate", "80/s", "--step-time", "2s",
         "--settle-time", "1s", "--precision", "5%", "--only-summary",
         "--json", "out.json", "--html", "out.html"],
        cwd=tmp_path, capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "out.json").read_text())["meta"]["capacity"]
    assert found["model"] == "arrival_rate"
    assert found["max_load"] == pytest.approx(capacity, rel=0.10)
    assert found["max_rps"] == pytest.approx(capacity, rel=0.10)
    assert found["knee_load"] > found["max_load"]
    # The ramp stopped only once the SLO broke twice at the same load.
    phases = [s["phase"] for s in found["steps"]]
    assert "confirm" in phases
    confirm = phases.index("confirm")
    assert found["steps"][confirm]["load"] == found["steps"][confirm - 1]["load"]
    assert not found["steps"][confirm - 1]["passed"]
    assert "capacity:" in result.stdout and "Capacity search" in result.stdout
    report = (tmp_path / "out.html").read_text()
    assert 'id="capacity-table"' in report and found["headline"] in report
    # The Universal Scalability Law, fitted to the steps: a FIFO server of fixed capacity is
    # pure contention, levelling off at that capacity (N is requests in flight, by Little's law).
    usl = found["usl"]
    assert usl["concurrency"] == "requests in flight"
    assert usl["limit"] == "contention" and usl["kappa"] == 0
    assert usl["peak_throughput"] == pytest.approx(capacity, rel=0.15)
    assert usl["points"] == len(found["steps"])
    assert all(s["concurrency"] > 0 for s in found["steps"])
    assert usl["reading"].startswith("Throughput levels off towards")
    assert "Scalability (Universal Scalability Law over" in result.stdout
    assert 'id="usl-chart"' in report and 'id="usl-reading"' in report
    assert "horde itself" not in result.stdout  # the generator kept up throughout


def run_usl_search(tmp_path, target, *, step_time="3s", settle_time="1s"):
    """A closed-model search over a system that scales by the USL: from 3 users, x1.5 per step,
    to 48 (past the peak, at about 22 users), under an SLO that holds all the way (p95 at 48
    users is about 400 ms), so that every step is one the fit can use."""
    (tmp_path / "scenario.py").write_text(SCENARIO)
    return subprocess.run(
        [sys.executable, "-m", "horde", "capacity", "scenario.py", "-H", target.url,
         "--slo", "p95<2s,fail_ratio<1%", "-u", "3", "--max-load", "48", "--step-time", step_time,
         "--settle-time", settle_time, "--only-summary", "--json", "out.json",
         "--html", "out.html"],
        cwd=tmp_path, capture_output=True, text=True, timeout=170,
    )  # fmt: skip


def test_the_search_fits_the_scalability_law_of_a_real_server_and_reads_it(tmp_path, usl_target):
    """End to end, through sockets: the fit finds the server's peak and says why in words, in the
    JSON, the console and the report."""
    import html
    import math

    lam, sigma, kappa = usl_target.system
    true_peak = math.sqrt((1 - sigma) / kappa)  # 21.8 users
    true_top = lam * true_peak / (1 + sigma * (true_peak - 1) + kappa * true_peak * (true_peak - 1))
    result = run_usl_search(tmp_path, usl_target)
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "out.json").read_text())["meta"]["capacity"]
    assert found["model"] == "users" and found["reason"] == "max load reached"
    assert [s["load"] for s in found["steps"]] == [3, 4, 6, 9, 14, 21, 32, 48]
    usl = found["usl"]
    assert "error" not in usl, usl
    assert usl["concurrency"] == "users" and usl["points"] == 8
    assert usl["limit"] == "coherency", usl
    # Looser than the fit's own test (tests/runner/test_usl.py: within 10%), since this machine
    # is shared: a busy CPU delays the server's timers and horde's reads alike, which bends
    # the measured curve (on a quiet machine the fit lands within 2% of the peak).
    assert usl["peak_load"] == pytest.approx(true_peak, rel=0.25)
    assert usl["peak_throughput"] == pytest.approx(true_top, rel=0.15)
    assert 0 < usl["sigma"] < 0.2 and usl["kappa"] == pytest.approx(kappa, rel=0.5)
    assert usl["r_squared"] > 0.9
    # The fitted curve, for the chart: over the measured loads, peaking where the fit does.
    curve = usl["curve"]
    assert curve[0] == [0, 0] and curve[-1][0] >= 48
    top = max(curve, key=lambda point: point[1])
    assert top[0] == pytest.approx(usl["peak_load"], abs=1.0)
    # The reading, in words: where, how much, and why. Users are not a rate: no Little's law.
    reading = usl["reading"]
    assert reading.startswith(f"Throughput stops growing at about {usl['peak_load']:.3g} users, ")
    assert f"at {usl['peak_throughput']:,.0f} requests/s, because of coherency" in reading
    assert "before that, contention" in reading
    assert "Little's law" not in reading and "iterations/s" not in reading
    assert "extrapolation" not in reading  # the peak lies within the loads measured
    # The console says it under the steps, and the report shows it beside the chart's data.
    assert "Scalability (Universal Scalability Law over 8 steps, N in users)" in result.stdout
    assert "Throughput stops growing at about" in result.stdout
    report = (tmp_path / "out.html").read_text()
    assert html.escape(reading) in report
    assert 'id="usl-chart"' in report and 'id="usl-table"' in report
    assert "N* (peak, in users)" in report
    assert '"curve": [[0' in report  # the fit's points, drawn by the report's script


def test_a_reading_of_the_closed_model_never_converts_users_into_a_rate():
    """Regression: the reading once turned N users into "iterations/s by Little's law", a rate
    that means nothing in the closed model."""
    steps = [
        Step(index=i, phase="ramp", load=n, passed=True, seconds=3, requests=100, failures=0,
             rps=x, fail_ratio=0, p50=1, p95=1, p99=1, avg=1, in_flight=int(n), concurrency=n)
        for i, (n, x) in enumerate([(3, 52), (4, 65), (6, 88), (9, 116), (14, 138), (21, 147),
                                    (32, 141), (48, 122)])
    ]  # fmt: skip
    result = CapacityResult("users", ["p95<2s"], steps, "max load reached")
    reading = result.usl_dict()["reading"]
    assert reading.startswith("Throughput stops growing at about 22")
    assert "Little's law" not in reading and "iterations/s" not in reading
    assert result.requests_per_iteration() is None
    # The open model's reading still gives the offered rate that brings the peak about.
    open_result = CapacityResult("arrival_rate", ["p95<2s"], steps, "max load reached")
    assert "requests in flight (by Little's law; about" in open_result.usl_dict()["reading"]


class Visitor(HttpUser):
    @task
    async def index(self):
        await self.client.get("/")


def test_closed_model_search_finds_the_users_the_slo_allows(queue_target):
    """Users without waits against a FIFO server of 400 requests/s: each request waits for the
    requests of all N users, N x 2.5 ms; p95 < 50 ms allows 20 users at most."""
    server = queue_target(capacity=400)

    async def search() -> CapacityResult:
        env = Environment(user_classes=[Visitor], host=server.url, stats=RequestStats())
        runner = LocalRunner(env)
        settings = CapacitySettings(
            model="users", start=4, step_time=1.5, settle_time=0.5, spawn_rate=1000
        )
        result = await CapacitySearch(env, runner, parse_slo("p95<50ms"), settings).run()
        await runner.stop()
        return result

    result = uvloop.run(search())
    assert result.best is not None
    assert result.best.load == pytest.approx(20, rel=0.10)
    assert result.best.rps == pytest.approx(400, rel=0.05)
    assert result.reason in ("refined to the precision asked for", "refined to a single user")


def test_search_with_an_unreachable_slo_reports_no_capacity(tmp_path, queue_target):
    server = queue_target(capacity=100)
    (tmp_path / "scenario.py").write_text(SCENARIO)
    result = subprocess.run(
        [sys.executable, "-m", "horde", "capacity", "scenario.py", "-H", server.url,
         "--slo", "p50<0.001ms", "--arrival-rate", "20/s", "--step-time", "1s",
         "--settle-time", "0.5s", "--only-summary"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "no load met the SLO" in result.stdout


def test_capacity_usage_errors(tmp_path):
    (tmp_path / "scenario.py").write_text(SCENARIO)
    for args, words in (
        ([], "needs --slo"),
        (["--slo", "p95<fast"], "invalid threshold"),
        (["--slo", "p95<1s", "--growth", "1"], "--growth must be greater than 1"),
        (["--slo", "p95<1s", "--precision", "150%"], "between 0 and 100%"),
        (["--slo", "p95<1s", "--stages", "1s:5"], "drop --stages"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "horde", "capacity", "scenario.py", "-H", "http://127.0.0.1:9",
             *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_window_stats_count_only_the_requests_after_the_snapshot():
    stats = RequestStats()
    for ms in (1, 2, 3):
        stats.record("GET", "/", ms * 1000, 10)
    snapshot = stats.snapshot()
    for ms in (100, 200):
        stats.record("GET", "/", ms * 1000, 10, error="boom")
    window = stats.since(snapshot)
    assert window.total.num_requests == 2
    assert window.total.num_failures == 2
    assert window.entry("GET", "/").median_response_time == pytest.approx(100, rel=0.01)
    assert sum(e.occurrences for e in window.errors.values()) == 2
    assert stats.total.num_requests == 5


# Each iteration computes for a few milliseconds: 30 iterations/s take a sixth of a core, 240/s
# more than one core. The target is fast and the SLO loose: only horde can run out.
CPU_HEAVY = """
from horde import HttpUser, task

class Heavy(HttpUser):
    @task
    def work(self):
        total = 0
        for i in range(150000):
            total += i * i
        self.client.get("/")
"""


def test_a_step_horde_itself_could_not_keep_up_with_is_never_the_capacity(
    tmp_path, counting_target
):
    import os

    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("pinning to one CPU needs os.sched_setaffinity (Linux)")
    cpu = min(os.sched_getaffinity(0))
    (tmp_path / "scenario.py").write_text(CPU_HEAVY)
    result = subprocess.run(
        [sys.executable, "-m", "horde", "capacity", "scenario.py", "-H", counting_target.url,
         "--slo", "p95<2s,fail_ratio<1%", "--arrival-rate", "15/s", "--growth", "2",
         "--step-time", "3s", "--settle-time", "1s", "--max-steps", "8", "--only-summary",
         "--json", "out.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=170,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )  # fmt: skip
    found = json.loads((tmp_path / "out.json").read_text())["meta"]["capacity"]
    steps = found["steps"]
    limited = [s for s in steps if s["generator_limited"]]
    assert len(limited) == 1 and limited[0] is steps[-1], steps
    assert limited[0]["generator"]["cpu_bound"], limited[0]["generator"]
    # The search stopped there: no confirmation, no refinement, and no false knee.
    assert found["generator_limited"] is True
    assert found["generator_limited_at"] == limited[0]["load"]
    assert found["knee_load"] is None
    assert found["reason"].startswith("the load generator was saturated at")
    assert "horde itself saturated" in result.stderr  # the step's line, as it was measured
    assert "generator-limited" in result.stdout or "horde itself was saturated" in result.stdout
    if len(steps) == 1:
        # A machine so busy that horde waited for its one CPU from the first step: no capacity
        # is claimed at all (and the exit code says the search found none).
        assert result.returncode == 1, result.stderr
        assert found["max_load"] is None
        assert found["headline"].startswith("no capacity measured: horde itself was saturated")
        return
    assert result.returncode == 0, result.stderr
    # The capacity is a load some unsaturated step passed at, never above the saturated one's
    # (a confirmation may repeat a passed load, and horde may saturate only on the repeat).
    measured = {s["load"] for s in steps if s["passed"] and not s["generator_limited"]}
    assert found["max_load"] in measured, (found["max_load"], steps)
    assert found["max_load"] <= limited[0]["load"]
    assert found["headline"].startswith(f"capacity: at least {found['max_load']:.0f} ")
    assert "generator-limited" in found["headline"]
    # The fit leaves the saturated step out (or says there are too few steps left to fit).
    usl = found["usl"]
    if "error" in usl:
        assert "not enough steps to fit" in usl["error"] and len(steps) - 1 < 5, usl
    else:
        assert usl["points"] == len(steps) - 1, usl
