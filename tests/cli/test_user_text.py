"""Text from the scenario and the target is shown as written in every console table.

rich reads square brackets as markup: a request name or failure message with ``[/x]`` used to
crash the end-of-run summary (and no file was written), and ``[id]`` vanished from tables.
"""

import json
import subprocess
import sys

import pytest

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
    proc = subprocess.run(
        [sys.executable, "-m", "horde", "run", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "MarkupError" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr  # failures and exceptions: --exit-code-on-error
    summary = proc.stdout[proc.stdout.index("Summary") :]
    for text in ("/items/[id]", "/close[/x]", "bad [/b] tag [red]", "[/oops] and [keep]"):
        assert text in summary, text
    if live:
        assert proc.stdout.index("/items/[id]") < proc.stdout.index("Summary")
    document = json.loads((tmp_path / "r.json").read_text())
    assert {"/items/[id]", "/close[/x]"} <= {e["name"] for e in document["stats"]}
    assert (tmp_path / "r_stats.csv").exists()
