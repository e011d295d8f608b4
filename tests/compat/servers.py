"""Small servers in threads of the test process, for the cooperative layer's tests.

They run in ordinary threads, so their own blocking calls (accept, recv, time.sleep) also show
that code outside user greenlets behaves exactly as before while horde's patches are in place.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from xmlrpc.server import SimpleXMLRPCServer


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 0.3

    def do_GET(self) -> None:
        time.sleep(self.delay)
        body = f"slept {self.delay}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _ThreadingHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


@contextmanager
def slow_http(delay: float = 0.3, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """An HTTP(S) server answering every GET after ``delay`` seconds; yields its base URL."""
    handler = type("Handler", (_SlowHandler,), {"delay": delay})
    server = _ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    host = "localhost" if tls is not None else "127.0.0.1"
    try:
        yield f"{scheme}://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _ThreadingXMLRPCServer(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    request_queue_size = 128


@contextmanager
def slow_xmlrpc(delay: float = 0.3) -> Iterator[str]:
    server = _ThreadingXMLRPCServer(("127.0.0.1", 0), logRequests=False)

    def nap(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    server.register_function(nap, "nap")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_tcp() -> Iterator[tuple[str, int]]:
    """A listener that accepts and never answers: reads from it only time out."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()
    finally:
        stop.set()
        thread.join()
        for sock in accepted:
            sock.close()
        listener.close()


@contextmanager
def slow_line_echo(delay: float = 0.1) -> Iterator[tuple[str, list[int]]]:
    """A TCP service answering each line, upper-cased, after ``delay`` seconds; yields its
    ``host:port`` and a one-item list counting the lines it answered."""
    answered = [0]
    lock = threading.Lock()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for line in self.rfile:
                time.sleep(delay)
                self.wfile.write(line.upper())
                with lock:
                    answered[0] += 1

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", answered
    finally:
        server.shutdown()
        server.server_close()
