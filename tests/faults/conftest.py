"""The misbehaving server (tests/faults/fault_server.py), one process for the whole suite."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

HERE = Path(__file__).resolve().parent


@dataclass
class FaultTarget:
    url: str
    tls_url: str
    process: subprocess.Popen[str]

    def counts(self) -> dict[str, int]:
        """What the server saw, per "METHOD /path"."""
        with urllib.request.urlopen(f"{self.url}/__counts", timeout=10) as answer:
            return json.loads(answer.read())["counts"]

    def reset(self) -> None:
        urllib.request.urlopen(f"{self.url}/__reset", timeout=10).read()


@pytest.fixture(scope="session")
def fault_target(tmp_path_factory: pytest.TempPathFactory):
    ca = trustme.CA()  # a CA nobody trusts: its certificates are self-signed as far as horde knows
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    process = subprocess.Popen(
        [sys.executable, str(HERE / "fault_server.py"), str(cert_file), str(key_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port, tls_port = process.stdout.readline().split()  # type: ignore[union-attr]
        yield FaultTarget(f"http://127.0.0.1:{port}", f"https://127.0.0.1:{tls_port}", process)
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
