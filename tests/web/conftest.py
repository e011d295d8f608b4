"""horde's web mode as a real subprocess against a real target, and Debian's Chromium."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SCENARIO = """
from horde import HttpUser, constant, tag, task

class Visitor(HttpUser):
    wait_time = constant(0.05)

    @tag("browse")
    @task
    def home(self):
        self.client.get("/")
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (None when it has none): the
    address a UDP socket would send from (connecting it sends nothing)."""
    for probe in ("192.0.2.1", "10.255.255.255", "198.51.100.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect((probe, 9))
            except OSError:
                continue
            address = s.getsockname()[0]
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


class WebRun:
    """`horde run` without --headless, serving the UI on a free port (of ``host``)."""

    def __init__(
        self,
        tmp: Path,
        target: str,
        *extra: str,
        scenario: str = SCENARIO,
        host: str = "127.0.0.1",
        env: dict[str, str] | None = None,
        command: tuple[str, ...] = (sys.executable, "-m", "horde"),
        inherit_env: bool = True,
    ) -> None:
        self.port = free_port(host)
        self.url = f"http://{host}:{self.port}"
        path = tmp / "scenario.py"
        path.write_text(scenario)
        web_host = ("--web-host", host) if host != "127.0.0.1" else ()
        self.process = subprocess.Popen(
            [*command, "run", str(path), "-H", target, "--web-port", str(self.port),
             *web_host, *extra],
            cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**(os.environ if inherit_env else {}), **(env or {})},
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read())
            try:
                with socket.create_connection((host, self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        self.token = ""

    def load_token(self, opener=urllib.request.urlopen) -> str:
        with opener(self.url + "/") as response:
            page = response.read().decode()
        self.token = re.search(r'name="horde-token" content="([^"]+)"', page).group(1)
        return self.token

    def stop(self) -> tuple[str, str]:
        if self.process.poll() is None:
            self.process.send_signal(2)
        try:
            out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return out, err


@pytest.fixture
def web_run(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url)
    run.load_token()
    yield run
    run.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; installed here when missing and running as root, else a skip."""
    if not Path(CHROMIUM).exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip("browser tests need /usr/bin/chromium (apt-get install chromium as root)")
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            subprocess.run(install, capture_output=True)
        if not Path(CHROMIUM).exists():
            pytest.skip("could not install Debian's chromium with apt-get")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One Chromium per test module (each test opens its own pages)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()
