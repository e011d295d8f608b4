"""A project's API helper, shared by its tests and its locustfile: requests underneath, with
timing reported to Locust's request event (the usual way to load-test through a client library).
"""

import time

import requests
from locust import events


def log_in(base_url: str) -> int:
    """Set-up call, made with plain requests and so not recorded (as under Locust)."""
    return requests.post(f"{base_url}/login", json={"username": "load"}, timeout=10).status_code


class ApiClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def call(self, method: str, path: str, name: str | None = None) -> requests.Response | None:
        started = time.perf_counter()
        response = None
        exception = None
        try:
            response = self.session.request(method, self.base_url + path, timeout=10)
            response.raise_for_status()
        except requests.RequestException as exc:
            exception = exc
        events.request.fire(
            request_type=method,
            name=name or path,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(response.content) if response is not None else 0,
            exception=exception,
            context={},
        )
        return response
