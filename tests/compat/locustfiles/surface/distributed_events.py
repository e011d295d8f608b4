"""Locust's distributed events and messages, run with --processes: the master greets its
workers, they answer; report_to_master carries the bytes each worker received to the master's
worker_report; heartbeats and connections are heard."""

import os

from locust import HttpUser, constant, events, task
from locust.runners import MasterRunner, WorkerRunner

received = {"bytes": 0}
heard = set()


def on_greet(environment, msg, **kwargs):
    print(f"worker got: {msg.data}", flush=True)
    environment.runner.send_message("thanks", f"from {os.getpid()}")


def on_thanks(environment, msg, **kwargs):
    print(f"master got: thanks from worker {msg.node_id}", flush=True)


@events.init.add_listener
def on_init(environment, runner, **kwargs):
    if isinstance(runner, WorkerRunner):
        runner.register_message("greet", on_greet)
    if isinstance(runner, MasterRunner):
        runner.register_message("thanks", on_thanks)


@events.test_start.add_listener
def on_test_start(environment, **kwargs):
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message("greet", "hello workers")


@events.request.add_listener
def on_request(response_length, **kwargs):
    received["bytes"] += response_length


@events.report_to_master.add_listener
def on_report_to_master(client_id, data):
    data["bytes"] = received["bytes"]
    received["bytes"] = 0


@events.worker_report.add_listener
def on_worker_report(client_id, data):
    received["bytes"] += data["bytes"]


@events.worker_connect.add_listener
def on_worker_connect(client_id, **kwargs):
    print("master: a worker connected", flush=True)


@events.heartbeat_sent.add_listener
def on_heartbeat_sent(client_id, timestamp):
    if "sent" not in heard:
        heard.add("sent")
        print("master: heartbeat sent", flush=True)


@events.heartbeat_received.add_listener
def on_heartbeat_received(client_id, timestamp):
    if "received" not in heard:
        heard.add("received")
        print("worker: heartbeat received", flush=True)


@events.test_stop.add_listener
def on_test_stop(environment, **kwargs):
    if isinstance(environment.runner, MasterRunner):
        total = environment.runner.stats.total
        print(f"master: {received['bytes']} bytes in {total.num_requests} requests", flush=True)


class Visitor(HttpUser):
    wait_time = constant(0.1)

    @task
    def home(self):
        self.client.get("/")
