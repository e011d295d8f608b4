"""The request event's keywords, and the ways Locust names requests."""

import time

from locust import FastHttpUser, HttpUser, constant, events, task

heard = []


@events.request.add_listener
def on_request(request_type, name, response_time, response_length, exception, context,
               start_time, url, response, **kwargs):  # fmt: skip
    heard.append((request_type, name, context, start_time, url, response, exception))


@events.test_stop.add_listener
def report(environment, **kwargs):
    now = time.time()
    names = sorted({name for _, name, *_ in heard})
    print(f"names: {names}")
    print(f"contexts: {sorted({str(sorted(c.items())) for _, _, c, *_ in heard})}")
    print(f"start times in the run: {all(now - 30 < s <= now for *_, s, _u, _r, _e in heard)}")
    print(f"urls: {sorted({u for *_, u, _r, _e in heard})}")
    print(f"statuses: {sorted({r.status_code for *_, r, _e in heard})}")
    print(f"failed: {sorted({n for _t, n, *_, e in heard if e is not None})}")


class Visitor(HttpUser):
    wait_time = constant(0.2)

    def context(self):
        return {"user": "visitor"}

    @task
    def pages(self):
        self.client.get("/", context={"kind": "page"})
        with self.client.rename_request("renamed"):
            self.client.get("/hello")
        self.client.request_name = "by attribute"
        self.client.get("/world")
        self.client.request_name = None
        self.client.get(f"{self.host}/item?id=1")  # absolute: named by its path, as Locust's
        self.client.get("/does_not_exist")


class FastVisitor(FastHttpUser):
    wait_time = constant(0.2)

    @task
    def page(self):
        self.client.get(f"{self.host}/welcome")  # absolute: named by the URL, as Locust's
