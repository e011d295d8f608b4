"""The open-file limit (issue 12, item 5): raised to the hard limit at start, and a run whose
users cannot fit under it says so before the load starts."""

import json
import resource
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)

SCENARIO = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.5)

    @task
    def home(self):
        self.client.get("/")
"""


def horde(tmp_path, soft: int, hard: int, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.py").write_text(SCENARIO)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return subprocess.run(
        [sys.executable, "-m", "horde", "run", "s.py", "--headless", "--only-summary", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        preexec_fn=limit,
    )


def test_the_soft_limit_is_raised_so_every_user_connects(tmp_path, counting_target):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1024:
        pytest.skip(f"this machine's hard limit ({hard}) leaves no room above the soft one")
    before = counting_target.count()
    result = horde(
        tmp_path, 150, 1024, "-H", counting_target.url, "-u", "300", "-r", "300", "-t", "2s",
        "--json", "r.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warning" not in result.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["failures"] == []  # no "Too many open files"
    assert document["total"]["num_requests"] == counting_target.count() - before >= 300


def test_users_that_cannot_fit_are_announced_before_the_load(tmp_path):
    result = horde(tmp_path, 200, 200, "-H", "http://127.0.0.1:9", "-u", "400", "-t", "0.5s")
    lines = result.stderr.splitlines()
    assert lines, result.stderr
    assert lines[0] == (
        "horde: warning: 400 users need about 500 open files, but this process may open only "
        "200 (the hard limit): about 100 users can connect, the others will fail with 'Too many "
        "open files'; raise the limit (ulimit -n 500, or LimitNOFILE= for a service) or spread "
        "the users over --processes/workers"
    )
    assert "Traceback" not in result.stderr


def test_with_processes_each_worker_holds_its_share(tmp_path):
    result = horde(
        tmp_path, 200, 200, "-H", "http://127.0.0.1:9", "-u", "600", "--processes", "2",
        "-t", "0.5s", "--expect-workers-max-wait", "1s",
    )  # fmt: skip
    assert result.stderr.startswith("horde: warning: 300 users need about 400 open files")
