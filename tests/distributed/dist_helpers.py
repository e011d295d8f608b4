"""Helpers for distributed tests: the scenario, free ports, horde subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

# Each user makes at most 1 / WAIT requests per second: bounds the requests lost with a worker.
WAIT = 0.05
SCENARIO = f"""
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant({WAIT})

    @task(3)
    def home(self):
        self.client.get("/")

    @task
    async def about(self):
        await self.client.get("/about", name="about page")


class Admin(HttpUser):
    fixed_count = 1
    wait_time = constant({WAIT})

    @task
    def admin(self):
        self.client.get("/admin")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Horde:
    """A ``horde run`` subprocess whose stderr goes to a file the test can poll."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        name: str,
        env: dict[str, str] | None = None,
        prefix: list[str] | None = None,
    ) -> None:
        self.log = cwd / f"{name}.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "horde", "run", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.stdout = ""

    def stderr(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, timeout: float = 30.0, count: int = 1) -> None:
        """Wait until ``text`` appears ``count`` times in stderr (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stderr().count(text) >= count:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not seen {count}x; stderr:\n{self.stderr()}")

    def finish(self, timeout: float = 60.0) -> int:
        out, _ = self.process.communicate(timeout=timeout)
        self.stdout = out or ""
        self._log_file.close()
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self._log_file.close()
