"""One locustfile, run as written by both tools (bench/blocking_libraries.py): users that call
the target with the requests library and report each call through the request event, as
locustfiles for custom clients do. Under Locust, gevent makes requests cooperative; under
horde, horde.compat does."""

import time

import requests
from locust import User, constant, events, task


class RequestsUser(User):
    wait_time = constant(0)

    def on_start(self):
        self.session = requests.Session()

    @task
    def index(self):
        started = time.perf_counter()
        response = self.session.get(f"{self.host}/")
        events.request.fire(
            request_type="GET",
            name="/",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(response.content),
            exception=None if response.ok else RuntimeError(response.status_code),
            context={},
        )

    def on_stop(self):
        self.session.close()
