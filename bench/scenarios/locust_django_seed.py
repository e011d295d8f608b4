"""The seed article's scenario for Locust's FastHttpUser: the twin of examples/django_seed.py.

Used by bench/compare.py --realistic to compare generator CPU per 1,000 requests on the same
application and the same behaviour (logins through the CSRF form, weighted pages, the form
post, the JWT API). Waits are short so that the generator, not the think time, is measured.
"""

import datetime
import itertools
import re

from locust import FastHttpUser, between, task

_accounts = itertools.count(1)
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class WebUser(FastHttpUser):
    weight = 3
    wait_time = between(0.05, 0.2)

    def on_start(self):
        self.username = f"user{(next(_accounts) - 1) % 1000 + 1}"
        self.logged_in = False
        self.log_in()

    def token(self, html):
        match = _TOKEN.search(html or "")
        return match.group(1) if match else ""

    def log_in(self):
        form = self.client.get("/accounts/login/")
        token = self.token(form.text)
        response = self.client.post(
            "/accounts/login/",
            data={"username": self.username, "password": "password", "csrfmiddlewaretoken": token},
            headers={"X-CSRFToken": token, "Referer": self.host + "/accounts/login/"},
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
            form = self.client.get("/create_page/")
            token = self.token(form.text)
            self.client.post(
                "/create_page/",
                data={"name": f"page by {self.username}", "csrfmiddlewaretoken": token},
                headers={"X-CSRFToken": token},
            )


class ApiUser(FastHttpUser):
    weight = 1
    wait_time = between(0.05, 0.2)

    def on_start(self):
        response = self.client.post(
            "/auth/login/", data={"username": "suser", "password": "asdf1234"}
        )
        self.token = response.json()["token"] if response.status_code == 200 else ""

    @task
    def add_advertiser(self):
        today = datetime.datetime.now().strftime("%B %d, %Y")
        self.client.post(
            "/api/advertisers/",
            json={"name": f"locust_adv {today}"},
            headers={"Authorization": f"JWT {self.token}"},
        )

    @task
    def list_advertisers(self):
        self.client.get("/api/advertisers/", headers={"Authorization": f"JWT {self.token}"})
