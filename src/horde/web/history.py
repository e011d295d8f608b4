"""The web UI's view of the run history: past runs, one run as it was, two runs compared.

Read-only JSON (and the comparison report) under ``/history/``, behind the same checks as every
route (``horde.web.security``: host allowlist, basic auth off loopback); nothing here changes
the history. Tests run from the UI are saved when they end (``TestSaver``), as a headless run
is: the History tab lists them at once.

The store is opened per request and read in a worker thread (and the comparison's bootstrap
runs there too), so the event loop that drives the load never waits for the disk.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from horde.comparison import compare_runs
from horde.history import (
    DEFAULT_PATH,
    HistoryError,
    RunQuery,
    RunRecord,
    build_record,
    describe_location,
    open_store,
    resolve_ref,
)
from horde.history.saving import save_run
from horde.report.comparison import chart_data, render_comparison_report
from horde.web.security import REPORT_CSP

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.settings import Settings

__all__ = ["HistoryViews", "TestSaver"]

log = logging.getLogger("horde.web")
LIST_LIMIT = 200


class TestSaver:
    """Saves each test started from the UI when it ends (not twice: the process's own end
    saves only a test still unsaved, ``needs_saving``)."""

    def __init__(self, environment: Environment, settings: Settings) -> None:
        self.environment = environment
        self.settings = settings
        self._saved_start: float | None = None
        self.last_id: int | None = None

    def needs_saving(self, meta: dict[str, Any]) -> bool:
        """Whether the test ``meta`` describes ran and was not saved yet."""
        start = meta.get("start_time")
        return start is not None and start != self._saved_start

    async def save(self, meta: dict[str, Any], mode: str) -> None:
        if self.settings.no_history or not self.needs_saving(meta):
            return
        self._saved_start = meta.get("start_time")
        try:  # the record reads the stats: here, on the loop, before a new test resets them
            record = build_record(self.environment, self.settings, dict(meta), mode)
        except Exception as exc:
            log.warning("the test was not saved to the history: %s", exc)
            return
        run_id, problem = await asyncio.to_thread(save_run, self.settings.history, record)
        if problem is not None:
            log.warning("%s", problem)
        else:
            self.last_id = run_id
            log.info("saved the test as run #%s", run_id)


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"success": False, "message": message}, status=status)


class HistoryViews:
    """The handlers of ``/history/...``."""

    def __init__(self, settings: Settings) -> None:
        self.location = settings.history
        self.tolerance = settings.tolerance
        self.fail_tolerance = settings.fail_tolerance

    @property
    def where(self) -> str:
        return describe_location(self.location or str(DEFAULT_PATH))

    def _list(self, query: RunQuery) -> list[dict[str, Any]]:
        store = open_store(self.location, create=False)
        try:
            return [r.summary() for r in store.runs(query)]
        finally:
            store.close()

    async def runs(self, request: web.Request) -> web.Response:
        q = request.query
        query = RunQuery(
            scenario=q.get("scenario") or None,
            host=(q.get("host") or "").rstrip("/") or None,
            tag=q.get("tag") or None,
            limit=LIST_LIMIT,
        )
        try:
            runs = await asyncio.to_thread(self._list, query)
        except HistoryError as exc:
            return web.json_response({"location": self.where, "runs": [], "message": str(exc)})
        return web.json_response({"location": self.where, "runs": runs})

    def _load(self, ref: str) -> RunRecord:
        store = open_store(self.location, create=False)
        try:
            return store.load(resolve_ref(store, ref))
        finally:
            store.close()

    async def run(self, request: web.Request) -> web.Response:
        try:
            record = await asyncio.to_thread(self._load, request.match_info["ref"])
        except HistoryError as exc:
            return _bad(str(exc), 404)
        return web.json_response({"run": record.summary(), "document": record.document})

    def _compare(self, query: Any) -> tuple[dict[str, Any], str]:
        baseline, candidate = self._load(query["baseline"]), self._load(query["candidate"])
        comparison = compare_runs(baseline, candidate, self._tolerance(query), self.fail_tolerance)
        data = comparison.to_dict()
        data["charts"] = {
            "baseline": chart_data(baseline, f"{comparison.baseline.label} (baseline)"),
            "candidate": chart_data(candidate, f"{comparison.candidate.label} (candidate)"),
        }
        return data, render_comparison_report(comparison, baseline, candidate)

    def _tolerance(self, query: Any) -> float:
        text = query.get("tolerance")
        if not text:
            return self.tolerance
        from horde.units import percent

        return percent("tolerance")(text)

    async def compare(self, request: web.Request) -> web.Response:
        query = request.query
        if not query.get("baseline") or not query.get("candidate"):
            return _bad("give baseline=RUN and candidate=RUN (ids, tags, last or last~N)")
        try:
            data, report = await asyncio.to_thread(self._compare, query)
        except HistoryError as exc:
            return _bad(str(exc), 404)
        except ValueError as exc:
            return _bad(str(exc))
        if request.path.endswith("/report"):
            response = web.Response(text=report, content_type="text/html")
            if query.get("download"):
                refs = (re.sub(r"[^\w.~-]", "_", query[k])[:40] for k in ("baseline", "candidate"))
                name = "horde-compare-{}-{}.html".format(*refs)
                response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            response.headers["Content-Security-Policy"] = REPORT_CSP
            return response
        return web.json_response(data)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/history/runs", self.runs),
            web.get("/history/runs/{ref}", self.run),
            web.get("/history/compare", self.compare),
            web.get("/history/compare/report", self.compare),
        ]
