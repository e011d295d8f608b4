"""A run ends on time and writes its results whatever the user code does (issue 12, item 4).

Real ``horde run`` processes, real signals. User code here spins on the CPU and keeps the event
loop to itself, or swallows every exception, or ignores its cancellation: the run must still end
within run time + --stop-timeout + a few seconds, print its summary, write its files and report
the abandoned code in the exception table.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

# Startup, the stop's drain grace (2 s), the guard's attempts (2 s) and writing, on a busy VM.
SLACK = 9.0

HEADER = """
import asyncio, time
from horde import User, constant, events, task

def record(name):
    events.request.fire(request_type="X", name=name, response_time=1.0, response_length=1,
                        exception=None)

STARTED = time.time()
"""

SPINS = {
    # Blocking style: a plain CPU loop, ended by the asynchronous exception.
    "blocking spin": """
class Spinner(User):
    wait_time = constant(0.05)

    @task
    def spin(self):
        record("before")
        if time.time() > STARTED + SPIN_AFTER:
            while True:
                pass
""",
    # Async, and swallowing everything (even the asynchronous exception): the last resort.
    "async spin catching everything": """
class Spinner(User):
    wait_time = constant(0.05)

    @task
    async def spin(self):
        record("before")
        if time.time() > STARTED + SPIN_AFTER:
            while True:
                try:
                    while True:
                        pass
                except:  # noqa: E722
                    pass
""",
}


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _reap():
    """A test that fails must not leave a process spinning on a shared machine."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    tmp_path: Path, body: str, *args: str, spin_after: float = 0.0, headless: bool = True
) -> subprocess.Popen:
    (tmp_path / "s.py").write_text(HEADER + f"SPIN_AFTER = {spin_after}\n" + body)
    command = [sys.executable, "-m", "horde", "run", "s.py", "-u", "2", "-r", "20"]
    command += ["--headless"] if headless else []
    command += ["--only-summary", "--json", "r.json", "--csv", "r", *args]
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _started.append(proc)
    return proc


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the run did not end: {err[-2000:]}")


def assert_results_written_with_abandoned_code(tmp_path: Path, proc, out: str, err: str) -> None:
    assert proc.returncode == 1, err  # abandoned user code is an error of the run
    assert "Traceback" not in err
    assert "Summary" in out
    assert "UserCodeAbandoned" in out  # the exception table of the summary says so
    document = json.loads((tmp_path / "r.json").read_text())
    abandoned = [e for e in document["exceptions"] if "UserCodeAbandoned" in e["msg"]]
    assert abandoned, document["exceptions"]
    assert {e["where"] for e in abandoned} == {"Spinner.spin"}
    assert document["stats"][0]["num_requests"] >= 1  # what was recorded before is kept
    # Locust's exceptions file: the message is str(exception), as Locust writes it.
    assert '"abandoned: ' in (tmp_path / "r_exceptions.csv").read_text()


@pytest.mark.parametrize("style", sorted(SPINS))
def test_run_time_expiry_ends_a_run_whose_task_spins(tmp_path, style):
    began = time.monotonic()
    proc = start(tmp_path, SPINS[style], "-t", "2s")
    out, err = finish(proc)
    assert time.monotonic() - began < 2 + SLACK
    assert "Summary (run time reached)" in out
    assert_results_written_with_abandoned_code(tmp_path, proc, out, err)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
@pytest.mark.parametrize("style", sorted(SPINS))
def test_a_second_signal_ends_a_run_whose_task_spins(tmp_path, style, sig):
    # No run time: only the signals can end it. The task spins from the second second on, so
    # the handlers are in place and some requests recorded when the signals come.
    proc = start(tmp_path, SPINS[style], "--stop-timeout", "60", spin_after=1.0)
    time.sleep(3.0)
    first = time.monotonic()
    proc.send_signal(sig)
    time.sleep(0.5)
    proc.send_signal(sig)
    out, err = finish(proc)
    # --stop-timeout 60 is not waited for: the loop is stuck, the second signal acts at once.
    assert time.monotonic() - first < SLACK
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    assert f"interrupted ({name})" in out
    assert_results_written_with_abandoned_code(tmp_path, proc, out, err)


def test_one_sigterm_ends_a_stuck_run_after_the_stop_timeout(tmp_path):
    proc = start(tmp_path, SPINS["blocking spin"], "--stop-timeout", "2", spin_after=1.0)
    time.sleep(3.0)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = finish(proc)
    took = time.monotonic() - sent
    # The stop timeout and the drain grace are given, as to any task; then the task is ended.
    assert 2 + 2 <= took < 2 + SLACK
    assert_results_written_with_abandoned_code(tmp_path, proc, out, err)


def test_the_open_model_ends_on_time_too(tmp_path):
    proc = start(tmp_path, SPINS["blocking spin"], "--arrival-rate", "20/s", "-t", "2s")
    began = time.monotonic()
    out, err = finish(proc)
    assert time.monotonic() - began < 2 + SLACK
    assert_results_written_with_abandoned_code(tmp_path, proc, out, err)


IGNORES_CANCEL = """
class Spinner(User):
    wait_time = constant(0.05)

    @task
    async def spin(self):
        while True:
            try:
                record("before")
                await asyncio.sleep(0.05)
            except BaseException:
                pass
"""


def test_a_task_that_ignores_its_cancellation_is_abandoned_and_the_process_ends(tmp_path):
    # The loop turns, but the task never ends: asyncio would wait for it at shutdown for ever.
    began = time.monotonic()
    proc = start(tmp_path, IGNORES_CANCEL, "-t", "2s")
    out, err = finish(proc)
    assert time.monotonic() - began < 2 + SLACK
    assert "Summary (run time reached)" in out
    assert_results_written_with_abandoned_code(tmp_path, proc, out, err)
    document = json.loads((tmp_path / "r.json").read_text())
    assert any("caught its cancellation" in e["msg"] for e in document["exceptions"])


def test_the_web_ui_mode_ends_too_when_a_test_spins(tmp_path):
    # The UI shares the loop with the users: stuck user code froze the page and the process.
    port = free_port()
    proc = start(tmp_path, SPINS["blocking spin"], "--web-port", str(port), headless=False)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    page = ""
    while not page and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as response:
                page = response.read().decode()
        except OSError:
            time.sleep(0.1)
    token = re.search(r'name="horde-token" content="([^"]+)"', page).group(1)
    fields = {"user_count": "2", "spawn_rate": "20", "host": "http://127.0.0.1:9"}
    form = urllib.parse.urlencode(fields).encode()
    swarm = urllib.request.Request(url + "/swarm", form, headers={"X-Horde-Token": token})
    with urllib.request.urlopen(swarm, timeout=10) as response:
        assert response.status == 200
    time.sleep(1.5)
    first = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = finish(proc)
    assert time.monotonic() - first < SLACK
    assert_results_written_with_abandoned_code(tmp_path, proc, out, err)


def test_worker_processes_whose_tasks_spin_are_ended_in_order(tmp_path):
    # Each worker's loop is stuck: the master marks them missing, writes its results, and at
    # the end its second SIGTERM makes their stop guard end the stuck code: they leave by
    # themselves instead of being killed with SIGKILL.
    began = time.monotonic()
    proc = start(tmp_path, SPINS["blocking spin"], "-t", "2s", "--processes", "2")
    out, err = finish(proc)
    assert time.monotonic() - began < 2 + 3 + 5 + SLACK  # heartbeats, the workers' grace
    assert "Summary (run time reached)" in out
    assert (tmp_path / "r.json").exists()
    assert "task Spinner.spin would not stop" in err  # said by the workers themselves
    assert "exit -9" not in err, err
