"""A target whose speed is known and can be changed while it runs: for comparing runs.

Each request is answered after ``delay x scale x drift(t) x jitter``:

- ``--delay MS``: the base delay;
- ``scale``: 1 at start, changed at run time with ``GET /__scale?factor=1.3`` (30% slower for
  every request from then on), so one server can be "the old build" and "the new build";
- ``--drift SIGMA``: a slow wander of the server's speed (``exp(X_t)``, X an Ornstein-Uhlenbeck
  process with standard deviation SIGMA and correlation time ``--drift-time`` seconds), as load
  from elsewhere, caches and garbage collection make a real server's speed wander: consecutive
  requests share it, so a run's requests are not independent samples;
- ``--jitter SIGMA``: each request's own lognormal factor (independent);
- ``--stalls N``: on average N pauses per minute of ``--stall-ms`` each, during which nothing is
  answered (a stop-the-world pause): answers due in it wait until it ends.

``GET /__count`` answers the requests served. Timers use the standard asyncio loop, whose
timeouts are not rounded to whole milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
from urllib.parse import parse_qs, urlsplit

from serving import serve_until_stopped

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
DRIFT_STEP = 0.1  # seconds between updates of the drift


class Speed:
    """The server's state: scale, drift and stalls."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.delay = args.delay / 1000.0
        self.scale = 1.0
        self.jitter = args.jitter
        self.drift_sigma = args.drift
        self.drift_time = args.drift_time
        self.stall_rate = args.stalls / 60.0
        self.stall_seconds = args.stall_ms / 1000.0
        self.rng = random.Random(args.seed)
        self.x = self.rng.gauss(0.0, self.drift_sigma) if self.drift_sigma else 0.0
        self.stall_until = 0.0
        self.requests = 0

    def step(self, now: float) -> None:
        """Advance the drift by DRIFT_STEP and maybe start a stall."""
        if self.drift_sigma:
            rho = math.exp(-DRIFT_STEP / self.drift_time)
            self.x = rho * self.x + math.sqrt(1 - rho * rho) * self.rng.gauss(0, self.drift_sigma)
        if self.stall_rate and self.rng.random() < self.stall_rate * DRIFT_STEP:
            self.stall_until = max(self.stall_until, now + self.stall_seconds)

    def answer_at(self, now: float) -> float:
        delay = self.delay * self.scale * math.exp(self.x)
        if self.jitter:
            delay *= math.exp(self.rng.gauss(0.0, self.jitter))
        return max(now + delay, self.stall_until)


class Responder(asyncio.Protocol):
    def __init__(self, speed: Speed) -> None:
        self.speed = speed
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head, buffer = buffer[:end], buffer[end + 4 :]
            self.handle(head.split(b" ", 2)[1].decode("latin-1"))
        self.buffer = buffer

    def handle(self, target: str) -> None:
        speed, url = self.speed, urlsplit(target)
        if url.path == "/__scale":
            speed.scale = float(parse_qs(url.query).get("factor", ["1"])[0])
            self.reply(f"{speed.scale:g}".encode())
        elif url.path == "/__count":
            self.reply(str(speed.requests).encode())
        else:
            speed.requests += 1
            self.loop.call_at(speed.answer_at(self.loop.time()), self.write_later)

    def write_later(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)

    def reply(self, body: bytes) -> None:
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


async def drift(speed: Speed) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(DRIFT_STEP)
        speed.step(loop.time())


async def serve(args: argparse.Namespace) -> None:
    speed = Speed(args)
    ticker = asyncio.get_running_loop().create_task(drift(speed))
    try:
        await serve_until_stopped(lambda: Responder(speed), args.host, args.port, args.ready_fd)
    finally:
        ticker.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=20.0, help="base delay, ms")
    parser.add_argument("--jitter", type=float, default=0.0, help="per-request lognormal sigma")
    parser.add_argument("--drift", type=float, default=0.0, help="sd of the log speed factor")
    parser.add_argument("--drift-time", type=float, default=10.0, help="its correlation time, s")
    parser.add_argument("--stalls", type=float, default=0.0, help="pauses per minute")
    parser.add_argument("--stall-ms", type=float, default=200.0, help="length of each pause")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--ready-fd", type=int, default=None)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
