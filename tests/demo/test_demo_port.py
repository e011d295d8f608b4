"""`make demo` never loads a server it did not start (issue 12, item 13).

When another program held the demo's port, gunicorn could not bind (it retries for seconds),
the readiness check got that program's answer, and the demo sent its load, POSTs included, to it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from serve import DemoServer, PortTaken, check_port_free  # on the path through conftest.py

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(120)


class Stranger:
    """Another program on a port of 127.0.0.1, answering 200 to everything, counting requests."""

    def __init__(self) -> None:
        seen: list[str] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                seen.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stranger():
    server = Stranger()
    try:
        yield server
    finally:
        server.close()


def test_the_demo_stops_with_one_sentence_when_its_port_is_taken(stranger):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--port", str(stranger.port),
         "-t", "2s", "-u", "2", "--accounts", "5"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"demo: error: port {stranger.port} on 127.0.0.1 is already taken by another program: "
        "stop it, choose another --port, or leave --port out to use a free one"
    )
    assert stranger.seen == []  # not one request, let alone the load


def test_an_answer_from_another_program_is_never_taken_for_the_demo_app(stranger, tmp_path):
    # The port was free when checked, then taken before gunicorn could bind it: the readiness
    # check must see that the answer is not from the gunicorn it started.
    server = DemoServer(port=stranger.port, data_dir=tmp_path, start_timeout=20)
    with pytest.raises(PortTaken, match=f"another program answers on {server.url}"):
        server._wait_until_ready()
    assert stranger.seen == ["GET /__instance/"]


def test_the_demo_app_proves_it_is_the_one_started(demo_app):
    with urllib.request.urlopen(f"{demo_app.url}/__instance/", timeout=5) as response:
        assert response.read().decode() == demo_app.instance


def test_without_a_port_the_demo_app_takes_a_free_one():
    server = DemoServer()
    check_port_free(server.host, server.port)  # raises PortTaken when it is not
