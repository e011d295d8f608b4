"""``environment.web_ui`` under horde: Locust-style extensions of the web UI, served by horde's
aiohttp UI (Flask's API through horde.web.flask_compat), behind the UI's security checks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.harness import EXAMPLES, HERE, Server

pytestmark = pytest.mark.timeout(120)

SURFACE = HERE / "locustfiles" / "surface"


class WebRun:
    """``horde run FILE`` with its web UI on a free port, the test started at once."""

    def __init__(self, locustfile: Path, site: Server, folder: Path) -> None:
        self.log = folder / "output.txt"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "horde", "run", str(locustfile), "-H", site.url,
                 "--web-port", "0", "--autostart", "-u", "2", "-r", "2", "-t", "60s"],
                stdout=out, stderr=subprocess.STDOUT, cwd=folder,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"horde web UI on (http://\S+)", self.log.read_text())
            if found:
                self.url = found[1]
                break
            if self.process.poll() is not None:
                raise AssertionError(self.log.read_text())
            time.sleep(0.1)
        else:
            raise AssertionError("the web UI did not start: " + self.log.read_text())

    def request(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, bytes]:
        """Status, headers (case-insensitive) and body of one request."""
        request = urllib.request.Request(self.url + path, data=data, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        return self.log.read_text()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture
def web_run() -> Iterator[WebRun]:
    site = Server("example_site.py")
    with tempfile.TemporaryDirectory() as tmp:
        run = WebRun(SURFACE / "web_extension.py", site, Path(tmp))
        try:
            yield run
        finally:
            if run.process.poll() is None:
                run.stop()
            site.stop()


def test_routes_blueprints_templates_and_sessions_work_as_with_flask(web_run):
    status, _, body = web_run.request("/extra/hello/6?who=me")
    assert (status, body) == (200, b"<p>hello 7 me</p>")
    time.sleep(0.5)  # some requests of the test
    status, _, body = web_run.request("/tally")
    assert status == 200 and int(body.decode().split()[-1]) > 0
    status, _, body = web_run.request(
        "/extra/echo", json.dumps({"a": 1}).encode(), {"Content-Type": "application/json"}
    )
    assert status == 200 and json.loads(body) == {"received": {"a": 1}, "form": None}
    status, headers, _ = web_run.request(
        "/extra/login", b"name=ann", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 302 and headers["Location"] == "/extra/whoami"
    cookie = headers["Set-Cookie"].split(";")[0]
    status, _, body = web_run.request("/extra/whoami", headers={"Cookie": cookie})
    assert json.loads(body) == {"user": "ann"}
    assert json.loads(web_run.request("/extra/whoami")[2]) == {"user": None}


def test_an_after_request_hook_extends_horde_s_own_responses(web_run):
    time.sleep(0.5)
    status, _, body = web_run.request("/stats/requests")
    payload = json.loads(body)
    assert status == 200 and payload["extended_stats"][0]["key"] == "hits"
    assert "stats" in payload and "user_count" in payload  # horde's own fields are kept


def test_scenario_routes_pass_the_ui_s_security_checks(web_run):
    assert web_run.request("/tally", headers={"Host": "evil.example"})[0] == 403
    # A state change from another site's page is refused, as for horde's own controls.
    refused = web_run.request(
        "/extra/echo", b"{}", {"Content-Type": "application/json", "Origin": "http://evil.example"}
    )
    assert refused[0] == 403
    assert web_run.request("/extra/echo")[0] == 405  # a POST-only route
    assert web_run.request("/no/such/page")[0] == 404
    assert web_run.request("/")[0] == 200  # horde's own page is still horde's


def test_views_wait_in_greenlets(web_run):
    took: list[float] = []

    def fetch() -> None:
        started = time.monotonic()
        assert web_run.request("/slow-page")[2] == b"slow"
        took.append(time.monotonic() - started)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Four views of 0.3 s each at once: together, not one after the other (1.2 s).
    assert len(took) == 4 and time.monotonic() - started < 0.9


def test_locusts_extend_web_ui_example_runs_with_the_ui(tmp_path):
    site = Server("example_site.py")
    try:
        run = WebRun(EXAMPLES / "extend_web_ui.py", site, tmp_path)
        try:
            time.sleep(1.5)
            payload = json.loads(run.request("/stats/requests")[2])
            tables = {t["key"]: t["data"] for t in payload["extended_stats"]}
            assert {row["name"] for row in tables["content-length"]} >= {"/"}
            status, headers, body = run.request("/content-length/csv")
            assert status == 200 and headers["Content-Type"] == "text/csv"
            assert body.decode().splitlines()[0] == '"Name","Total content-length"'
            # Locust's own page template is not horde's page: the route says so.
            status, _, body = run.request("/extend")
            assert status == 501 and b"horde's dashboard is at /" in body
        finally:
            output = run.stop()
        assert run.process.returncode == 0, output
    finally:
        site.stop()
