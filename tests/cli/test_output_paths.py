"""--csv, --json and --html paths: checked before any load, and one failing never loses the
others (issue 12, item 7)."""

import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.timeout(90)

SCENARIO = """
from horde import User, constant, events, task

class U(User):
    wait_time = constant(0.05)

    def on_start(self):
        open("started", "w").close()  # the output paths were checked: the load is on

    @task
    def t(self):
        events.request.fire(request_type="X", name="t", response_time=1.0, response_length=1,
                            exception=None)
"""


def horde(tmp_path, *args, **kwargs):
    (tmp_path / "s.py").write_text(SCENARIO)
    return subprocess.Popen(
        [sys.executable, "-m", "horde", "run", "s.py", "-u", "2", "-r", "10", "--headless",
         "--only-summary", *args],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flag", "path", "fragment"),
    [
        ("--json", "a-file/r.json", "a-file is not a folder"),
        ("--csv", "a-file/deeper/r", "a-file is not a folder"),
        ("--html", "a-folder", "it is a folder"),
        ("--json", "/proc/horde-results.json", "/proc does not take new files"),
    ],
)
def test_an_unwritable_path_is_a_usage_error_before_any_load(tmp_path, flag, path, fragment):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    began = time.monotonic()
    proc = horde(tmp_path, "-t", "30s", flag, path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert time.monotonic() - began < 10  # not after the 30 s of load
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"horde: error: cannot write {flag} ")
    assert fragment in lines[0]
    assert not list(tmp_path.glob("**/.horde-check-*"))


def test_a_file_failing_at_the_end_loses_none_of_the_others(tmp_path):
    (tmp_path / "out").mkdir()
    proc = horde(tmp_path, "-t", "2s", "--json", "out/r.json", "--csv", "csv/r", "--html", "r.html")
    deadline = time.monotonic() + 30
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    # The folder disappears during the run, and a file takes its name: JSON cannot be written.
    (tmp_path / "out").rmdir()
    (tmp_path / "out").write_text("not a folder any more")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err  # FILES_NOT_WRITTEN
    assert "Traceback" not in err
    assert "Summary" in out
    errors = [line for line in err.splitlines() if line.startswith("horde: error:")]
    assert len(errors) == 1, err
    assert errors[0] == "horde: error: cannot write the JSON results to out/r.json: File exists"
    rows = (tmp_path / "csv" / "r_stats.csv").read_text().splitlines()
    assert rows[1].startswith("X,t,") or rows[1].startswith("X,t,"), rows
    assert "<html" in (tmp_path / "r.html").read_text()[:500].lower()
