"""Options added with Locust's add_argument keywords, and an exit code set by the scenario."""

from locust import HttpUser, constant, events, task


@events.init_command_line_parser.add_listener
def add_options(parser):
    parser.add_argument("--from-env", env_var="SURFACE_FROM_ENV", default="unset")
    parser.add_argument("--count", type=int, env_var="SURFACE_COUNT", default=1)
    parser.add_argument("--hidden", include_in_web_ui=False, default="h")
    parser.add_argument("--password", is_secret=True, default="p")


@events.test_start.add_listener
def show(environment, **kwargs):
    options = environment.parsed_options
    print(f"options: from_env={options.from_env} count={options.count} users={options.num_users}")


@events.quitting.add_listener
def sla(environment, **kwargs):
    if environment.stats.total.num_requests > 0:
        environment.process_exit_code = 3  # Locust's way of failing a run on its own terms


class Visitor(HttpUser):
    wait_time = constant(0.1)

    @task
    def home(self):
        self.client.get("/")
