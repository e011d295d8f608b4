"""Mistakes a user can make get one sentence on stderr and exit code 2, never a traceback."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(60)

GOOD = """
from horde import HttpUser, task, tag

class WebUser(HttpUser):
    @tag("web")
    @task
    def index(self):
        self.client.get("/")
"""


def horde(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "horde", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "scenario.py"
    path.write_text(GOOD)
    return path


def assert_usage_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("horde: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_scenario_file(tmp_path):
    assert_usage_error(horde("run", "nope.py", "--headless", cwd=tmp_path), "not found", "nope.py")


def test_syntax_error_shows_file_and_line(tmp_path):
    (tmp_path / "broken.py").write_text("from horde import User\n\nclass U(User:\n    pass\n")
    result = horde("run", "broken.py", "--headless", "-H", "http://127.0.0.1:9", cwd=tmp_path)
    assert_usage_error(result, "syntax error", "broken.py", "line 3")


def test_import_error_in_scenario(tmp_path):
    (tmp_path / "bad.py").write_text("import does_not_exist_anywhere\n")
    result = horde("run", "bad.py", "--headless", cwd=tmp_path)
    assert_usage_error(result, "bad.py", "line 1", "ModuleNotFoundError")


def test_no_user_class(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    assert_usage_error(horde("run", "empty.py", "--headless", cwd=tmp_path), "no user class")


def test_unknown_user_class(scenario, tmp_path):
    result = horde("run", str(scenario), "Ghost", "--headless", "-H", "http://a.b", cwd=tmp_path)
    assert_usage_error(result, "unknown user class Ghost", "WebUser")


def test_unknown_tag(scenario, tmp_path):
    result = horde("run", str(scenario), "-T", "nope", "--headless", "-H", "http://a", cwd=tmp_path)
    assert_usage_error(result, "unknown tag nope", "web")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-H", "localhost:8000"], "invalid host"),
        (["-H", "http://127.0.0.1:8000", "-u", "-5"], "invalid user count"),
        (["-H", "http://127.0.0.1:8000", "-u", "many"], "invalid user count"),
        (["-H", "http://127.0.0.1:8000", "-r", "0"], "invalid spawn rate"),
        (["-H", "http://127.0.0.1:8000", "-r", "fast"], "invalid spawn rate"),
        (["-H", "http://127.0.0.1:8000", "-t", "soon"], "invalid duration"),
        (["-H", "http://127.0.0.1:8000", "--run-time=-1s"], "invalid duration"),
        (["--no-such-flag"], "unrecognized arguments"),
        (["--web-port", "99999"], "invalid web port"),
        (["--web-port", "-1"], "invalid web port"),
        (["--master", "--master-bind-port", "70000"], "invalid master bind port"),
        (["--worker", "--master-port", "65536"], "invalid master port"),
        (["--worker", "--master-port", "0"], "invalid master port"),
    ],
)
def test_bad_flags(scenario, tmp_path, args, fragment):
    assert_usage_error(horde("run", str(scenario), "--headless", *args, cwd=tmp_path), fragment)


def test_missing_host(scenario, tmp_path):
    assert_usage_error(horde("run", str(scenario), "--headless", cwd=tmp_path), "no host")


def test_help_and_version(tmp_path):
    assert horde("--version", cwd=tmp_path).stdout.startswith("horde ")
    result = horde("run", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--spawn-rate" in result.stdout
