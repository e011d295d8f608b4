"""Fixtures for distributed tests; every process a test starts is killed at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.distributed.dist_helpers import SCENARIO, Horde
from tests.distributed.servers import CountingServer


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.py"
    path.write_text(SCENARIO)
    return path


@pytest.fixture
def target() -> Iterator[CountingServer]:
    server = CountingServer()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def horde(tmp_path: Path) -> Iterator[Callable[..., Horde]]:
    started: list[Horde] = []

    def start(*args: str, name: str = "horde", **kwargs) -> Horde:
        proc = Horde(list(args), tmp_path, name, **kwargs)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.kill()
