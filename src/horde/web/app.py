"""Routes of the web UI and its JSON API (Locust's endpoint names where Locust has them).

Handlers stay thin: they read the stats, call the runner's control methods, and render. The page
polls ``/stats/requests`` and ``/stats/history?since=`` every 2 s while a test runs (less often
when none does); both are built from figures the stats already hold, so polling costs little
next to the load itself.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from horde.metrics import RunInfo, collect
from horde.metrics.prometheus import CONTENT_TYPE, render
from horde.runner.capacity import CapacityResult, CapacitySearch
from horde.runner.environment import Environment
from horde.runner.interface import Runner
from horde.runner.lifecycle import IDLE, RunnerState
from horde.runner.load import ArrivalRate, Load, Users
from horde.runner.models import choose_load_plan, runner_for_model
from horde.runner.shapes import ShapeDriver
from horde.scenario.shape import ARRIVAL_RATE, StagesShape
from horde.scenario.tasks import all_tags
from horde.settings import Settings
from horde.stats.csv_export import exceptions_csv, failures_csv, stats_csv, stats_history_csv
from horde.stats.json_export import stats_requests_payload, stats_to_json
from horde.version import __version__
from horde.web.flask_compat import Flask
from horde.web.forms import FormError, SwarmRequest, parse_swarm
from horde.web.history import HistoryViews, TestSaver
from horde.web.logbuffer import LogBuffer
from horde.web.openapi import openapi_document
from horde.web.ratio import task_ratios
from horde.web.scenario_options import apply_options, discover_options, options_html
from horde.web.security import PAGE_CSP, REPORT_CSP, WebSecurity, control

ASSETS = Path(__file__).resolve().parent / "assets"
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

__all__ = ["WebUI", "build_app"]


class WebUI:
    """State of the UI: the runner it drives and the timer of a test started with a run time."""

    def __init__(
        self,
        environment: Environment,
        runner: Runner,
        security: WebSecurity,
        logs: LogBuffer | None = None,
        settings: Settings | None = None,
    ):
        self.environment = environment
        self.logs = logs
        # The form's first values (-u, -r) and the scenario's own options come from the run's
        # settings.
        self.settings = settings or Settings(scenario=environment.scenario_path or "")
        self.scenario_options = discover_options(self.settings.scenario_actions)
        # Replaced by a runner of the other model when a test of the other model is started.
        self.runner = runner
        self.security = security
        self.run_time_timer: asyncio.TimerHandle | None = None
        self.driver: ShapeDriver | None = None
        self.search: CapacitySearch | None = None
        self._search_task: asyncio.Task[None] | None = None
        # A search that has ended but whose test is still stopping: shown (without its fit)
        # until the fit is made, so that no reader sees the test stopped and no result.
        self._ended_search: CapacityResult | None = None
        self.meta: dict[str, Any] = {}
        # Past runs (the History tab), and this UI's tests saved there when they end.
        self.history = HistoryViews(self.settings)
        self.saver = TestSaver(environment, self.settings)
        # Routes, blueprints and hooks the scenario adds (Locust's environment.web_ui.app).
        self.flask_app = Flask("horde")
        # Called with the reason when a test ends (--autoquit counts from there).
        self.on_test_end: list[Callable[[str], Any]] = []

    @property
    def model(self) -> str:
        """The load model of the current runner: users (closed) or arrival_rate (open)."""
        return self.runner.model

    # Pages -----------------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        env = self.environment
        if not (VENDOR / "uPlot.iife.min.js").exists():
            return web.Response(
                status=500,
                text="horde's web assets are missing (src/horde/web/static/vendor): run "
                "`make web-assets` in a clone, or reinstall horde from a wheel or an sdist.\n",
            )
        page = (ASSETS / "index.html").read_text()
        replacements = {
            "{{token}}": self.security.token,
            "{{version}}": __version__,
            "{{host}}": html.escape(env.host or _class_host(env) or ""),
            # The last test's figures, else the command line's: the next test starts from them.
            "{{users}}": str(self.meta.get("users") or self.settings.users or 1),
            "{{spawn_rate}}": f"{self.meta.get('spawn_rate') or self.settings.spawn_rate or 1:g}",
            "{{scenario}}": html.escape(Path(env.scenario_path or "").name),
            "{{user_classes}}": html.escape(", ".join(c.__name__ for c in env.user_classes)),
            "{{tags}}": html.escape(", ".join(sorted(all_tags(env.user_classes))) or "none"),
            "{{start_options}}": options_html(self.scenario_options, env.parsed_options, "start"),
            "{{edit_options}}": options_html(self.scenario_options, env.parsed_options, "edit"),
        }
        for key, value in replacements.items():
            page = page.replace(key, value)
        # The page holds the control token: no caching, no referrer, no foreign code.
        headers = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
        return web.Response(text=page, content_type="text/html", headers=headers)

    async def favicon(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(ASSETS / "favicon.svg", headers={"Content-Type": "image/svg+xml"})

    # Reading ---------------------------------------------------------------------------------
    async def stats_requests(self, request: web.Request) -> web.Response:
        runner = self.runner
        payload = stats_requests_payload(
            self.environment.stats, runner.user_count, runner.state.value
        )
        payload["target_user_count"] = runner.target_user_count
        payload["load_model"] = (
            "capacity"
            if self._search_task is not None
            else "stages"
            if self.driver is not None
            else self.model
        )
        payload["runner_model"] = self.model  # users or arrival_rate, whatever drives it
        capacity = self._capacity_payload()
        if capacity is not None:
            payload["capacity"] = capacity
        open_model = runner.open_model
        if open_model is not None:
            payload["arrival_rate"] = open_model.current_rate
            payload["late_iterations"] = open_model.late
            payload["dropped_iterations"] = open_model.dropped
        payload["host"] = self.environment.host
        payload["spawn_rate"] = runner.spawn_rate
        payload["test_start"] = runner.started_at  # a new test: new history
        payload["user_classes_count"] = runner.user_classes_count
        exceptions = self.environment.stats.exceptions.values()
        payload["exceptions_count"] = sum(e.count for e in exceptions)
        payload["exception_kinds"] = len(exceptions)  # rows of the tab, as errors are
        payload["log_warnings"] = self.logs.warnings if self.logs is not None else 0
        # horde's own CPU and loop lag now, and whether it was saturated in this test.
        payload["generator_health"] = self.environment.health.live()
        view = runner.workers_view
        if view is not None:  # a distributed master: the figures cover all workers
            workers = view.workers_info()
            for row in workers:
                row.setdefault("cpu_usage", row.get("cpu_percent"))  # Locust's field name
            payload["workers"] = workers
            payload["worker_count"] = view.worker_count
            payload["master_cpu_percent"] = view.cpu_percent
        return web.json_response(payload)

    async def stats_history(self, request: web.Request) -> web.Response:
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            return _bad("since must be a number (a Unix timestamp)")
        stats = self.environment.stats
        return web.json_response(
            {"rows": stats.history.since(since), "markers": list(stats.markers)}
        )

    async def tasks(self, request: web.Request) -> web.Response:
        classes = list(self.environment.user_classes)
        return web.json_response(task_ratios(classes, self.runner.user_classes_count))

    async def logs_payload(self, request: web.Request) -> web.Response:
        if self.logs is None:
            return web.json_response({"master": [], "workers": {}, "records": [], "warnings": 0})
        return web.json_response(self.logs.payload())

    async def exceptions(self, request: web.Request) -> web.Response:
        rows = sorted(self.environment.stats.exceptions.values(), key=lambda e: -e.count)
        return web.json_response({"exceptions": [e.to_dict() for e in rows]})

    async def csv_stats(self, request: web.Request) -> web.Response:
        return _download(stats_csv(self.environment.stats), "requests.csv", "text/csv")

    async def csv_history(self, request: web.Request) -> web.Response:
        return _download(stats_history_csv(self.environment.stats), "stats_history.csv", "text/csv")

    async def csv_failures(self, request: web.Request) -> web.Response:
        return _download(failures_csv(self.environment.stats), "failures.csv", "text/csv")

    async def csv_exceptions(self, request: web.Request) -> web.Response:
        return _download(exceptions_csv(self.environment.stats), "exceptions.csv", "text/csv")

    async def json_results(self, request: web.Request) -> web.Response:
        document = stats_to_json(self.environment.stats, self.run_meta())
        return _download(json.dumps(document, indent=2), "results.json", "application/json")

    async def report(self, request: web.Request) -> web.Response:
        from horde.report import render_report

        body = render_report(self.environment, self.run_meta())
        if request.query.get("download"):
            response = _download(body, "report.html", "text/html")
        else:
            response = web.Response(text=body, content_type="text/html")
        response.headers["Content-Security-Policy"] = REPORT_CSP
        return response

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus's scrape: built from the stats now, behind the UI's checks (--web-auth)."""
        mode = "master" if self.runner.workers_view is not None else "web"
        run = RunInfo(mode, self.environment.scenario_path or "")
        body = render(collect(self.environment, run))
        return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    # Control ---------------------------------------------------------------------------------
    @control
    async def swarm(self, request: web.Request) -> web.Response:
        # The form's fields are text; an uploaded file is no field of /swarm.
        fields = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        try:
            form = parse_swarm(fields)
            self._apply_scenario_options(fields)
        except FormError as exc:
            return _bad(str(exc))
        env = self.environment
        if form.host:
            env.host = form.host
        elif not env.host and not _class_host(env):
            return _bad("host is required: no host was given with -H or on the user classes")
        starting = self.runner.state in IDLE
        if self.runner.state is RunnerState.STOPPING:
            return _bad("the test is stopping: start the next one once it has stopped")
        problem = self._choose_runner(form, starting)
        if problem:
            return _bad(problem)
        if self.run_time_timer is not None:
            self.run_time_timer.cancel()
            self.run_time_timer = None
        if starting:
            self.meta = {"start_time": time.time(), "users": form.user_count}
        if form.capacity is not None:
            slo, settings = form.capacity
            self.search = CapacitySearch(env, self.runner, slo, settings)
            self._search_task = asyncio.get_running_loop().create_task(self._run_search())
            unit = "iterations/s" if settings.model == ARRIVAL_RATE else "users"
            self.meta["load_model"] = f"capacity search ({unit})"
            self.meta.pop("capacity", None)
            self._ended_search = None
        elif form.stages is not None:
            model, stages = form.stages
            loop = asyncio.get_running_loop()
            self.driver = ShapeDriver(
                env,
                self.runner,
                StagesShape(stages, model),
                on_end=lambda reason: loop.create_task(self._stop(reason)),
            )
            self.driver.start()
            self.meta["load_model"] = f"stages {self._stages_text(form)}"
        elif form.load_model == ARRIVAL_RATE:
            self._start_or_change(ArrivalRate(form.arrival_rate), starting)
            self.meta["load_model"] = f"arrival rate {form.arrival_rate:g}/s"
            self.meta["arrival_rate"] = form.arrival_rate
        else:
            self._start_or_change(Users(form.user_count, form.spawn_rate), starting)
            self.meta["users"] = max(self.meta.get("users", 0), form.user_count)
            self.meta["spawn_rate"] = form.spawn_rate
        if form.run_time:
            loop = asyncio.get_running_loop()
            self.run_time_timer = loop.call_later(
                form.run_time, lambda: loop.create_task(self._stop("run time reached"))
            )
        env.stats.mark("load", _load_label(form, starting, self._stages_text(form)))
        return web.json_response({"success": True, "message": "Swarming started", "host": env.host})

    @control
    async def stop(self, request: web.Request) -> web.Response:
        await self._stop("stopped from the web UI")
        return web.json_response({"success": True, "message": "Test stopped"})

    @control
    async def reset(self, request: web.Request) -> web.Response:
        # Counting starts afresh; the charts keep the test's history, with the reset marked.
        stats = self.environment.stats
        stats.reset_counts()
        stats.mark("reset", "stats reset")
        self.environment.events.reset_stats.fire()
        return web.json_response({"success": True, "message": "Statistics reset"})

    def _apply_scenario_options(self, fields: Any) -> None:
        """The scenario's own options from the form; a distributed master passes them on to
        workers that join from now on (they take the run's settings when they join)."""
        parsed = self.environment.parsed_options
        if not self.scenario_options or parsed is None:
            return
        changes = apply_options(fields, self.scenario_options, parsed)
        view = self.runner.workers_view
        if changes and view is not None:
            view.pass_on_options(changes)

    def _start_or_change(self, load: Load, starting: bool) -> None:
        """Locust's /swarm starts a test, or changes the load of the one that runs."""
        if starting:
            self.runner.start(load)
        else:
            self.runner.change(load)

    def _choose_runner(self, form: SwarmRequest, starting: bool) -> str | None:
        """Make the runner match the form's model; a sentence when that cannot be done now."""
        if form.capacity is not None:
            model = form.capacity[1].model
        elif form.stages is not None:
            model = form.stages[0]
        else:
            model = form.load_model
        if not starting:
            if form.capacity is not None or self._search_task is not None:
                return "a capacity search is running: stop it before starting something else"
            if form.stages is not None or self.driver is not None:
                return "a test that follows stages cannot be changed while it runs: stop it first"
            if model != self.model:
                return "stop the running test before changing its load model"
            return None
        self.runner = runner_for_model(
            self.environment, model, form.max_concurrency, current=self.runner
        )
        return None

    @staticmethod
    def _stages_text(form: SwarmRequest) -> str:
        model, stages = form.stages or ("", [])
        unit = "/s" if model == ARRIVAL_RATE else ""
        return ",".join(f"{s.duration:g}s:{s.target:g}{unit}" for s in stages)

    async def _run_search(self) -> None:
        """A capacity search started from the form; ends the test when it is done."""
        assert self.search is not None
        result = await self.search.run()
        self._search_task = None
        self._ended_search = result

        def record_result() -> None:
            # After the load has stopped (the scalability fit takes a few milliseconds of the
            # loop, which requests still in flight would otherwise be charged), and before the
            # test is saved to the history, which keeps the result with it.
            self.meta["capacity"] = result.to_dict()
            self._ended_search = None

        await self._stop(f"capacity search ended: {result.reason}", before_save=record_result)

    def _capacity_payload(self) -> dict[str, Any] | None:
        """The search's steps so far (live), or its result once it has ended."""
        if self._search_task is not None and self.search is not None:
            data = self.search.result("running").to_dict(fit=False)  # no fit while load runs
            data["current_load"] = self.search.current_load
            return data
        if self._ended_search is not None:
            return self._ended_search.to_dict(fit=False)
        return self.meta.get("capacity")

    async def shutdown(self) -> None:
        """Stop whatever runs (the process is quitting); the meta of the last test stays."""
        if self.run_time_timer is not None:
            self.run_time_timer.cancel()
            self.run_time_timer = None
        task, self._search_task = self._search_task, None
        stopped_search = None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if self.search is not None:
                stopped_search = self.search.result("stopped before the end")
        if self.driver is not None:
            self.driver.stop()
            self.driver = None
        await self.runner.stop()
        if stopped_search is not None:  # its fit once no load runs
            self.meta["capacity"] = stopped_search.to_dict()

    async def _stop(self, reason: str, before_save: Callable[[], None] | None = None) -> None:
        """End the test: the load stopped, then ``before_save`` (what the test's result still
        needs), then the test saved to the history and ``on_test_end`` told."""
        if self.runner.state in IDLE:
            if before_save is not None:
                before_save()
            return
        self.environment.stats.mark("stop", reason)
        await self.shutdown()
        self.meta["end_time"] = time.time()
        self.meta["stop_reason"] = reason
        if before_save is not None:
            before_save()
        await self.saver.save(self.run_meta(), self.mode_name())
        for callback in list(self.on_test_end):
            callback(reason)

    def mode_name(self) -> str:
        """How the history names the mode of this UI's tests."""
        if self.meta.get("capacity"):
            return "capacity"
        return "master" if self.runner.workers_view is not None else "web"

    def autostart(self, settings: Settings) -> None:
        """``--autostart``: the command line's test (-u/-r, a load model, the scenario's load
        shape) starts at once, as if sent from the form, and ends at -t; the UI stays up."""
        env = self.environment
        loop = asyncio.get_running_loop()
        plan = choose_load_plan(env, settings)
        self.runner = runner_for_model(env, plan.model, settings.max_concurrency, self.runner)
        self.meta = {
            "start_time": time.time(),
            "users": settings.users,
            "spawn_rate": settings.spawn_rate,
            "load_model": plan.describe(),
        }
        if plan.shape is not None:
            self.driver = ShapeDriver(
                env, self.runner, plan.shape, on_end=lambda why: loop.create_task(self._stop(why))
            )
            self.driver.start()
        else:
            self.runner.start(plan.load())
        if settings.run_time:
            self.run_time_timer = loop.call_later(
                settings.run_time, lambda: loop.create_task(self._stop("run time reached"))
            )
        env.stats.mark("load", "start: " + plan.describe())

    def run_meta(self) -> dict[str, Any]:
        env = self.environment
        start = self.meta.get("start_time", env.stats.start_time)
        end = self.meta.get("end_time") or env.stats.end_time or time.time()
        return {
            "scenario": env.scenario_path,
            "host": env.host,
            "user_classes": [c.__name__ for c in env.user_classes],
            "users": self.meta.get("users", self.runner.target_user_count),
            "peak_users": env.stats.peak_user_count,
            "spawn_rate": self.meta.get("spawn_rate"),
            "start_time": start,
            "end_time": end,
            "duration": end - start,
            "stop_reason": self.meta.get("stop_reason"),
            "load_model": self.meta.get("load_model"),
            **({"capacity": self.meta["capacity"]} if self.meta.get("capacity") else {}),
            "generator_health": env.health.summary(),
        }


def _class_host(env: Environment) -> str | None:
    return next((c.host for c in env.user_classes if c.host), None)


def _load_label(form: SwarmRequest, starting: bool, stages: str) -> str:
    """What a marker on the charts says about a start or a change of load."""
    if form.capacity is not None:
        what = "capacity search"
    elif form.stages is not None:
        what = f"stages {stages}"
    elif form.load_model == ARRIVAL_RATE:
        what = f"{form.arrival_rate:g}/s"
    else:
        plural = "" if form.user_count == 1 else "s"
        what = f"{form.user_count:,} user{plural} at {form.spawn_rate:g}/s"
    return ("start: " if starting else "\u2192 ") + what


def _bad(message: str) -> web.Response:
    return web.json_response({"success": False, "message": message}, status=400)


def _download(body: str, filename: str, content_type: str) -> web.Response:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return web.Response(
        text=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="horde-{stamp}-{filename}"'},
    )


def build_app(ui: WebUI) -> web.Application:
    # The scenario's routes and hooks (flask_compat) come after the security checks.
    app = web.Application(middlewares=[ui.security.middleware(), ui.flask_app.middleware()])
    app.add_routes(
        [
            web.get("/", ui.index),
            web.get("/stats/requests", ui.stats_requests),
            web.get("/stats/history", ui.stats_history),
            web.get("/exceptions", ui.exceptions),
            web.get("/stats/requests/csv", ui.csv_stats),
            web.get("/stats/requests_full_history/csv", ui.csv_history),
            web.get("/stats/failures/csv", ui.csv_failures),
            web.get("/exceptions/csv", ui.csv_exceptions),
            web.get("/stats/json", ui.json_results),
            web.get("/stats/report", ui.report),
            web.get("/openapi.json", ui.openapi),
            web.get("/metrics", ui.metrics),
            web.get("/tasks", ui.tasks),
            web.get("/logs", ui.logs_payload),
            web.get("/favicon.ico", ui.favicon),
            # State changes are POST only (a GET answers 405, as in Locust).
            web.post("/swarm", ui.swarm),
            web.post("/stop", ui.stop),
            web.post("/stats/reset", ui.reset),
            *ui.history.routes(),
            web.static("/assets", ASSETS),
            web.static("/vendor", VENDOR, append_version=False)
            if VENDOR.exists()
            else web.get("/vendor/{name}", _missing_assets),
        ]
    )
    return app


async def _missing_assets(request: web.Request) -> web.Response:
    return web.Response(status=404, text="web assets not built: run `make web-assets`\n")
