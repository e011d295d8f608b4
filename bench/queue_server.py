"""A target whose limits are known exactly: a capacity in requests/s, and stalls on demand.

With ``--capacity N`` the server behaves like one worker taking 1/N s per request, first come
first served: below N requests/s answers are quick, above it the queue (and latency) grows
without bound. That gives the capacity search a ground truth to find. ``GET /__stall?ms=1000``
holds every answer due in the next second until the stall ends, as a garbage-collection pause
or a locked table would; the open model must show that stall in its latencies.

``GET /__count`` answers the number of other requests seen (``?path=/x``: of those to ``/x``,
which no stray client of another test can add to). Timers use the standard asyncio
loop, whose timeouts are not rounded to whole milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
from urllib.parse import parse_qs, urlsplit

from serving import serve_until_stopped

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Queue:
    """The one worker: when it is next free, and until when everything stalls."""

    def __init__(self, capacity: float) -> None:
        self.service_time = 1.0 / capacity if capacity > 0 else 0.0
        self.next_free = 0.0
        self.stall_until = 0.0
        self.requests = 0
        self.by_path: dict[str, int] = {}

    def finish_time(self, now: float) -> float:
        start = max(now, self.stall_until)
        if self.service_time:
            start = max(start, self.next_free)
            self.next_free = start + self.service_time
            return self.next_free
        return start


class Responder(asyncio.Protocol):
    def __init__(self, queue: Queue) -> None:
        self.queue = queue
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
        queue, now = self.queue, self.loop.time()
        url = urlsplit(target)
        if url.path == "/__count":
            path = parse_qs(url.query).get("path", [None])[0]
            count = queue.requests if path is None else queue.by_path.get(path, 0)
            self.answer(str(count).encode())
        elif url.path == "/__stall":
            ms = float(parse_qs(url.query).get("ms", ["1000"])[0])
            queue.stall_until = max(queue.stall_until, now + ms / 1000)
            self.answer(b"stalling")
        else:
            queue.requests += 1
            queue.by_path[url.path] = queue.by_path.get(url.path, 0) + 1
            done = queue.finish_time(now)
            if done <= now:
                self.transport.write(RESPONSE)
            else:
                self.loop.call_at(done, self.write_later)

    def write_later(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)

    def answer(self, body: bytes) -> None:
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


async def serve(host: str, port: int, capacity: float, ready_fd: int | None) -> None:
    queue = Queue(capacity)
    await serve_until_stopped(lambda: Responder(queue), host, port, ready_fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--capacity", type=float, default=0.0, help="requests/s; 0: unlimited")
    parser.add_argument("--ready-fd", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.capacity, args.ready_fd))


if __name__ == "__main__":
    main()
