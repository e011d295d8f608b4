"""Locust's lifecycle events, in the order Locust fires them; test_start's listener sleeps
(cooperatively: the ramp waits for it, the loop does not)."""

import time

from locust import HttpUser, constant, events, task


@events.init.add_listener
def on_init(environment, runner, web_ui, **kwargs):
    print(f"init: runner={type(runner).__name__} web_ui={web_ui}")


@events.test_start.add_listener
def on_test_start(environment, **kwargs):
    time.sleep(0.5)
    runner = environment.runner
    print(f"test_start: target_user_count={runner.target_user_count} users={runner.user_count}")


@events.spawning_complete.add_listener
def on_spawning_complete(user_count, **kwargs):
    print(f"spawning_complete: {user_count}")


@events.test_stopping.add_listener
def on_test_stopping(environment, **kwargs):
    print(f"test_stopping: users={environment.runner.user_count}")


@events.test_stop.add_listener
def on_test_stop(environment, **kwargs):
    print(f"test_stop: users={environment.runner.user_count}")


@events.quitting.add_listener
def on_quitting(environment, **kwargs):
    print("quitting")


@events.quit.add_listener
def on_quit(exit_code, **kwargs):
    print(f"quit: exit_code={exit_code}")


class Visitor(HttpUser):
    wait_time = constant(0.1)

    @task
    def home(self):
        self.client.get("/")
