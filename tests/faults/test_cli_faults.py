"""A representative set of faults through the real command line: ``horde run --headless``.

The scenario file records, when the process exits, which sockets it still had open: every
connection must have been closed by horde itself, not by the process ending.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

RUN_TIME = 2
SCENARIO = """
import atexit, os
from horde import HttpUser, constant, task

def _sockets_left():
    left = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{{fd}}")
        except OSError:
            continue
        if target.startswith("socket:"):
            left.append(target)
    with open({fd_report!r}, "w") as report:
        report.write("\\n".join(left))

atexit.register(_sockets_left)

class FaultUser(HttpUser):
    wait_time = constant(0.02)
    network_timeout = 0.5

    @task
    {prefix}def hit(self):
        {await_}self.client.get({path!r}, timeout=1.0)
"""

CASES = [
    # (path, tls, expected start of every failure but cancelled ones; None: no failure)
    ("/reset-after-request", False, "ConnectionReset: connection closed before a complete"),
    ("/stall", False, "ReadTimeout: no response data for 0.5 s (read timeout)"),
    ("/slow-drip", False, "TotalTimeout: the request took longer than its total timeout of 1 s"),
    ("/gzip-bomb", False, "BodyTooLarge: response body larger than the 8 MiB limit"),
    ("/big-body", False, "BodyTooLarge: response body larger than the 8 MiB limit"),
    ("/keepalive-then-close", False, None),
    ("/ok", True, "TLSError: TLS handshake with 127.0.0.1:"),
]


@pytest.mark.parametrize("style", ["blocking", "async"])
@pytest.mark.parametrize(("path", "tls", "error"), CASES, ids=[c[0] + (",tls" if c[1] else "")
                                                              for c in CASES])  # fmt: skip
def test_fault_through_the_cli(fault_target, tmp_path: Path, style, path, tls, error) -> None:
    fault_target.reset()
    fd_report = tmp_path / "sockets-left.txt"
    scenario = tmp_path / "faulty.py"
    scenario.write_text(
        SCENARIO.format(
            fd_report=str(fd_report),
            prefix="async " if style == "async" else "",
            await_="await " if style == "async" else "",
            path=path,
        )
    )
    out = tmp_path / "results.json"
    host = fault_target.tls_url if tls else fault_target.url
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "horde", "run", str(scenario), "-H", host, "-u", "3", "-r", "50",
         "-t", f"{RUN_TIME}s", "--headless", "--only-summary", "--json", str(out),
         "--stop-timeout", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - began
    assert "Traceback" not in done.stderr, done.stderr
    # On time: run time, the stop timeout, the drain grace, and the start-up.
    assert elapsed < RUN_TIME + 1 + 2 + 3, elapsed
    results = json.loads(out.read_text())
    (row,) = [r for r in results["stats"] if r["name"] == path]
    seen = fault_target.counts().get(f"GET {path}", 0)
    if tls:
        assert seen == 0 and row["num_failures"] == row["num_requests"] > 0
    else:
        assert row["num_requests"] == seen > 0
    texts = [f["error"] for f in results["failures"]]
    for text in texts:
        assert not re.search(r":\s*$", text), text
        if not text.startswith("RequestCancelled"):
            assert error is not None and text.startswith(error), text
    if error is not None:
        assert any(text.startswith(error) for text in texts), texts
    else:
        assert row["num_requests"] > row["num_failures"]
    assert not results["exceptions"], results["exceptions"]
    assert fd_report.read_text() == "", f"sockets left open: {fd_report.read_text()}"
