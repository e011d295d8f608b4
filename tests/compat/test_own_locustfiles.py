"""Locustfiles in the styles real projects use, run as written with `horde run`.

Each makes its users wait in a blocking library (requests, gevent, raw sockets, time.sleep), so
the number of requests a short run makes says whether the waits were cooperative: with every
wait stalling the loop, users would take turns and the counts would be a fraction of these.
Every count is also checked against what the server saw.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.compat.harness import HERE, Server, run
from tests.compat.servers import slow_line_echo

pytestmark = pytest.mark.timeout(120)

LOCUSTFILES = HERE / "locustfiles"
SECONDS = 3


@pytest.fixture
def site():
    server = Server("example_site.py")
    yield server
    server.stop()


def stalls_in(output: str) -> list[str]:
    """Warnings of the blocked-loop watchdog that name a line of these locustfiles (a busy
    machine can make the loop late elsewhere, which is not the locustfile's doing)."""
    return [
        line
        for line in output.splitlines()
        if "blocked the event loop" in line
        and any(
            name in line for name in ("locustfile.py", "api.py", "gevent_pool.py", "tcp_client.py")
        )
    ]


def horde(locustfile: Path, url: str, users: int, env: dict[str, str] | None = None):
    args = ["-H", url, "-u", str(users), "-r", str(users), "-t", f"{SECONDS}s", "--headless",
            "--only-summary", "--stop-timeout", "0"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run("horde", locustfile, args, Path(tmp), env, timeout=60)
    # A wait that held the loop would also hold the end of the run (Locust's quickstart once
    # took 27 s for a 5 s run).
    assert outcome.seconds < SECONDS + 5, outcome.output
    return outcome


def test_requests_based_helpers_paced_with_time_sleep(site):
    outcome = horde(LOCUSTFILES / "requests_helpers" / "locustfile.py", site.url, users=20)
    assert outcome.exit_code == 1, outcome.output  # the missing page fails, as it should
    slow, slow_failed = outcome.rows["GET /slow"]
    missing, missing_failed = outcome.rows["GET missing page"]
    # 20 users, each ~0.3 s per slow page and ~0.2 s per missing one, for 3 s: ~240 requests.
    # Had each requests call or time.sleep held the loop, users would take turns (~12).
    assert slow + missing > 120
    assert slow_failed == 0 and missing_failed == missing
    served = site.served()
    assert served["GET /slow"] == slow and served["GET /does_not_exist"] == missing
    assert served["POST /login"] == 20  # on_start's plain requests call: served, not recorded
    assert not stalls_in(outcome.output)


def test_gevent_pools_spawns_and_semaphores_inside_tasks(site):
    outcome = horde(LOCUSTFILES / "gevent_pool.py", site.url, users=5)
    assert outcome.exit_code == 0, outcome.output
    pages = outcome.rows["GET page"][0]
    assets = outcome.rows["GET asset"][0]
    # Each page's five assets were fetched (the run may stop a fan-out half way)...
    assert 5 * pages - 25 <= assets <= 5 * pages
    # ...in parallel: a page and its assets take ~0.2 s, not ~0.6 s.
    assert pages > 5 * SECONDS / 0.3 * 0.6
    assert outcome.rows["GET widget"][0] > 0 and outcome.rows["GET search"][0] > 0
    assert outcome.requests == sum(site.served().values())
    assert not any(failures for _, failures in outcome.rows.values())
    assert not stalls_in(outcome.output)


def test_a_socket_client_reporting_through_the_request_event():
    with slow_line_echo(0.1) as (address, answered):
        outcome = horde(
            LOCUSTFILES / "tcp_client.py", "http://127.0.0.1:1", users=10,
            env={"ECHO_SERVER": address},
        )  # fmt: skip
        lines = answered[0]
    assert outcome.exit_code == 0, outcome.output
    echoes, failures = outcome.rows["TCP echo"]
    # 10 users, 0.1 s per exchange, 3 s: ~300; one at a time it would be ~30.
    assert echoes > 150 and failures == 0
    assert echoes == lines
    assert not stalls_in(outcome.output)


def test_a_blocking_call_horde_cannot_cover_is_named_in_a_warning(site):
    outcome = horde(LOCUSTFILES / "uncovered_call.py", site.url, users=1)
    assert outcome.exit_code == 0, outcome.output
    warnings = [
        line
        for line in outcome.output.splitlines()
        if "blocked the event loop" in line and "uncovered_call.py" in line
    ]
    assert len(warnings) == 1, outcome.output  # once per call, however often it blocks
    assert "task Waiter.wait_for_nothing blocked the event loop" in warnings[0]
    # The advice no longer says "use horde.sleep()": time.sleep is cooperative in tasks now.
    assert "this call is not one of them" in warnings[0]
    assert "asyncio.to_thread" in warnings[0] and "horde.sleep" not in warnings[0]
    assert (
        "in 'threading.Event().wait(0.3)' (uncovered_call.py:13, in wait_for_nothing), "
        "waiting in wait (threading.py:" in warnings[0]
    )
