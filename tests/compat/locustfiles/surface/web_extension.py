"""A locustfile that extends the web UI the way Locust's examples do (routes, a blueprint,
an after_request hook on /stats/requests, templates, Flask-Login), run with horde's UI."""

import json
import time

from flask import Blueprint, jsonify, redirect, render_template_string, request, url_for
from flask_login import UserMixin, current_user, login_user
from locust import HttpUser, constant, events, task

extra = Blueprint("extra", __name__, url_prefix="/extra")
tally = {"hits": 0}


class Account(UserMixin):
    def __init__(self, name):
        self.id = name


@extra.route("/hello/<int:number>")
def hello(number):
    template = "<p>{{ greeting }} {{ number + 1 }} {{ request.args.get('who', 'nobody') }}</p>"
    return render_template_string(template, greeting="hello", number=number)


@extra.route("/echo", methods=["POST"])
def echo():
    return jsonify(received=request.get_json(silent=True), form=request.form.get("x"))


@extra.route("/login", methods=["POST"])
def login():
    login_user(Account(request.form["name"]))
    return redirect(url_for("extra.whoami"))


@extra.route("/whoami")
def whoami():
    return {"user": current_user.get_id() if current_user.is_authenticated else None}


@events.init.add_listener
def on_init(environment, web_ui, **kwargs):
    if not web_ui:
        return
    web_ui.login_manager.user_loader(Account)

    @web_ui.app.route("/tally")
    def tally_page():
        return f"hits: {tally['hits']}"

    def slow_page():
        time.sleep(0.3)  # a view runs in a greenlet: this waits without holding the UI
        return "slow"

    web_ui.app.add_url_rule("/slow-page", view_func=slow_page)

    @web_ui.app.after_request
    def add_hits(response):
        if request.path != "/stats/requests":
            return response
        extended = {**response.json, "extended_stats": [{"key": "hits", "data": tally["hits"]}]}
        response.set_data(json.dumps(extended))
        return response

    web_ui.app.register_blueprint(extra)


@events.request.add_listener
def count(**kwargs):
    tally["hits"] += 1


class Visitor(HttpUser):
    wait_time = constant(0.1)

    @task
    def home(self):
        self.client.get("/")
