"""The demo Django application under gunicorn, started once for this folder's tests."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "django_app"))

from serve import DemoServer, free_port  # noqa: E402


class RequestLog:
    """The app's own record of the requests it answered (DEMO_REQUEST_LOG)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines() if self.path.exists() else []

    def mark(self) -> int:
        return len(self.lines())

    def counts_since(self, mark: int) -> Counter[tuple[str, str]]:
        """(method, path without query) -> requests answered since ``mark``."""
        counts: Counter[tuple[str, str]] = Counter()
        for line in self.lines()[mark:]:
            method, path, _status = line.split(" ")
            counts[(method, path.split("?")[0])] += 1
        return counts


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo-app")
    log = data / "requests.log"
    server = DemoServer(
        port=free_port(),
        data_dir=data,
        users=200,
        workers=2,
        request_log=log,
        env={"DEMO_LOGIN_INTERVAL": "2"},
    )
    server.start()
    server.log = RequestLog(log)  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()
