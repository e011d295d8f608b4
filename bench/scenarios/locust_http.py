"""Locust HttpUser (requests) equivalent of horde_blocking.py (bench/compare.py)."""

from locust import HttpUser, constant, task


class RequestsUser(HttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")
