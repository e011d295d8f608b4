"""Locust as a library, in the ways scripts use it: an Environment with its own events, a local
runner started with Locust's start(user_count, spawn_rate), time.sleep in the main code (which
runs the users meanwhile, as gevent's hub does), a greenlet, the web UI, and quit()."""

import json
import sys
import threading
import time
import urllib.request

import gevent
from locust import HttpUser, constant, events, task
from locust.env import Environment
from locust.log import setup_logging
from locust.stats import print_stats, stats_printer

setup_logging("INFO")
host = sys.argv[1]


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def home(self):
        self.client.get("/")


ticks = []


def ticker():
    while True:
        ticks.append(time.time())
        gevent.sleep(0.2)


env = Environment(user_classes=[Visitor], events=events, host=host)
runner = env.create_local_runner()
web_ui = env.create_web_ui("127.0.0.1", 0)
env.events.init.fire(environment=env, runner=runner, web_ui=web_ui)
gevent.spawn(ticker)
gevent.spawn(stats_printer(env.stats))
runner.start(4, spawn_rate=100)
time.sleep(1.5)  # the main code waits: users, the ticker and the web UI run meanwhile
print(f"users: {runner.user_count} state: {runner.state}")
print(f"ticks while sleeping: {len(ticks)}")
answers = []


def ask_the_ui():
    with urllib.request.urlopen(web_ui.url + "/stats/requests", timeout=10) as answer:
        answers.append(json.loads(answer.read())["user_count"])


asking = threading.Thread(target=ask_the_ui)
asking.start()
time.sleep(0.5)  # the UI answers while the main code waits
asking.join()
print(f"the web UI says: {answers[0]} users")
runner.start(2, spawn_rate=100)  # Locust's start() on a running test changes its load
time.sleep(0.5)
print(f"users after change: {runner.user_count}")
gevent.spawn_later(0.5, runner.quit)
runner.greenlet.join()
print(f"state after quit: {runner.state}")
print(f"requests: {env.stats.total.num_requests} failures: {env.stats.total.num_failures}")
print_stats(env.stats)
web_ui.stop()
print("done")
