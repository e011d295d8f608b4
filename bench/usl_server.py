"""A target that scales by the Universal Scalability Law, with coefficients chosen in advance.

Each request is answered after ``(1 + σ(n-1) + κn(n-1)) / λ`` seconds, n being the requests in
flight at the server when it arrives (itself included). With N users who send their next
request as soon as the last is answered, n is N at every arrival, so the server's throughput is
``N / R(N) = λN / (1 + σ(N-1) + κN(N-1))``: the USL itself, with a peak at
``N* = sqrt((1-σ)/κ)``. The delays are timers, not work, so the server takes almost no CPU and
its curve does not bend with the machine's load. That gives the capacity search's fit a ground
truth to recover, end to end through real sockets.

``GET /__count`` answers the number of other requests seen.
"""

from __future__ import annotations

import argparse
import asyncio

from serving import serve_until_stopped

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class System:
    """The simulated system: its coefficients, and what it holds now."""

    def __init__(self, lam: float, sigma: float, kappa: float) -> None:
        self.lam, self.sigma, self.kappa = lam, sigma, kappa
        self.in_flight = 0
        self.requests = 0

    def service_time(self) -> float:
        n = self.in_flight
        return (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1)) / self.lam


class Responder(asyncio.Protocol):
    def __init__(self, system: System) -> None:
        self.system = system
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head, buffer = buffer[:end], buffer[end + 4 :]
            if head.split(b" ", 2)[1] == b"/__count":
                body = str(self.system.requests).encode()
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (
                    len(body), body))  # fmt: skip
                continue
            self.system.requests += 1
            self.system.in_flight += 1
            self.loop.call_later(self.system.service_time(), self._answer)
        self.buffer = buffer

    def _answer(self) -> None:
        self.system.in_flight -= 1
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport.close()


async def serve(system: System, ready_fd: int | None) -> None:
    await serve_until_stopped(lambda: Responder(system), ready_fd=ready_fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lambda", dest="lam", type=float, default=20.0,
                        help="throughput of one user alone, requests/s (default 20)")  # fmt: skip
    parser.add_argument("--sigma", type=float, default=0.05, help="contention (default 0.05)")
    parser.add_argument("--kappa", type=float, default=0.002, help="coherency (default 0.002)")
    parser.add_argument("--ready-fd", type=int)
    args = parser.parse_args()
    asyncio.run(serve(System(args.lam, args.sigma, args.kappa), args.ready_fd))


if __name__ == "__main__":
    main()
