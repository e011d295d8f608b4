"""Fixtures shared by every test folder: real servers on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class CountingTarget:
    """bench/target_server.py (or another bench server) in a subprocess: fixed 200 answers, and
    a count at /__count."""

    def __init__(self, script: str = "target_server.py", *args: str) -> None:
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / script), "--ready-fd", str(write_fd), *args],
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as ready:
            self.port = int(ready.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def count(self) -> int:
        return int(self.get("/__count"))

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
            return response.read()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def counting_target() -> Iterator[CountingTarget]:
    target = CountingTarget()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture
def queue_target() -> Iterator[Callable[..., CountingTarget]]:
    """bench/queue_server.py: ``queue_target(capacity=N)`` serves at most N requests/s (0: no
    limit) and stalls on ``GET /__stall?ms=...``."""
    started: list[CountingTarget] = []

    def start(capacity: float = 0) -> CountingTarget:
        target = CountingTarget("queue_server.py", "--capacity", str(capacity))
        started.append(target)
        return target

    try:
        yield start
    finally:
        for target in started:
            target.stop()


@pytest.fixture(autouse=True, scope="session")
def _history_out_of_the_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs save themselves to the history (.horde/history.db where they run, by default);
    the suite's runs go to one file of its own, never into the source tree. Tests of the
    history itself choose their own location."""
    previous = os.environ.get("HORDE_HISTORY")
    os.environ["HORDE_HISTORY"] = str(tmp_path_factory.mktemp("history") / "history.db")
    yield
    if previous is None:
        os.environ.pop("HORDE_HISTORY", None)
    else:
        os.environ["HORDE_HISTORY"] = previous


USL_SYSTEM = (20.0, 0.05, 0.002)


@pytest.fixture
def usl_target() -> Iterator[CountingTarget]:
    """bench/usl_server.py: a system that scales by the Universal Scalability
    Law with λ = 20 requests/s, σ = 0.05, κ = 0.002 (``usl_target.system``), its throughput
    peaking at about 148 requests/s with 21.8 users."""
    lam, sigma, kappa = USL_SYSTEM
    target = CountingTarget(
        "usl_server.py", "--lambda", str(lam), "--sigma", str(sigma), "--kappa", str(kappa)
    )
    target.system = USL_SYSTEM  # type: ignore[attr-defined]
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture(autouse=True)
def _cooperative_layer_undone() -> Iterator[None]:
    """Loading a scenario in-process installs horde.compat (patched standard library, locust and
    gevent aliases); take it out after the test, so no other test runs with it by accident."""
    yield
    from horde import compat

    compat.uninstall()
