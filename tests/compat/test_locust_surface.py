"""Locust's events, runner calls and request naming, as locustfiles use them, under `horde run`.

Each locustfile (locustfiles/surface/) prints what its listeners heard; the test checks it
against Locust's documented behaviour, and the counts against what the site served.
"""

from __future__ import annotations

import re
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.compat.harness import HERE, Outcome, Server, run

pytestmark = pytest.mark.timeout(120)

SURFACE = HERE / "locustfiles" / "surface"


@pytest.fixture
def site():
    server = Server("example_site.py")
    yield server
    server.stop()


def horde(name: str, site: Server, users: int = 3, seconds: int = 3, *extra: str) -> Outcome:
    args = ["-H", site.url, "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
            "--headless", "--only-summary", "--stop-timeout", "0", *extra]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        return run("horde", SURFACE / name, args, Path(tmp), timeout=60)


def printed(outcome: Outcome, prefix: str) -> list[str]:
    return [line for line in outcome.output.splitlines() if line.startswith(prefix)]


def stalls(outcome: Outcome, name: str) -> list[str]:
    return [
        line
        for line in outcome.output.splitlines()
        if "blocked the event loop" in line and name in line
    ]


def test_lifecycle_events_fire_in_locusts_order_with_its_keywords(site):
    outcome = horde("lifecycle_events.py", site)
    assert outcome.exit_code == 0, outcome.output
    events = ("init", "test_start", "spawning_complete", "test_stopping", "test_stop",
              "quitting", "quit")  # fmt: skip
    lines = [line for line in outcome.output.splitlines() if line.split(":")[0] in events]
    assert lines == [
        "init: runner=LocalRunner web_ui=None",
        # The target is set before test_start (Locust's); no user runs before it is done.
        "test_start: target_user_count=3 users=0",
        "spawning_complete: 3",
        "test_stopping: users=3",
        "test_stop: users=0",
        "quitting",
        "quit: exit_code=0",
    ]
    # test_start's time.sleep waited in a greenlet: the loop was never held.
    assert not stalls(outcome, "lifecycle_events.py"), outcome.output


def test_the_request_event_has_locusts_keywords_and_requests_are_named_as_under_locust(site):
    outcome = horde("request_context.py", site, users=2)
    assert outcome.exit_code == 1, outcome.output  # /does_not_exist fails
    assert set(outcome.rows) == {
        "GET /",
        "GET renamed",
        "GET by attribute",
        "GET /item?id=1",  # an absolute URL of an HttpUser: by its path
        "GET /does_not_exist",
        f"GET {site.url}/welcome",  # of a FastHttpUser: by the URL
    }
    assert printed(outcome, "contexts: ") == [
        "contexts: [\"[('kind', 'page'), ('user', 'visitor')]\", \"[('user', 'visitor')]\", '[]']"
    ]
    assert printed(outcome, "start times in the run: ") == ["start times in the run: True"]
    urls = printed(outcome, "urls: ")[0]
    assert f"{site.url}/hello" in urls and f"{site.url}/item?id=1" in urls
    assert printed(outcome, "statuses: ") == ["statuses: [200, 404]"]
    assert printed(outcome, "failed: ") == ["failed: ['/does_not_exist']"]
    assert sum(r for r, _ in outcome.rows.values()) == sum(site.served().values())
    # The failure is written as Locust writes it.
    assert [f["Error"] for f in outcome.failures] == [
        "HTTPError('404 Client Error: Not Found for url: /does_not_exist')"
    ]


def test_runner_quit_from_a_task_ends_the_run_with_its_results(site):
    outcome = horde("quit_from_task.py", site, 2, 30)
    assert outcome.exit_code == 0, outcome.output
    assert outcome.seconds < 15, "the run went on after runner.quit()"
    assert printed(outcome, "quitting with ")[0].startswith("quitting with ")
    assert "runner.quit() was called" in outcome.output  # the summary's stop reason
    requests = sum(r for r, _ in outcome.rows.values())
    assert requests >= 10 and requests == sum(site.served().values())


def test_user_errors_and_a_class_without_tasks_are_reported_as_by_locust(site):
    outcome = horde("user_errors.py", site, users=4)
    assert outcome.exit_code == 1, outcome.output  # exceptions in user code
    assert printed(outcome, "user errors: ") == [
        "user errors: [('Failing', 'ValueError', True), ('Idle', 'Exception', True)]"
    ]
    logged = [
        line
        for line in outcome.output.splitlines()
        if " ERROR " in line and "No tasks defined on Idle" in line
    ]
    assert len(logged) == 1, outcome.output  # logged once, however many Idle users there are


def test_reschedule_task_waits_and_reschedule_task_immediately_does_not(site):
    outcome = horde("reschedule.py", site, users=2, seconds=2)
    waiting, _ = outcome.rows["GET waiting"]
    immediate, _ = outcome.rows["GET immediate"]
    # One Waiting user for 2 s at a 0.25 s wait: about 8 tasks; the other never waits.
    assert 4 <= waiting <= 12, outcome.rows
    assert immediate > 5 * waiting, outcome.rows


def test_users_are_made_in_greenlets_while_the_others_work(site):
    outcome = horde("slow_constructor.py", site, users=3, seconds=3)
    assert outcome.exit_code == 0, outcome.output
    assert printed(outcome, "users made: ") == ["users made: 3"]
    assert printed(outcome, "a request before") == ["a request before the last user was made: True"]
    assert not stalls(outcome, "slow_constructor.py"), outcome.output


def test_a_gevent_timeout_around_a_request_is_the_cause_its_failure_names(site):
    outcome = horde("timeout_around_request.py", site, users=2, seconds=2)
    requests, failures = outcome.rows["GET slow"]
    assert requests == failures > 0, outcome.rows
    assert [f["Error"] for f in outcome.failures] == [
        "RequestCancelled('request interrupted by Timeout (0.03 seconds)')"
    ]
    assert requests == sum(site.served().values())  # each was on the wire: the site saw it


def test_distributed_events_and_messages_carry_data_between_master_and_workers(site):
    outcome = horde("distributed_events.py", site, 4, 4, "--processes", "2")
    assert outcome.exit_code == 0, outcome.output
    output = outcome.output
    assert output.count("master: a worker connected") == 2, output
    assert output.count("worker got: hello workers") == 2, output
    assert output.count("master got: thanks from worker ") == 2, output
    assert "master: heartbeat sent" in output and "worker: heartbeat received" in output
    # What workers' report_to_master put in their reports reached worker_report: every byte.
    found = re.search(r"master: (\d+) bytes in (\d+) requests", output)
    assert found, output
    page = len(urllib.request.urlopen(site.url + "/").read())
    assert int(found[1]) == int(found[2]) * page and int(found[2]) > 0


def test_rest_parses_json_and_words_failures_as_locust(site):
    outcome = horde("rest_calls.py", site, users=1, seconds=2)
    errors = {f["Name"]: f["Error"] for f in outcome.failures}
    assert "/authenticate" not in errors  # its assertion held
    assert errors["asserted"] == "CatchResponseError('not welcome')"
    assert errors["with response,"].startswith(
        'CatchResponseError(\'not welcome, response was {"message": "Welcome !"}'
    )
    assert errors["not json"].startswith(
        "CatchResponseError('Could not parse response as JSON. <html>"
    )
    assert "response code 200, error Expecting value" in errors["not json"]
    raised = errors["raised"]
    assert raised.startswith("CatchResponseError(") and "KeyError: " in raised
    assert "rest_calls.py:" in raised and "in calls. Response was {" in raised
    assert outcome.exit_code == 1


def test_options_from_locusts_add_argument_and_the_scenario_s_exit_code(site):
    env = {"SURFACE_FROM_ENV": "from the environment", "SURFACE_COUNT": "5"}
    args = ["-H", site.url, "-u", "2", "-r", "2", "-t", "1s", "--headless", "--only-summary",
            "--count", "7"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run("horde", SURFACE / "options_and_exit_code.py", args, Path(tmp), env)
    # The variable gives the default; the command line wins over it.
    assert printed(outcome, "options: ") == [
        "options: from_env=from the environment count=7 users=2"
    ]
    assert outcome.exit_code == 3, outcome.output  # environment.process_exit_code


def test_a_pytest_style_locustfile_of_our_own(site):
    outcome = horde("pytest_style.py", site, users=2, seconds=2)
    assert set(outcome.rows) == {"GET /", "GET /does_not_exist", f"GET {site.url}/hello"}
    # raise_for_status() ended each call of test_pages: /never was never requested.
    requests, failures = outcome.rows["GET /does_not_exist"]
    assert requests == failures > 0
    assert "GET /never" not in site.served()
    assert outcome.rows["GET /"][0] >= requests
    assert sum(r for r, _ in outcome.rows.values()) == sum(site.served().values())


def test_a_pytest_style_test_with_another_fixture_is_refused_in_one_sentence(site, tmp_path):
    scenario = tmp_path / "pytest_fixture.py"
    scenario.write_text("def test_x(tmp_path):\n    pass\n")
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run("horde", scenario, ["-H", site.url, "--headless", "-t", "1s"], Path(tmp))
    assert outcome.exit_code == 2
    assert (
        "horde: error: test_x() takes the fixture 'tmp_path': horde runs pytest-style "
        "locustfiles with Locust's fixtures (session, fastsession) only" in outcome.output
    )
    assert "Traceback" not in outcome.output


def test_an_init_listener_that_raises_ends_the_run(site, tmp_path):
    scenario = tmp_path / "bad_init.py"
    scenario.write_text(
        "from locust import HttpUser, events, task\n\n"
        "@events.init.add_listener\ndef broken(environment, **kwargs):\n"
        "    raise RuntimeError('no test data')\n\n"
        "class Visitor(HttpUser):\n    @task\n    def home(self):\n        self.client.get('/')\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run("horde", scenario, ["-H", site.url, "--headless", "-t", "5s"], Path(tmp))
    assert outcome.exit_code == 1  # Locust's rule: fatal
    assert "Uncaught exception in event handler" in outcome.output
    assert "RuntimeError: no test data" in outcome.output
    assert "horde: error: an init listener raised" in outcome.output
    assert site.served() == {}
