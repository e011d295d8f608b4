"""Locust FastHttpUser equivalent of horde_async.py (bench/compare.py)."""

from locust import FastHttpUser, constant, task


class FastUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")
