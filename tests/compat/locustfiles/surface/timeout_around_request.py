"""A gevent.Timeout around a request: the request that was on the wire fails, and its failure
says what interrupted it."""

import gevent
from locust import HttpUser, constant, task


class Impatient(HttpUser):
    wait_time = constant(0.05)

    @task
    def slow(self):
        with gevent.Timeout(0.03, False):
            self.client.get("/slow", name="slow")
