"""Every way a real server misbehaves, against horde's runner, in both task styles.

For each fault: the run ends on time, every request is counted exactly as the server saw it,
each failure has a readable error, no user code crashed, and no file descriptor is left open.
Sizes are recorded as Locust does: the decoded length of the content a task gets; with
``keep_body=False`` the bytes received (the body is never decoded); with ``stream=True`` the
decoded bytes the task read.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvloop

from horde import HttpUser, constant, task
from horde.http.body import DEFAULT_MAX_BODY_SIZE
from horde.runner.environment import Environment
from horde.runner.lifecycle import DRAIN_GRACE
from horde.runner.load import Users
from horde.runner.local import LocalRunner
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(120)

RUN_SECONDS = 1.0
USERS = 3
NETWORK_TIMEOUT = 0.5  # the read timeout of the users: stalls fail fast


@dataclass
class Fault:
    path: str
    error: str | None  # the start of every failure's text; None: every request succeeds
    kwargs: dict[str, Any] = field(default_factory=dict)
    streamed: bool = False  # read the body with iter_content / aiter_content
    tls: bool = False
    insecure: bool = False
    hops: int = 1  # requests per task call (a redirect chain): all but the last succeed

    @property
    def id(self) -> str:
        extra = "".join(f",{k}={v}" for k, v in self.kwargs.items())
        return f"{'tls' if self.tls else ''}{self.path}{extra}{',stream' if self.streamed else ''}"


FAULTS = [
    Fault("/reset-after-request", "ConnectionReset: connection closed before a complete response"),
    Fault("/close-mid-headers", "ConnectionReset: connection closed before a complete response"),
    Fault("/slow-drip", "TotalTimeout: the request took longer than its total timeout of 0.3 s",
          {"timeout": 0.3}),
    Fault("/stall", f"ReadTimeout: no response data for {NETWORK_TIMEOUT:g} s (read timeout)"),
    Fault("/big-body", "BodyTooLarge: response body larger than the 8 MiB limit"),
    Fault("/big-body", None, {"keep_body": False}),
    Fault("/big-body", None, {"stream": True}, streamed=True),
    Fault("/bad-chunk-size", "MalformedResponse: malformed HTTP response: "),
    Fault("/bad-status-line", "MalformedResponse: malformed HTTP response: "),
    Fault("/many-headers", None),
    Fault("/close-delimited", None),
    Fault("/continue", None),
    Fault("/redirect-loop", "TooManyRedirects: more than 10 redirects from /redirect-loop",
          hops=11),
    Fault("/gzip-bomb", "BodyTooLarge: response body larger than the 8 MiB limit"),
    Fault("/short-body", "ConnectionReset: connection closed before a complete response"),
    Fault("/keepalive-then-close", None),
    Fault("/ok", "TLSError: TLS handshake with 127.0.0.1:", tls=True),
    Fault("/ok", None, tls=True, insecure=True),
]  # fmt: skip


def user_class(style: str, fault: Fault) -> type[HttpUser]:
    path, kwargs = fault.path, fault.kwargs

    if style == "async":

        class AsyncFaultUser(HttpUser):
            wait_time = constant(0.02)
            network_timeout = NETWORK_TIMEOUT

            @task
            async def hit(self) -> None:
                response = await self.client.get(path, **kwargs)
                if fault.streamed:
                    async for _ in response.aiter_content():
                        pass
                    response.close()

        return AsyncFaultUser

    class BlockingFaultUser(HttpUser):
        wait_time = constant(0.02)
        network_timeout = NETWORK_TIMEOUT

        @task
        def hit(self) -> None:
            response = self.client.get(path, **kwargs)
            if fault.streamed:
                with response:
                    for _ in response.iter_content():
                        pass

    return BlockingFaultUser


def open_fds() -> set[tuple[str, str]]:
    """This process's open file descriptors, with what each is (socket:[inode]...)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except FileNotFoundError:  # the one listdir itself had open
            pass
    return found


def run_in_process(cls: type[HttpUser], host: str, insecure: bool) -> tuple[RequestStats, float]:
    """Run ``USERS`` users for ``RUN_SECONDS``; the stats, and how long the run overran."""

    async def go() -> tuple[RequestStats, float]:
        env = Environment(user_classes=[cls], host=host, insecure=insecure, stats=RequestStats())
        runner = LocalRunner(env)
        runner.start(Users(USERS, 100))
        began = time.monotonic()
        await asyncio.sleep(RUN_SECONDS)
        await runner.stop()
        stopping = time.monotonic() - began - RUN_SECONDS
        await asyncio.sleep(0.1)  # transports close on the loop's next turns
        return env.stats, stopping

    return uvloop.run(go())


@pytest.mark.parametrize("style", ["blocking", "async"])
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_fault(fault_target, fault: Fault, style: str) -> None:
    fault_target.reset()
    uvloop.run(asyncio.sleep(0))  # uvloop's first loop in a process leaves a wake-up pipe open
    fds_before = open_fds()
    host = fault_target.tls_url if fault.tls else fault_target.url
    stats, stopping = run_in_process(user_class(style, fault), host, fault.insecure)
    fds_after = open_fds()

    # The run ends on time: a stop waits at most the drain grace for what is in flight.
    assert stopping < DRAIN_GRACE + 1.0
    entry = stats.entry("GET", fault.path)
    assert entry.num_requests > 0
    # No user code crashed: failures of the target are data.
    assert not stats.exceptions, [e.msg for e in stats.exceptions.values()]
    # Every request counted exactly as the server saw it (a TLS handshake that fails never
    # reaches the server: each attempt is a failure of its own).
    seen = fault_target.counts().get(f"GET {fault.path}", 0)
    if fault.tls and not fault.insecure:
        assert seen == 0
        assert entry.num_failures == entry.num_requests
    else:
        assert entry.num_requests == seen
    # Each failure has a readable error, never one ending in an empty colon.
    for error in stats.errors.values():
        assert not re.search(r":\s*$", error.error), error.error
        if error.error.startswith("RequestCancelled"):
            continue  # in flight when the run stopped
        assert fault.error is not None, error.error
        assert error.error.startswith(fault.error), error.error
    if fault.error is not None:  # the fault was met, not only cut short by the stop
        assert any(e.error.startswith(fault.error) for e in stats.errors.values())
    else:
        assert entry.num_requests > entry.num_failures
    if fault.error is None:
        cancelled = sum(
            e.occurrences for e in stats.errors.values() if e.error.startswith("RequestCancelled")
        )
        assert entry.num_failures == cancelled
    else:
        # All but the requests cut by the stop.
        assert entry.num_failures >= (entry.num_requests - USERS * fault.hops) // fault.hops
    if fault.kwargs.get("keep_body") is False:
        # Read to the end and counted as received, never held.
        assert entry.total_content_length >= (entry.num_requests - entry.num_failures) * (
            200 * 1024 * 1024
        )
    if fault.streamed:
        done = entry.num_requests - entry.num_failures
        assert entry.total_content_length >= done * 200 * 1024 * 1024 - USERS * 200 * 1024 * 1024
    # Nothing left open: every connection of every user is closed.
    assert fds_after <= fds_before, fds_after - fds_before


def test_the_default_cap_is_the_documented_one() -> None:
    assert DEFAULT_MAX_BODY_SIZE == 8 * 1024 * 1024
