"""Closed loop of GET / with blocking-style tasks (bench/compare.py)."""

from horde import HttpUser, constant, task


class BlockingUser(HttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")
