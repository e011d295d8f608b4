"""An API load test written with requests and a helper module, paced with time.sleep."""

import time

from api import ApiClient, log_in
from locust import User, constant, task


class ApiUser(User):
    wait_time = constant(0)

    def on_start(self):
        log_in(self.host)
        self.api = ApiClient(self.host)

    @task(3)
    def slow_page(self):
        self.api.call("GET", "/slow")  # the site answers after 0.1 s
        time.sleep(0.2)  # think time, paced the way many locustfiles do

    @task
    def missing_page(self):
        self.api.call("GET", "/does_not_exist", name="missing page")
        time.sleep(0.2)
