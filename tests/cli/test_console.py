"""The console in a CI log and on a terminal.

In a log (output to a file or a pipe) a run prints one short progress line at a steady pace and
the full tables once, at the end: the live table every 2 s made a 30-second run 270 lines. On a
terminal, a timed run shows a progress bar over the live table.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from horde.console import progress_interval, progress_line
from horde.runner.environment import Environment
from tests.cli.terminal import run_in_terminal

SCENARIO = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task(3)
    def home(self):
        self.client.get("/")

    @task
    async def about(self):
        await self.client.get("/about")

    @task
    def contact(self):
        self.client.get("/contact")
"""

PROGRESS = re.compile(
    r"^\[(\d+)s/30s\] (\d+) users, (\d+) requests, (\d+) failures \((\d+\.\d\d)%\), "
    r"(\d+\.\d) req/s, p95 (\S+) ms$"
)


@pytest.mark.timeout(90)
def test_a_30_second_run_in_a_log_is_under_40_lines_ending_with_the_summary(
    tmp_path, counting_target
):
    (tmp_path / "s.py").write_text(SCENARIO)
    log = tmp_path / "run.log"
    with log.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-m", "horde", "run", "s.py", "-H", counting_target.url,
             "-u", "5", "-r", "5", "-t", "30s", "--headless"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, timeout=80,
        )  # fmt: skip
    lines = log.read_text().splitlines()
    assert result.returncode == 0, "\n".join(lines)
    assert len(lines) < 40, "\n".join(lines)

    progress = [PROGRESS.match(line) for line in lines if line.startswith("[")]
    assert all(progress), lines
    elapsed = [int(m.group(1)) for m in progress if m]
    assert elapsed[:5] == [5, 10, 15, 20, 25], elapsed  # a steady pace: every 5 s
    assert all(int(m.group(2)) == 5 and int(m.group(3)) > 0 for m in progress if m)
    assert all(float(m.group(6)) > 0 for m in progress if m)

    # Then the full tables, once, and nothing after them.
    summary = lines.index(next(line for line in lines if line.startswith("Summary")))
    assert summary > max(i for i, line in enumerate(lines) if line.startswith("["))
    tail = lines[summary:]
    assert sum(line.startswith("Summary") for line in lines) == 1
    assert any(line.startswith("Response time percentiles") for line in tail)
    # The last table's bottom edge, then the load generator's verdict, end the output, but for
    # the line saying where the run's history was saved (stderr, in the same log here).
    ending = [line for line in tail if not line.startswith("saved run #")]
    assert ending[-2].startswith("└"), ending[-2]
    assert ending[-1].startswith("Load generator: horde was not saturated"), ending[-1]
    assert sum(line.startswith("saved run #") for line in tail) == 1
    aggregated = next(line for line in tail if "Aggregated" in line)
    assert f" {counting_target.count()} " in aggregated  # the summary's count is the server's


def test_the_progress_line_reports_the_current_state(tmp_path):
    environment = Environment(user_classes=[])
    stats = environment.stats
    stats.tick()  # the window of "current" figures starts here
    for ms in range(1, 101):  # 100 requests of 1..100 ms, 4 of them failed
        stats.record("GET", "/", ms * 1000, 10, error="boom" if ms % 25 == 0 else None)
    stats.tick()
    line = progress_line(environment, elapsed=65.2, run_time=300)
    assert line == (
        "[1m05s/5m00s] 0 users, 100 requests, 4 failures (4.00%), "
        f"{stats.total.current_rps:.1f} req/s, p95 95 ms"
    )
    empty = Environment(user_classes=[])
    assert progress_line(empty, elapsed=3, run_time=None).endswith("0.0 req/s, p95 -")


@pytest.mark.parametrize(
    ("run_time", "interval"),
    [(None, 5), (10, 5), (30, 5), (300, 5), (301, 10), (3600, 60), (86400, 1440)],
)
def test_progress_lines_keep_a_steady_pace_of_at_most_about_60_a_run(run_time, interval):
    assert progress_interval(run_time) == interval
    if run_time:
        assert run_time / interval <= 61


@pytest.mark.timeout(60)
def test_a_timed_run_on_a_terminal_shows_a_progress_bar_over_the_live_table(
    tmp_path, counting_target
):
    (tmp_path / "s.py").write_text(SCENARIO)
    code, output = run_in_terminal(
        [sys.executable, "-m", "horde", "run", "s.py", "-H", counting_target.url,
         "-u", "2", "-r", "10", "-t", "4s", "--headless"],
        cwd=tmp_path, timeout=45,
    )  # fmt: skip
    assert code == 0, output
    live = output[: output.index("Summary")]
    assert re.search(r"run time .*\ds of 4s", live), live
    assert "━" in live  # the bar
    assert "Aggregated" in live  # the live table under it
    assert not re.search(r"^\[\d+s", live, re.MULTILINE)  # no log lines on a terminal
