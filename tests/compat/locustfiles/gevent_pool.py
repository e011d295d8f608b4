"""Fan-out inside a task with gevent: a page and its five assets fetched in parallel, and a
module-wide semaphore that lets two users at a time into an expensive search."""

import gevent
from gevent.lock import BoundedSemaphore
from gevent.pool import Pool
from locust import FastHttpUser, constant, task

search_slots = BoundedSemaphore(2)


class Browser(FastHttpUser):
    wait_time = constant(0)

    @task(4)
    def page_with_assets(self):
        self.client.get("/slow", name="page")
        pool = Pool(5)
        pool.map(lambda n: self.client.get(f"/slow?asset={n}", name="asset"), range(5))

    @task
    def dashboard(self):
        widgets = [gevent.spawn(self.client.get, "/slow", name="widget") for _ in range(3)]
        gevent.joinall(widgets, timeout=5, raise_error=True)

    @task
    def search(self):
        with search_slots:
            self.client.get("/slow", name="search")
