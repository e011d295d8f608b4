"""Exceptions in tasks (the user_error event), and a user class without tasks (an error
logged once, as Locust logs it)."""

from locust import HttpUser, User, constant, events, task

errors = []


@events.user_error.add_listener
def on_user_error(user_instance, exception, tb, **kwargs):
    errors.append((type(user_instance).__name__, type(exception).__name__, tb is not None))


@events.test_stop.add_listener
def report(environment, **kwargs):
    print(f"user errors: {sorted(set(errors))}")


class Failing(HttpUser):
    wait_time = constant(0.1)

    @task
    def broken(self):
        self.client.get("/")
        raise ValueError("broken on purpose")


class Idle(User):  # no task: a base class someone forgot to mark abstract
    pass
