"""The load test the pods run: replace it with your own (a horde or Locust scenario file).

It is mounted from the ConfigMap that kustomization.yaml generates from this file, at the same
path in the master and in every worker: they must run the same file (the master refuses a
worker whose scenario differs).
"""

from horde import HttpUser, between, task


class Visitor(HttpUser):
    wait_time = between(1, 3)

    @task(5)
    def home(self):
        self.client.get("/")

    @task(1)
    def health(self):
        self.client.get("/health", name="health check")
