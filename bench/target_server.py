"""A fast HTTP/1.1 target for benchmarks: fixed keep-alive answers, counted.

Runs in its own process so that its CPU is never billed to the generator being measured.
``GET /__count`` answers the number of other requests seen (so benchmarks can check that the
generator's count equals the server's).
"""

from __future__ import annotations

import argparse
import asyncio

from serving import serve_until_stopped

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Counter:
    requests = 0


class FixedResponder(asyncio.Protocol):
    """Answers every request with RESPONSE; requests are found by their blank-line terminator."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            buffer = buffer[end + 4 :]
            if head.startswith(b"GET /__count "):
                body = str(Counter.requests).encode()
                self.transport.write(  # type: ignore[attr-defined]
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
            else:
                Counter.requests += 1
                self.transport.write(RESPONSE)  # type: ignore[attr-defined]
        self.buffer = buffer


async def serve(host: str, port: int, ready_fd: int | None) -> None:
    await serve_until_stopped(FixedResponder, host, port, ready_fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-fd", type=int, default=None)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(serve(args.host, args.port, args.ready_fd))
    except ImportError:
        asyncio.run(serve(args.host, args.port, args.ready_fd))


if __name__ == "__main__":
    main()
