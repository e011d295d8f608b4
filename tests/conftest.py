"""Fixtures shared by every test folder: real servers on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class CountingTarget:
    """bench/target_server.py in a subprocess: fixed 200 answers, and a count at /__count."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "target_server.py"), "--ready-fd", str(write_fd)],
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as ready:
            self.port = int(ready.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def count(self) -> int:
        with urllib.request.urlopen(f"{self.url}/__count", timeout=5) as response:
            return int(response.read())

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
