"""A task that ends the run with runner.quit() (Locust's), well before -t."""

from locust import HttpUser, constant, task

requests_made = 0


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def home(self):
        global requests_made
        self.client.get("/")
        requests_made += 1
        if requests_made == 10:
            print(f"quitting with {self.environment.runner.stats.total.num_requests} requests")
            self.environment.runner.quit()
