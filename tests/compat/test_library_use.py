"""Locust as a library under ``horde exec``: plain synchronous code drives a runner, and horde's
loop runs whenever that code waits (``horde.compat.hub``)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from tests.compat.harness import HERE, Server, run

pytestmark = pytest.mark.timeout(120)


def test_a_library_script_runs_its_users_while_it_waits():
    site = Server("example_site.py")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run(
                "horde", HERE / "scripts" / "library_use.py", [site.url], Path(tmp), script=True
            )
        served = sum(site.served().values())
    finally:
        site.stop()
    output = outcome.output
    assert outcome.exit_code == 0, output
    assert "users: 4 state: running" in output
    ticks = int(re.search(r"ticks while sleeping: (\d+)", output)[1])  # type: ignore[index]
    assert 5 <= ticks <= 10  # every 0.2 s for 1.5 s: the spawned greenlet ran
    assert "the web UI says: 4 users" in output
    assert "users after change: 2" in output
    assert "state after quit: stopped" in output
    requests = int(re.search(r"requests: (\d+) failures: 0", output)[1])  # type: ignore[index]
    # 4 users for ~2 s then 2 for ~1 s at 20 requests/s each: well over 100 if they all ran.
    assert requests > 100 and requests == served
    # stats_printer and print_stats print Locust's table (logged: setup_logging("INFO")).
    assert "Aggregated" in output and outcome.rows["GET /"][0] == requests
    assert "\ndone\n" in output
