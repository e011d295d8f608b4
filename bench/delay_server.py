"""An HTTP target whose latency distribution is known, because it measures it itself.

Each request is answered after a delay drawn from the chosen profile (``fixed``: 20 ms;
``mix``: 5 ms for 80% of requests, 200 ms for the rest; with 90/10, p90 sat exactly on the jump
between the two delays, where it measures the slowest 5 ms answer rather than the distribution).
The server times every request from the moment its last byte was parsed to the moment the
answer was written, and keeps those times: ``GET /__truth`` returns them all (and the count),
for bench/accuracy.py to compare with what the load generator reports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

from serving import serve_until_stopped

PROFILES = {
    "fixed": lambda rng: 0.020,
    "mix": lambda rng: 0.005 if rng.random() < 0.8 else 0.200,
}


class DelayProtocol(asyncio.Protocol):
    durations: list[float] = []
    profile = PROFILES["fixed"]
    rng = random.Random(7)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head, buffer = buffer[:end], buffer[end + 4 :]
            if head.startswith(b"GET /__truth "):
                body = json.dumps({"durations_ms": DelayProtocol.durations}).encode()
                self.transport.write(  # type: ignore[attr-defined]
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                continue
            received = time.perf_counter()
            delay = DelayProtocol.profile(DelayProtocol.rng)
            asyncio.get_running_loop().call_later(delay, self._answer, received)
        self.buffer = buffer

    def _answer(self, received: float) -> None:
        self.transport.write(  # type: ignore[attr-defined]
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        DelayProtocol.durations.append((time.perf_counter() - received) * 1000)


async def serve(profile: str, ready_fd: int) -> None:
    DelayProtocol.profile = PROFILES[profile]
    await serve_until_stopped(DelayProtocol, ready_fd=ready_fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="fixed")
    parser.add_argument("--ready-fd", type=int, required=True)
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve(args.profile, args.ready_fd))


if __name__ == "__main__":
    main()
