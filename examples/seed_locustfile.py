"""The seed article's locustfile, in the Locust 0.x API it was written for, run by horde as is.

Only the import line differs from the article (``from horde`` instead of ``from locust``), and
the article's typos are mended: its ``on_start`` and ``login`` had no bodies, the form post had
no method name, the advertiser's data was a set, and the API call went through ``requests``
instead of the client (so Locust never counted it). horde reads Locust 0.x's ``HttpLocust``,
``task_set`` and ``min_wait``/``max_wait`` (milliseconds) as today's ``HttpUser``, ``tasks`` and
``wait_time``. The article's experiments:

    horde run examples/seed_locustfile.py -H http://127.0.0.1:8000          # then 5 users, 1/s
    horde run examples/seed_locustfile.py -H http://127.0.0.1:8000 -u 1000 -r 500 --headless

examples/django_seed.py is the same scenario written the way a new horde scenario would be.
"""

import datetime
import itertools
import json

from horde import HttpLocust, TaskSet, task

_accounts = itertools.count(1)


class UserActions(TaskSet):
    def on_start(self):
        self.login()

    def login(self):
        # login to the application (each simulated user with an account of its own: the demo
        # app refuses a second login of one account within a short interval, as the article's)
        username = f"user{(next(_accounts) - 1) % 1000 + 1}"
        response = self.client.get("/accounts/login/")
        csrftoken = response.cookies["csrftoken"]
        self.client.post(
            "/accounts/login/",
            {"username": username, "password": "password"},
            headers={"X-CSRFToken": csrftoken},
        )

    @task(1)
    def index(self):
        self.client.get("/")

    @task(4)
    def first_page(self):
        self.client.get("/pages/")

    @task(1)
    def get_second_page(self):
        self.client.get("/create_page/")
        # Django gives a new CSRF token at login; the jar holds the current one.
        csrftoken = self.client.cookies["csrftoken"]
        self.client.post("/create_page/", {"name": "first_obj"}, headers={"X-CSRFToken": csrftoken})

    @task(1)
    def add_advertiser_api(self):
        auth_response = self.client.post(
            "/auth/login/", {"username": "suser", "password": "asdf1234"}
        )
        auth_token = json.loads(auth_response.text)["token"]
        jwt_auth_token = "jwt " + auth_token
        now = datetime.datetime.now()

        current_datetime_string = now.strftime("%B %d, %Y")
        adv_name = "locust_adv"
        data = {"name": f"{adv_name} {current_datetime_string}"}
        self.client.post("/api/advertisers/", data, headers={"Authorization": jwt_auth_token})


class ApplicationUser(HttpLocust):
    task_set = UserActions
    min_wait = 0
    max_wait = 0
