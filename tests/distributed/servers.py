"""A target for distributed tests: answers every HTTP/1.1 request with 200 and counts them.

Runs as its own process (``python servers.py --host H --port P``), so that it can live in a
network namespace of its own. It writes its port on stdout when ready, answers ``GET /__count``
with the number of other requests seen, and prints ``count N`` when it gets SIGTERM, so a test can
read the count even when it cannot reach the server's address.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class _Counter:
    requests = 0


class _Responder(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head, buffer = buffer[:end], buffer[end + 4 :]
            if head.startswith(b"GET /__count "):
                body = str(_Counter.requests).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
            else:
                _Counter.requests += 1
                self.transport.write(RESPONSE)
        self.buffer = buffer


async def _serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Responder, host, port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    print(f"count {_Counter.requests}", flush=True)


class CountingServer:
    """This file as a subprocess (optionally under ``prefix``, e.g. ``ip netns exec NS``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, prefix: list[str] | None = None):
        cmd = [*(prefix or []), sys.executable, str(Path(__file__)), "--host", host]
        self.process = subprocess.Popen(
            [*cmd, "--port", str(port)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.process.kill()
            raise RuntimeError(f"counting server did not start (got {line!r})")
        self.port = int(line)
        self.url = f"http://{host}:{self.port}"

    def count(self) -> int:
        """The count so far, over HTTP (only where the server's address is reachable)."""
        with urllib.request.urlopen(f"{self.url}/__count", timeout=5) as response:
            return int(response.read())

    def stop(self) -> int:
        """Stop the server; returns its final count."""
        if self.process.poll() is None:
            self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        for line in out.splitlines():
            if line.startswith("count "):
                return int(line.split()[1])
        raise RuntimeError("counting server exited without its count")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
