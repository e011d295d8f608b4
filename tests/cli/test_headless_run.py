"""`horde run --headless` end to end: live output, summary, files, exit codes, Ctrl-C."""

import csv
import json
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.timeout(90)

SCENARIO = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task(3)
    def home(self):
        self.client.get("/")

    @task
    async def about(self):
        await self.client.get("/about", name="about page")
"""

LOCUST_STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "scenario.py"
    path.write_text(SCENARIO)
    return path


def horde(*args, cwd, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "horde", "run", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_headless_run_writes_summary_csv_and_json(scenario, tmp_path, counting_target):
    before = counting_target.count()
    proc = horde(
        str(scenario),
        "-H",
        counting_target.url,
        "-u",
        "5",
        "-r",
        "10",
        "-t",
        "3s",
        "--headless",
        "--csv",
        "out/run",
        "--json",
        "out/run.json",
        cwd=tmp_path,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Summary (run time reached)" in out
    assert "Response time percentiles" in out

    stats_csv = (tmp_path / "out" / "run_stats.csv").read_text().splitlines()
    assert stats_csv[0] == LOCUST_STATS_HEADER
    rows = list(csv.DictReader(stats_csv))
    assert [r["Name"] for r in rows] == ["/", "about page", "Aggregated"]
    for suffix in ("stats_history", "failures", "exceptions"):
        assert (tmp_path / "out" / f"run_{suffix}.csv").exists()

    document = json.loads((tmp_path / "out" / "run.json").read_text())
    served = counting_target.count() - before
    total = int(rows[-1]["Request Count"])
    # Every request horde reports is one the server answered, and the other way round.
    assert total == served
    assert total > 50
    assert json.dumps(document).count("about page") >= 1


def test_ctrl_c_stops_cleanly_and_still_writes_results(scenario, tmp_path, counting_target):
    proc = horde(
        str(scenario),
        "-H",
        counting_target.url,
        "-u",
        "3",
        "-r",
        "10",
        "-t",
        "60s",
        "--headless",
        "--only-summary",
        "--json",
        "run.json",
        cwd=tmp_path,
    )
    time.sleep(2.5)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "interrupted (Ctrl-C)" in out
    document = json.loads((tmp_path / "run.json").read_text())
    assert "interrupted" in json.dumps(document)


def test_failures_set_the_exit_code(tmp_path):
    (tmp_path / "s.py").write_text(
        "from horde import HttpUser, constant, task\n"
        "class U(HttpUser):\n"
        "    wait_time = constant(0.1)\n"
        "    @task\n"
        "    def t(self):\n"
        "        self.client.get('/')\n"
    )
    # Nothing listens on port 9 of loopback: every request is refused, and that is data.
    args = ["s.py", "-H", "http://127.0.0.1:9", "-u", "2", "-r", "10", "-t", "1s", "--headless"]
    proc = horde(*args, "--csv", "r", cwd=tmp_path)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    failures = list(csv.DictReader((tmp_path / "r_failures.csv").read_text().splitlines()))
    assert failures
    assert "refused" in failures[0]["Error"].lower()
    proc = horde(*args, "--exit-code-on-error", "0", cwd=tmp_path)
    proc.communicate(timeout=60)
    assert proc.returncode == 0


@pytest.mark.parametrize("model", [[], ["--arrival-rate", "20/s"]], ids=["users", "open model"])
def test_a_second_ctrl_c_ends_a_stop_held_up_by_a_stalled_server(
    scenario, tmp_path, queue_target, model
):
    # The first Ctrl-C lets every task finish within --stop-timeout (a minute here); with the
    # server stalled, a second one must end the run at once: the requests in flight get
    # DRAIN_GRACE (2 s) to finish, then count as failures, and the results are still written.
    target = queue_target()
    proc = horde(
        str(scenario), "-H", target.url, "-u", "3", "-r", "10", "-t", "60s", *model,
        "--stop-timeout", "60", "--headless", "--only-summary", "--json", "run.json",
        "--exit-code-on-error", "0", cwd=tmp_path,
    )  # fmt: skip
    time.sleep(2.0)
    target.get("/__stall?ms=30000")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert proc.poll() is None  # still waiting for the tasks, as the first Ctrl-C asks
    second = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=40)
    assert time.monotonic() - second < 8, "the second Ctrl-C did not cut the stop short"
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["total"]["num_failures"] > 0  # the stalled requests, cancelled
