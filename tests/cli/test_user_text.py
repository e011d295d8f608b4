"""Text from the scenario and the target is shown as written in every console table.

rich reads square brackets as markup: a request name or failure message with ``[/x]`` used to
crash the end-of-run summary (and no file was written), and ``[id]`` vanished from tables.
"""

import json
import subprocess
import sys

import pytest

from tests.cli.terminal import run_in_terminal

pytestmark = pytest.mark.timeout(90)

SCENARIO = """
from horde import User, constant, events, task

class Bracketed(User):
    wait_time = constant(0.05)

    @task
    def t(self):
        events.request.fire(request_type="GET", name="/items/[id]", response_time=1.0,
                            response_length=1, exception=None)
        events.request.fire(request_type="GET", name="/close[/x]", response_time=1.0,
                            response_length=1, exception=RuntimeError("bad [/b] tag [red]"))
        raise ValueError("user code said [/oops] and [keep]")
"""


@pytest.mark.parametrize("live", [False, True], ids=["summary only", "live table"])
def test_brackets_in_names_errors_and_exceptions_are_shown_verbatim(tmp_path, live):
    (tmp_path / "s.py").write_text(SCENARIO)
    args = ["s.py", "-u", "2", "-r", "10", "-t", "2.5s", "--headless", "--json", "r.json"]
    args += ["--csv", "r"] + ([] if live else ["--only-summary"])
    command = [sys.executable, "-m", "horde", "run", *args]
    if live:  # the live table is shown on a terminal (a log gets progress lines instead)
        returncode, stdout = run_in_terminal(command, cwd=tmp_path, timeout=60)
        stderr = stdout
    else:
        proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    assert "MarkupError" not in stderr
    assert "Traceback" not in stderr
    assert returncode == 1, stderr  # failures and exceptions: --exit-code-on-error
    summary = stdout[stdout.index("Summary") :]
    for text in ("/items/[id]", "/close[/x]", "bad [/b] tag [red]", "[/oops] and [keep]"):
        assert text in summary, text
    if live:
        assert stdout.index("/items/[id]") < stdout.index("Summary")
    document = json.loads((tmp_path / "r.json").read_text())
    assert {"/items/[id]", "/close[/x]"} <= {e["name"] for e in document["stats"]}
    assert (tmp_path / "r_stats.csv").exists()
