"""A load test of a line-based TCP service with a hand-written socket client that reports each
exchange through Locust's request event."""

import os
import socket
import time

from locust import User, constant, events, task


class LineClient:
    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.replies = self.sock.makefile("rb")

    def ask(self, text: str) -> bytes:
        started = time.perf_counter()
        self.sock.sendall(text.encode() + b"\n")
        reply = self.replies.readline()
        events.request.fire(
            request_type="TCP",
            name="echo",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(reply),
            exception=None if reply == text.upper().encode() + b"\n" else ValueError(reply),
        )
        return reply

    def close(self) -> None:
        self.replies.close()
        self.sock.close()


class EchoUser(User):
    wait_time = constant(0)

    def on_start(self):
        self.client = LineClient(os.environ["ECHO_SERVER"])

    @task
    def echo(self):
        self.client.ask("hello")

    def on_stop(self):
        self.client.close()
