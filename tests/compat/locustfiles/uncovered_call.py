"""A task that waits in a call horde cannot make cooperative (a threading event)."""

import threading

from locust import HttpUser, constant, task


class Waiter(HttpUser):
    wait_time = constant(0.1)

    @task
    def wait_for_nothing(self):
        threading.Event().wait(0.3)
        self.client.get("/")
