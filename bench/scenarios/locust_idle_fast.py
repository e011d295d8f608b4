"""Locust FastHttpUser equivalent of horde_idle.py (bench/memory_compare.py)."""

from locust import FastHttpUser, constant, task


class IdleFastUser(FastHttpUser):
    wait_time = constant(5)

    @task
    def index(self):
        self.client.get("/")
