"""The capacity search finds a known capacity: a server that serves at most N requests/s."""

import json
import subprocess
import sys

import pytest
import uvloop

from horde import HttpUser, task
from horde.runner.capacity import CapacityResult, CapacitySearch, CapacitySettings, parse_slo
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
         "--slo", "p95<2s,fail_ratio<1%", "--arrival-rate", "30/s", "--growth", "2",
         "--step-time", "3s", "--settle-time", "1s", "--max-steps", "8", "--only-summary",
         "--json", "out.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=170,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "out.json").read_text())["meta"]["capacity"]
    limited = [s for s in found["steps"] if s["generator_limited"]]
    assert len(limited) == 1 and limited[0] is found["steps"][-1], found["steps"]
    assert limited[0]["generator"]["cpu_bound"], limited[0]["generator"]
    # The search stopped there: no confirmation, no refinement, and no false knee.
    assert found["generator_limited"] is True
    assert found["generator_limited_at"] == limited[0]["load"]
    assert found["knee_load"] is None
    assert found["max_load"] is not None and found["max_load"] < limited[0]["load"]
    assert found["headline"].startswith(f"capacity: at least {found['max_load']:.0f} ")
    assert "generator-limited" in found["headline"]
    assert found["reason"].startswith("the load generator was saturated at")
    assert "horde itself saturated" in result.stderr  # the step's line, as it was measured
    # The fit leaves the saturated step out.
    usl = found["usl"]
    assert usl.get("points", 0) == len(found["steps"]) - 1 or "error" in usl
