"""--html fails loudly when the report cannot be written, and the other files are written."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

import horde.report
from horde.report import ReportError, write_html_report
from horde.runner.environment import Environment

pytestmark = pytest.mark.timeout(60)

SCENARIO = """
from horde import HttpUser, constant, task

class V(HttpUser):
    wait_time = constant(0.05)

    def on_start(self):
        open("started", "w").close()

    @task
    def t(self):
        self.client.get("/")
"""


def test_an_unwritable_report_is_one_sentence_and_a_non_zero_exit(tmp_path, counting_target):
    (tmp_path / "s.py").write_text(SCENARIO)
    process = subprocess.Popen(
        [sys.executable, "-m", "horde", "run", "s.py", "-H", counting_target.url, "-u", "1",
         "-r", "5", "-t", "2s", "--headless", "--only-summary", "--json", "out/run.json",
         "--html", "taken/report.html", "--csv", "out/run"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # The paths are checked before the load (tests/cli/test_output_paths.py): the report's
    # folder becomes a file only once the run is on.
    deadline = time.monotonic() + 30
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (tmp_path / "taken").write_text("a file, not a folder")
    stdout, stderr = process.communicate(timeout=45)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("horde: error:")]
    assert errors == [
        "horde: error: cannot write the HTML report to taken/report.html: File exists"
    ]
    # The other files are there all the same.
    assert json.loads((tmp_path / "out" / "run.json").read_text())["total"]["num_requests"] > 0
    assert (tmp_path / "out" / "run_stats.csv").exists()


def test_a_report_without_its_web_assets_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(horde.report, "VENDOR", tmp_path / "no-vendor")
    with pytest.raises(ReportError) as caught:
        write_html_report(Environment([]), tmp_path / "report.html", {})
    message = str(caught.value)
    assert message.startswith("cannot write the HTML report: horde's web assets are missing")
    assert "reinstall horde from a wheel" in message and "\n" not in message
    assert not (tmp_path / "report.html").exists()
