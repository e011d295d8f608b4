"""The seed article's locustfile, written for horde, and correct.

The article's users log in through Django's CSRF-protected form, open the home page, open the
list page four times as often, submit a CSRF-protected form, and call a JWT-protected REST API.
Here the same, against the demo application in examples/django_app/:

    horde run examples/django_seed.py -H http://127.0.0.1:8000 -u 50 -r 10 -t 30s --headless

Options added by this scenario:
    --shared-account    every web user logs in as user1, reproducing the article's observation
                        that most failures were logins (the app refuses a second login of the
                        same account within a short interval)
    --accounts N        how many demo accounts exist (user1..userN; default 1000)
    --min-wait/--max-wait  seconds between tasks (the article's min_wait/max_wait)
"""

from __future__ import annotations

import datetime
import itertools

from horde import HttpUser, between, events, task
from horde.http.django import django_login

_next_account = itertools.count(1)


@events.init_command_line_parser.add_listener
def _add_options(parser):
    parser.add_argument(
        "--shared-account",
        action="store_true",
        default=False,
        help="all web users log in with one account (reproduces login failures)",
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=1000,
        help="number of demo accounts user1..userN (default 1000)",
    )
    parser.add_argument("--min-wait", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--max-wait", type=float, default=2.0, help="seconds (default 2)")


def _option(user, name, default):
    return getattr(user.environment.parsed_options, name, default)


def _wait(user):
    """between(min_wait, max_wait) read from the options, like the article's class attributes."""
    low = _option(user, "min_wait", 1.0)
    high = max(low, _option(user, "max_wait", 2.0))
    return between(low, high)(user)


class WebUser(HttpUser):
    """A person using the site: logs in once, then browses and fills in forms."""

    weight = 3
    wait_time = _wait
    django_csrf = True  # send X-CSRFToken from the csrftoken cookie on POSTs

    def on_start(self):
        if _option(self, "shared_account", False):
            number = 1
        else:
            number = (next(_next_account) - 1) % _option(self, "accounts", 1000) + 1
        self.username = f"user{number}"
        self.logged_in = False
        self.log_in()

    def log_in(self):
        """Log in through the CSRF-protected form; a refused login (429) is retried later."""
        response = django_login(
            self.client, "/accounts/login/", username=self.username, password="password"
        )
        self.logged_in = response.status_code == 200 and "/accounts/login/" not in response.url
        return self.logged_in

    @task
    def index(self):
        if self.logged_in or self.log_in():
            self.client.get("/")

    @task(4)
    def list_page(self):
        if self.logged_in or self.log_in():
            self.client.get("/pages/")

    @task
    def create_page(self):
        if self.logged_in or self.log_in():
            # GET the form (sets the csrftoken cookie), then POST it; the client adds the header.
            self.client.get("/create_page/")
            self.client.post("/create_page/", data={"name": f"page by {self.username}"})


class ApiUser(HttpUser):
    """A client of the REST API: gets a JWT, then creates advertisers named by the date."""

    weight = 1
    wait_time = _wait

    async def on_start(self):
        await self._authenticate()

    async def _authenticate(self):
        response = await self.client.post(
            "/auth/login/", data={"username": "suser", "password": "asdf1234"}
        )
        self.token = response.json()["token"] if response.status_code == 200 else ""

    @task
    async def add_advertiser(self):
        today = datetime.datetime.now().strftime("%B %d, %Y")
        headers = {"Authorization": f"JWT {self.token}"}
        response = await self.client.post(
            "/api/advertisers/", json={"name": f"horde_adv {today}"}, headers=headers
        )
        if response.status_code == 401:  # token expired: log in again next time
            await self._authenticate()

    @task
    async def list_advertisers(self):
        await self.client.get("/api/advertisers/", headers={"Authorization": f"JWT {self.token}"})
