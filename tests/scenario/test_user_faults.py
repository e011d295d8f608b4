"""Scenario code written the way real locustfiles are: what horde must survive and report.

- ``while True: try: self.client.get(...) except Exception: pass`` ends when the test stops
  (the stop is a ``BaseException``, as Locust's ``GreenletExit`` is), without being abandoned;
- ``self.host`` is the ``-H`` host;
- a user whose constructor (or its custom client's) raises is reported like any user error, and
  a run in which no user could start never exits 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.timeout(120)


def horde(tmp_path, scenario: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    (tmp_path / "s.py").write_text(scenario)
    return subprocess.run(
        [sys.executable, "-m", "horde", "run", "s.py", "--headless", "--only-summary", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


RETRY_FOR_EVER = {
    "blocking": """
from horde import HttpUser, constant, task

class Stubborn(HttpUser):
    wait_time = constant(0)

    @task
    def hammer(self):
        while True:
            try:
                self.client.get("/")
            except Exception:
                pass
""",
    "async": """
from horde import HttpUser, constant, task

class Stubborn(HttpUser):
    wait_time = constant(0)

    @task
    async def hammer(self):
        while True:
            try:
                await self.client.get("/")
            except Exception:
                pass
""",
}


@pytest.mark.parametrize("style", sorted(RETRY_FOR_EVER))
def test_retrying_with_except_exception_ends_when_the_test_stops(tmp_path, counting_target, style):
    before = counting_target.count()
    began = time.monotonic()
    result = horde(
        tmp_path, RETRY_FOR_EVER[style], "-H", counting_target.url, "-u", "3", "-r", "30",
        "-t", "2s", "--json", "r.json",
    )  # fmt: skip
    took = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    # Stopped at its next request, like any user: not abandoned by the stop guard after the
    # drain grace, and not spinning on a client that refuses every request.
    assert took < 2 + 3.5, result.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["exceptions"] == []
    assert document["total"]["num_requests"] == counting_target.count() - before > 50


HOSTS = """
from horde import HttpUser, TaskSet, User, constant, events, task

class Seen(TaskSet):
    @task
    def look(self):
        events.request.fire(request_type="HOST", name=f"taskset {self.user.host}",
                            response_time=1, response_length=0, exception=None)
        self.interrupt()

class Plain(User):
    host = "http://class-host.invalid"
    wait_time = constant(0.2)
    fixed_count = 1

    def on_start(self):
        events.request.fire(request_type="HOST", name=f"plain {self.host}",
                            response_time=1, response_length=0, exception=None)

    tasks = [Seen]

class Web(HttpUser):
    host = "http://class-host.invalid"
    wait_time = constant(0.2)
    fixed_count = 1

    @task
    def home(self):
        events.request.fire(request_type="HOST", name=f"http {self.host}",
                            response_time=1, response_length=0, exception=None)
        self.client.get("/")
"""


def test_self_host_is_the_host_given_with_dash_h(tmp_path, counting_target):
    result = horde(
        tmp_path, HOSTS, "-H", counting_target.url, "-u", "2", "-r", "10", "-t", "1.5s",
        "--json", "r.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = {e["name"] for e in json.loads((tmp_path / "r.json").read_text())["stats"]}
    url = counting_target.url
    assert {f"plain {url}", f"taskset {url}", f"http {url}"} <= names, names
    assert not any("class-host" in name for name in names)


BROKEN_CONSTRUCTOR = """
from horde import HttpUser, User, constant, task

class Flaky(User):
    wait_time = constant(0.1)

    def __init__(self, environment):
        super().__init__(environment)
        raise ValueError("no credentials for this user")

    @task
    def t(self):
        pass


class BrokenClient:
    def __init__(self, host):
        raise ConnectionError(f"cannot reach the auth service for {host}")


class CustomClientUser(User):
    wait_time = constant(0.1)

    def __init__(self, environment):
        super().__init__(environment)
        self.client = BrokenClient(self.host)

    @task
    def t(self):
        pass
"""


@pytest.mark.parametrize("model", [[], ["--arrival-rate", "10/s"]], ids=["users", "open model"])
def test_constructor_errors_are_reported_and_the_run_does_not_exit_0(tmp_path, model):
    result = horde(
        tmp_path, BROKEN_CONSTRUCTOR, "-H", "http://127.0.0.1:9", "-u", "4", "-r", "20",
        "-t", "1.5s", "--json", "r.json", "--exit-code-on-error", "0", *model,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # even with --exit-code-on-error 0
    assert "Traceback" not in result.stderr
    assert "no user could start" in result.stderr
    assert "a Flaky user could not be created: ValueError: no credentials" in result.stderr
    assert "Exceptions in user code" in result.stdout
    exceptions = json.loads((tmp_path / "r.json").read_text())["exceptions"]
    where = {e["where"]: e for e in exceptions}
    assert set(where) == {"Flaky.__init__", "CustomClientUser.__init__"}
    assert "no credentials for this user" in where["Flaky.__init__"]["msg"]
    assert (
        "ConnectionError: cannot reach the auth service"
        in (where["CustomClientUser.__init__"]["msg"])
    )
    assert all(e["count"] >= 2 for e in exceptions)


def test_on_start_failing_for_every_user_does_not_exit_0(tmp_path):
    scenario = (
        "from horde import User, constant, task\n"
        "class U(User):\n"
        "    wait_time = constant(0.1)\n"
        "    def on_start(self):\n"
        "        raise PermissionError('login refused')\n"
        "    @task\n"
        "    def t(self):\n"
        "        pass\n"
    )
    result = horde(
        tmp_path, scenario, "-u", "3", "-r", "30", "-t", "1s", "--exit-code-on-error", "0"
    )
    assert result.returncode == 1, result.stderr
    assert "no user could start: U.on_start raised PermissionError: login refused" in (
        result.stderr
    )


def test_a_run_where_some_users_started_keeps_exit_code_on_error(tmp_path):
    scenario = BROKEN_CONSTRUCTOR + (
        "\nfrom horde import events\n"
        "class Fine(User):\n"
        "    wait_time = constant(0.1)\n"
        "    @task\n"
        "    def t(self):\n"
        "        events.request.fire(request_type='X', name='ok', response_time=1,\n"
        "                            response_length=0, exception=None)\n"
    )
    result = horde(
        tmp_path, scenario, "-u", "6", "-r", "30", "-t", "1s", "--exit-code-on-error", "0"
    )
    assert result.returncode == 0, result.stderr
    assert "no user could start" not in result.stderr
