"""RescheduleTask waits the user's wait_time first; RescheduleTaskImmediately does not."""

from locust import HttpUser, constant, task
from locust.exception import RescheduleTask, RescheduleTaskImmediately


class Waiting(HttpUser):
    wait_time = constant(0.25)

    @task
    def once(self):
        self.client.get("/", name="waiting")
        raise RescheduleTask()


class Immediate(HttpUser):
    wait_time = constant(0.25)

    @task
    def again(self):
        self.client.get("/", name="immediate")
        raise RescheduleTaskImmediately()
