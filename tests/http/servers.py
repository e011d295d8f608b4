"""A raw HTTP/1.1 test server on 127.0.0.1, in a thread with its own event loop.

Every misbehaviour the client must survive is a path: chunked and close-delimited bodies,
compression, cookies, redirects, stalls, dropped and reset connections, garbage. The server
counts connections and keeps every request it parsed, so tests can compare with the client.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import struct
import threading
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote

import httptools


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class ServerState:
    connections: int = 0
    requests: list[SeenRequest] = field(default_factory=list)


def response(
    status: int = 200,
    body: bytes = b"ok",
    headers: dict[str, str] | None = None,
    reason: str = "OK",
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Handler(asyncio.Protocol):
    def __init__(self, state: ServerState, server: TestServer) -> None:
        self.state = state
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.headers: dict[str, str] = {}
        self.body = b""
        self.url = b""

    def connection_made(self, transport):
        self.transport = transport
        self.state.connections += 1

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        self.headers[name.decode().lower()] = value.decode()

    def on_body(self, body):
        self.body += body

    def on_message_complete(self):
        request = SeenRequest(
            self.parser.get_method().decode(), self.url.decode(), self.headers, self.body
        )
        self.state.requests.append(request)
        self.headers, self.body, self.url = {}, b"", b""
        asyncio.get_running_loop().create_task(self.server.route(request, self.transport))


class TestServer:
    """Start with ``with TestServer() as server:``; ``server.url`` is its base URL."""

    __test__ = False

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.state = ServerState()
        self.ssl_context = ssl_context
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self.stall = asyncio.Event()

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> TestServer:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self.loop)
        self.port = future.result(10)
        return self

    async def _start(self) -> int:
        self._server = await self.loop.create_server(
            lambda: _Handler(self.state, self), "127.0.0.1", 0, ssl=self.ssl_context
        )
        return self._server.sockets[0].getsockname()[1]

    def __exit__(self, *exc) -> None:
        async def stop():
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def route(self, request: SeenRequest, transport) -> None:
        path = request.path.partition("?")[0]
        write = transport.write
        if path == "/":
            write(response(body=b"hello"))
        elif path == "/echo":
            body = json.dumps(
                {
                    "method": request.method,
                    "path": request.path,
                    "headers": request.headers,
                    "body": request.body.decode(),
                }
            )
            write(response(body=body.encode(), headers={"Content-Type": "application/json"}))
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            write(response(code, body=b"status", reason="Custom"))
        elif path == "/chunked":
            write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in (b"hel", b"lo ", b"chunks"):
                write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await asyncio.sleep(0.01)
            write(b"0\r\n\r\n")
        elif path == "/close-delimited":
            write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
            transport.close()
        elif path == "/gzip":
            write(
                response(
                    body=gzip.compress(b"squeezed " * 50), headers={"Content-Encoding": "gzip"}
                )
            )
        elif path == "/deflate":
            write(
                response(
                    body=zlib.compress(b"deflated " * 50), headers={"Content-Encoding": "deflate"}
                )
            )
        elif path == "/cookies/set":
            cookies = [
                "plain=1; Path=/",
                "scoped=2; Path=/cookies",
                "expired=3; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "secure=4; Path=/; Secure",
                "csrftoken=tok123; Path=/",
            ]
            head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + "".join(
                f"Set-Cookie: {c}\r\n" for c in cookies
            )
            write(head.encode() + b"\r\nok")
        elif path in ("/cookies/echo", "/other/echo"):
            write(response(body=request.headers.get("cookie", "").encode()))
        elif path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            if n == 0:
                write(response(body=b"arrived"))
            else:
                write(response(302, b"", {"Location": f"/redirect/{n - 1}"}, "Found"))
        elif path == "/see-other":
            write(response(303, b"", {"Location": "/echo"}, "See Other"))
        elif path == "/temporary":
            write(response(307, b"", {"Location": "/echo"}, "Temporary Redirect"))
        elif path == "/loop":
            write(response(302, b"", {"Location": "/loop"}, "Found"))
        elif path == "/stall":
            await asyncio.sleep(30)
        elif path == "/slow-body":
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            await asyncio.sleep(30)
        elif path == "/drip":
            # Bytes keep coming, each within the read timeout, but the whole takes long.
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n")
            for _ in range(20):
                await asyncio.sleep(0.1)
                write(b"x")
        elif path == "/drop":
            transport.close()
        elif path == "/reset":
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif path == "/garbage":
            write(b"THIS IS NOT HTTP\r\n\r\n")
        elif path == "/answer-then-close":
            # Keep-alive promised, then the server closes the idle connection anyway.
            write(response(body=b"bye"))
            self.loop.call_later(0.05, transport.close)
        elif path.startswith("/bytes/"):
            n = int(path.rsplit("/", 1)[1])
            write(response(body=b"x" * n))
        elif path.startswith("/gzip-bytes/"):
            n = int(path.rsplit("/", 1)[1])
            write(response(body=gzip.compress(b"z" * n), headers={"Content-Encoding": "gzip"}))
        elif path.startswith("/chunked-bytes/"):
            n = int(path.rsplit("/", 1)[1])
            write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for start in range(0, n, 100_000):
                piece = b"c" * min(100_000, n - start)
                write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await asyncio.sleep(0)
            write(b"0\r\n\r\n")
        elif path == "/close-each":
            # Answers with Connection: close: every request needs a new connection.
            write(response(body=b"once", headers={"Connection": "close"}))
            transport.close()
        elif path == "/redirect-to":
            target = request.path.partition("?url=")[2]
            write(response(302, b"", {"Location": unquote(target)}, "Found"))
        elif path == "/head":
            full = response(body=b"a body that HEAD must not read")
            write(full if request.method != "HEAD" else full[: full.index(b"\r\n\r\n") + 4])
        else:
            write(response(404, b"not found", reason="Not Found"))
