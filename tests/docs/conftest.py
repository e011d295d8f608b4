"""The demo app the documentation's examples run against, started once for this folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "django_app"))

from serve import DemoServer, free_port  # noqa: E402


@pytest.fixture(scope="session")
def docs_demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    # No login throttle: the examples run one after another, each logging in as user1, user2...
    # within the 2 s the demo app otherwise asks between two logins of one account.
    server = DemoServer(
        port=free_port(),
        data_dir=tmp_path_factory.mktemp("docs-demo-app"),
        users=50,
        workers=2,
        env={"DEMO_LOGIN_INTERVAL": "0"},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
