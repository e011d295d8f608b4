"""A target that misbehaves on purpose, run in its own process: one path per fault.

    python fault_server.py CERT KEY      # prints "PORT TLS_PORT" on its first line

It counts every request it has read whole (method, path) so tests can compare horde's counts
with what the server saw; ``GET /__counts`` answers them as JSON (and is not counted), and
``/__reset`` zeroes them. The TLS port serves the same paths with the certificate given
(self-signed: not trusted by default). Every handler ends when its client goes away.
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import ssl
import struct
import sys
import zlib

BIG_BODY = 200 * 1024 * 1024
WRITE_CHUNK = 1024 * 1024
IDLE_CLOSE = 0.05  # /keepalive-then-close: the connection closes once idle this long


def _gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(WRITE_CHUNK)
    parts = [compressor.compress(zeros) for _ in range(1024)]
    parts.append(compressor.flush())
    return b"".join(parts)


def response(status: str = "200 OK", body: bytes = b"ok", headers: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


class FaultServer:
    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.open_connections = 0
        self.bomb = _gzip_bomb()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                path = target.partition("?")[0]
                if path == "/__counts":
                    body = json.dumps(
                        {"counts": self.counts, "open_connections": self.open_connections - 1}
                    ).encode()
                    writer.write(response(body=body))
                    continue
                if path == "/__reset":
                    self.counts.clear()
                    writer.write(response())
                    continue
                self.counts[f"{method} {path}"] += 1
                if not await self.route(path, reader, writer):
                    return
        except (ConnectionError, OSError):
            return
        finally:
            self.open_connections -= 1
            writer.close()

    async def route(
        self, path: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must end."""
        write = writer.write
        if path == "/ok":
            write(response())
        elif path == "/reset-after-request":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        elif path == "/close-mid-headers":
            write(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")
            await writer.drain()
            return False
        elif path == "/slow-drip":
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not reader.at_eof() and not writer.is_closing():
                write(b"x")
                await writer.drain()
                await asyncio.sleep(0.1)
            return False
        elif path == "/stall":
            await reader.read()  # until the client goes away
            return False
        elif path == "/big-body":
            write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG_BODY)
            chunk = bytes(WRITE_CHUNK)
            for _ in range(BIG_BODY // WRITE_CHUNK):
                write(chunk)
                await writer.drain()
        elif path == "/bad-chunk-size":
            write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
            await writer.drain()
            return False
        elif path == "/bad-status-line":
            write(b"HTTP/1.1 abc Whatever\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            return False
        elif path == "/many-headers":
            headers = "".join(f"X-Header-{i}: value {i}\r\n" for i in range(10_000))
            write(response(headers=headers))
        elif path == "/close-delimited":
            write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"body until the close " * 50)
            await writer.drain()
            return False
        elif path == "/continue":
            write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
            write(response(body=b"after continue"))
        elif path == "/redirect-loop":
            write(response("302 Found", b"", "Location: /redirect-loop\r\n"))
        elif path == "/gzip-bomb":
            write(response(body=self.bomb, headers="Content-Encoding: gzip\r\n"))
        elif path == "/short-body":
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")
            await writer.drain()
            return False
        elif path == "/keepalive-then-close":
            write(response())
            await writer.drain()
            try:  # the next request must come soon, or the connection is closed
                await asyncio.wait_for(self._peek(reader), IDLE_CLOSE)
            except TimeoutError:
                return False
        else:
            write(response("404 Not Found", b"no such fault"))
        await writer.drain()
        return True

    @staticmethod
    async def _peek(reader: asyncio.StreamReader) -> None:
        await reader._wait_for_data("peek")  # type: ignore[attr-defined]


async def main(cert: str, key: str) -> None:
    server = FaultServer()
    plain = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    tls = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
    ports = (plain.sockets[0].getsockname()[1], tls.sockets[0].getsockname()[1])
    print(*ports, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
