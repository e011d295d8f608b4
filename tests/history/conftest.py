"""Fixtures of the history's tests: a target whose speed can be changed, a real PostgreSQL
server (Debian's package, started here), and `horde` as a subprocess in a folder of its own."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CountingTarget

# Two names, a steady pace: a few seconds give a few thousand requests per run.
SCENARIO = """
from horde import HttpUser, constant, task

class Shopper(HttpUser):
    wait_time = constant(0.005)

    @task(3)
    def home(self):
        self.client.get("/")

    @task
    def item(self):
        self.client.get("/item")
"""


class LatencyTarget(CountingTarget):
    """bench/latency_server.py: answers after a delay, ``scale(1.3)`` makes it 30% slower."""

    def __init__(self, *args: str) -> None:
        super().__init__("latency_server.py", *args)

    def scale(self, factor: float) -> None:
        self.get(f"/__scale?factor={factor}")


@pytest.fixture
def latency_target() -> Iterator[LatencyTarget]:
    """A fixed 20 ms: any difference between two runs is the generator's and the machine's."""
    target = LatencyTarget("--delay", "20")
    try:
        yield target
    finally:
        target.stop()


@dataclass
class Horde:
    """`horde` in a folder of its own (its default history is ``.horde/history.db`` there)."""

    folder: Path
    env: dict[str, str]

    def __call__(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "horde", *args], cwd=self.folder, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def run(self, url: str, *extra: str, seconds: int = 6, users: int = 10):
        return self(
            "run", "shop.py", "-H", url, "-u", str(users), "-r", "100", "-t", f"{seconds}s",
            "--headless", "--only-summary", *extra,
        )  # fmt: skip

    def json(self, *args: str) -> object:
        done = self(*args, "--json")
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def horde(tmp_path: Path) -> Horde:
    (tmp_path / "shop.py").write_text(SCENARIO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    return Horde(tmp_path, env)


# PostgreSQL ------------------------------------------------------------------------------------
def _postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server on a free port of 127.0.0.1, from Debian's package (installed here
    when missing and running as root); its URL without a database."""
    pytest.importorskip("psycopg", reason="the PostgreSQL backend needs psycopg (dev group)")
    binaries = _postgres_bin()
    if binaries is None:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip("needs Debian's postgresql package (apt-get install postgresql as root)")
        install = ["apt-get", "install", "-y", "-q", "postgresql"]
        if subprocess.run(install, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            subprocess.run(install, capture_output=True)
        binaries = _postgres_bin()
        if binaries is None:
            pytest.skip("could not install Debian's postgresql package with apt-get")
    folder = Path(tempfile.mkdtemp(prefix="horde-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the package's postgres user runs the server
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data, log = folder / "data", folder / "server.log"
    try:
        subprocess.run(
            [*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "horde",
             "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
             "-w", "-t", "30", "start"],
            check=True, capture_output=True,
        )  # fmt: skip
        yield f"postgresql://horde@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database on the server, dropped after the test."""
    import psycopg

    name = f"horde_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on both backends."""
    if request.param == "sqlite":
        return str(tmp_path / "h" / "history.db")
    return str(request.getfixturevalue("postgres_url"))


def wait_until(check: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False
