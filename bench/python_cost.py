"""Python-side cost of one request, without the kernel: a fake transport answers every write.

    .venv/bin/python bench/python_cost.py [--seconds 3] [--rounds 5] [--metrics-port 0]

On loopback about half of a request's CPU is the kernel's (one write and one read syscall, and
TCP on both ends); that half is the same for every client. This isolates the other half, the
part horde's code decides: the user loop, the task, the client, the parser and the stats. The
seed-like style adds what the realistic benchmark's web users do: cookies on every request, a
form page that re-sends the CSRF cookie, and a form post with Django's CSRF header. The
transport answers each request on the next turn of the loop, so the loop, futures and tasks
still run as in a real test. Pinned to CPU 1; prints the median of several rounds per style.

With ``--metrics-port``, each round also serves Prometheus's ``/metrics`` on that port (0: any
free one), scraped once a second by a client on CPU 0: the cost per request then includes the
scrapes, which horde's loop serves (the figures go to their own block of performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

import uvloop
from doc import results_path, write_block

from horde import HttpUser, constant, task
from horde.http import connection as connection_module
from horde.http import session as session_module
from horde.runner.environment import Environment
from horde.runner.load import Users
from horde.runner.local import LocalRunner
from horde.stats import RequestStats

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
# What Django sends with a form page: the CSRF cookie again, unchanged (a session's pages).
FORM_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/html; charset=utf-8\r\n"
    b"Vary: Cookie\r\nX-Frame-Options: DENY\r\n"
    b"Set-Cookie: csrftoken=Wc0QeXbN3kX5xXzP1bq9X0i6F0pQ3aDk; Max-Age=31449600; Path=/;"
    b" SameSite=Lax\r\n\r\nok"
)
LOGIN_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/html; charset=utf-8\r\n"
    b"Set-Cookie: sessionid=h2f0w9k3l1m8n7b6v5c4x3z2a1s0d9f8; HttpOnly; Max-Age=1209600;"
    b" Path=/; SameSite=Lax\r\n\r\nok"
)


class AnsweringTransport(asyncio.Transport):
    """Answers every request with RESPONSE on the next turn of the loop."""

    def __init__(self, protocol: asyncio.Protocol, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.protocol = protocol
        self.loop = loop
        self.closing = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        if data.startswith(b"GET /create_page/"):
            answer = FORM_RESPONSE
        elif data.startswith(b"POST /accounts/login/"):
            answer = LOGIN_RESPONSE
        else:
            answer = RESPONSE
        self.loop.call_soon(self.protocol.data_received, answer)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default


async def open_answering(loop, host, port, ssl_context, connect_timeout, read_timeout):  # type: ignore[no-untyped-def]
    connection = connection_module.Connection(loop, read_timeout)
    connection.connection_made(AnsweringTransport(connection, loop))
    return connection


class AsyncUser(HttpUser):
    wait_time = constant(0)

    @task
    async def index(self) -> None:
        await self.client.get("/")


class BlockingUser(HttpUser):
    wait_time = constant(0)

    @task
    def index(self) -> None:
        self.client.get("/")


class SeedLikeUser(HttpUser):
    """The seed scenario's web user without a server: cookies, a form page, a CSRF form post."""

    wait_time = constant(0)
    django_csrf = True

    def on_start(self) -> None:
        self.client.get("/create_page/")
        self.client.post("/accounts/login/", data={"username": "user1", "password": "password"})

    @task
    def index(self) -> None:
        self.client.get("/")

    @task(4)
    def list_page(self) -> None:
        self.client.get("/pages/")

    @task
    def create_page(self) -> None:
        self.client.get("/create_page/")
        self.client.post("/create_page/", data={"name": "page by user1"})


# Prometheus's side of --metrics-port: a GET a second, from another CPU than horde's.
SCRAPER = """
import os, sys, time, urllib.request
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {0})
while True:
    urllib.request.urlopen(sys.argv[1], timeout=5).read()
    time.sleep(1)
"""


async def one_round(user_class: type, seconds: float, metrics_port: int | None = None) -> float:
    env = Environment(user_classes=[user_class], host="http://127.0.0.1:9", stats=RequestStats())
    runner = LocalRunner(env)
    scraper = server = None
    if metrics_port is not None:
        from horde.metrics import RunInfo
        from horde.settings import Settings
        from horde.web.metrics_server import start_metrics_server

        settings = Settings(scenario="bench", metrics_port=metrics_port)
        server, url = await start_metrics_server(env, settings, RunInfo("headless"))
        scraper = subprocess.Popen([sys.executable, "-c", SCRAPER, url])
    runner.start(Users(50, 100_000))
    await asyncio.sleep(0.5)
    cpu, count = time.process_time(), env.stats.total.num_requests
    await asyncio.sleep(seconds)
    cpu, count = time.process_time() - cpu, env.stats.total.num_requests - count
    await runner.stop()
    if scraper is not None and server is not None:
        scraper.kill()
        scraper.wait()
        await server.cleanup()
    if env.stats.total.num_failures:
        raise SystemExit("requests failed: the fake transport is out of step with the client")
    return cpu / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--metrics-port", type=int, default=None)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    session_module.open_connection = open_answering  # type: ignore[assignment]
    styles = {
        "async tasks, GET /": AsyncUser,
        "blocking tasks, GET /": BlockingUser,
        "seed-like: cookies, CSRF form posts (blocking)": SeedLikeUser,
    }
    if args.metrics_port is not None:
        with_and_without_metrics(styles, args)
        return
    medians = {}
    for style, cls in styles.items():
        costs = [uvloop.run(one_round(cls, args.seconds)) for _ in range(args.rounds)]
        medians[style] = statistics.median(costs)
        print(f"{style:48s} {medians[style]:.2f} us of CPU per request (median)")
    command = " ".join(["bench/python_cost.py", *sys.argv[1:]])
    results_path("python-cost").write_text(
        json.dumps({"median_us": medians, "command": command}, indent=2)
    )
    table = "\n".join(
        ["| scenario | µs of horde's CPU per request (median) |", "|---|---|"]
        + [f"| {style} | {value:.2f} |" for style, value in medians.items()]
    )
    write_block(
        "python-cost",
        "horde's own cost per request, without the kernel (bench/python_cost.py)",
        f"A fake transport answers every request on the next turn of the loop, so only horde's "
        f"code is timed: user loop, task, client, parser, stats. 50 users, no wait, pinned to "
        f"CPU 1, median of {args.rounds} rounds of {args.seconds:g} s.\n\n{table}",
        command,
    )


def with_and_without_metrics(styles: dict[str, type], args: argparse.Namespace) -> None:
    """Rounds without and with /metrics scraped, alternated (the machine's noise hits both)."""
    rows = []
    for style, cls in styles.items():
        plain: list[float] = []
        scraped: list[float] = []
        for _ in range(args.rounds):
            plain.append(uvloop.run(one_round(cls, args.seconds)))
            scraped.append(uvloop.run(one_round(cls, args.seconds, args.metrics_port)))
        row = (style, statistics.median(plain), statistics.median(scraped))
        rows.append(row)
        print(f"{style:48s} {row[1]:.2f} us without, {row[2]:.2f} us with /metrics scraped")
    command = " ".join(["bench/python_cost.py", *sys.argv[1:]])
    results_path("python-cost-metrics").write_text(
        json.dumps(
            {"median_us": {s: {"without": a, "with_metrics": b} for s, a, b in rows},
             "command": command},
            indent=2,
        )
    )  # fmt: skip
    table = "\n".join(
        ["| scenario | without | with /metrics scraped every second |", "|---|---|---|"]
        + [f"| {style} | {a:.2f} µs | {b:.2f} µs |" for style, a, b in rows]
    )
    write_block(
        "python-cost-metrics",
        "The cost per request with Prometheus scraping --metrics-port (bench/python_cost.py)",
        "bench/python_cost.py's rounds, alternated: without metrics, then with horde serving "
        "/metrics and a client on another CPU scraping it once a second (Prometheus's default "
        "is every 15 s). µs of horde's CPU per request, median of "
        f"{args.rounds} rounds of {args.seconds:g} s each way.\n\n{table}",
        command,
    )


if __name__ == "__main__":
    main()
