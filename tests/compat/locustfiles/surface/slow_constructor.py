"""Users whose constructor waits (time.sleep): made one after the other, as Locust makes
them, while the users already made keep working."""

import time

from locust import HttpUser, constant, events, task

made = []
first_request = []


@events.request.add_listener
def on_request(start_time, **kwargs):
    if not first_request:
        first_request.append(start_time)


@events.test_stop.add_listener
def report(environment, **kwargs):
    print(f"users made: {len(made)}")
    print(f"a request before the last user was made: {first_request[0] < made[-1]}")


class Slow(HttpUser):
    wait_time = constant(0.05)

    def __init__(self, environment):
        time.sleep(0.4)
        super().__init__(environment)
        made.append(time.time())

    @task
    def home(self):
        self.client.get("/")
