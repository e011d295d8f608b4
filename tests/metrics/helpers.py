"""Helpers for the metrics tests: a scenario that goes quiet, scraping, reading a family."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

# Each user makes PER_USER requests, then idles: the run reaches a quiescent point where every
# request made has been answered and counted, and the count is known in advance.
PER_USER = 25
QUIET_SCENARIO = f"""
import asyncio
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.01)
    made = 0

    @task
    async def page(self):
        if self.made < {PER_USER}:
            self.made += 1
            await self.client.get("/items/" + str(self.made % 3), name="/items/:id")
        else:
            await asyncio.sleep(0.2)
"""


def write_scenario(tmp: Path, text: str = QUIET_SCENARIO) -> Path:
    path = tmp / "scenario.py"
    path.write_text(text)
    return path


def scrape(url: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    """GET a /metrics URL and parse it with Prometheus's own parser: {family name: family}."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(families: dict[str, object], family: str, sample: str | None = None, **labels: str):
    """The one sample of ``family`` (named ``sample``, default the family's) with ``labels``."""
    found = [
        s.value
        for s in families[family].samples  # type: ignore[attr-defined]
        if s.name == (sample or family) and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (family, sample, labels, found)
    return found[0]


def requests_total(families: dict[str, object]) -> int:
    if "horde_requests" not in families:
        return 0
    return int(sum(s.value for s in families["horde_requests"].samples))  # type: ignore[attr-defined]


def wait_until(check: Callable[[], object], timeout: float = 30.0, what: str = "") -> object:
    """Poll ``check`` (bounded in time) until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}: last {last!r}")


def metrics_url(stderr: str) -> str | None:
    match = re.search(r"horde metrics on (http://\S+/metrics)", stderr)
    return match.group(1) if match else None
