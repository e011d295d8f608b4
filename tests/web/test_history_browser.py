"""The History tab in a real browser (Debian's Chromium): past runs, one run as it was, and two
runs compared. Screenshots at 1280 and 600 px land in test-artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from .conftest import WebRun
from .test_browser import DRAWN_PIXELS, WIDTHS, assert_fits, new_page, shoot

pytestmark = pytest.mark.timeout(150)

SCENARIO = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.02)

    @task(3)
    def home(self):
        self.client.get("/")

    @task
    def item(self):
        self.client.get("/item?name=<b>x</b>")
"""


@pytest.fixture
def saved_runs(tmp_path, counting_target):
    """Two headless runs saved in the folder's default history, then the web UI there."""
    (tmp_path / "scenario.py").write_text(SCENARIO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    for users in ("3", "2"):
        subprocess.run(
            [sys.executable, "-m", "horde", "run", "scenario.py", "-H", counting_target.url,
             "-u", users, "-r", "50", "-t", "3s", "--headless", "--only-summary"],
            cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "horde", "history", "--tag", "before", "1"],
        cwd=tmp_path, env=env, check=True, capture_output=True,
    )  # fmt: skip
    run = WebRun(tmp_path, counting_target.url, scenario=SCENARIO, env=env, inherit_env=False)
    run.load_token()
    yield run
    run.stop()


def drawn(page, selector):
    return page.eval_on_selector(f"{selector} canvas", DRAWN_PIXELS)


def test_history_tab_run_and_comparison(saved_runs, browser):
    page = new_page(browser)
    page.goto(saved_runs.url)
    page.click("button[data-tab=history]")
    page.wait_for_selector("#history-table tbody tr")
    rows = page.query_selector_all("#history-table tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == ["2", "1"]
    cells = [c.inner_text() for c in rows[1].query_selector_all("td")]
    assert cells[1] == "#1" and cells[3] == "scenario.py" and cells[5] == "3 users"
    assert cells[10] == "before"
    assert "History: .horde/history.db" in page.inner_text("#history-location")
    page.fill("#history-filter", "before")
    assert len(page.query_selector_all("#history-table tbody tr")) == 1
    page.fill("#history-filter", "")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_fits(page, width)
        shoot(page, f"history-list-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})

    # One run, as it was: its facts, statistics and charts, read-only.
    page.click('#history-table tbody tr[data-id="1"] td:nth-child(4)')
    page.wait_for_selector("#run-charts canvas")
    assert "Run #1 (before): scenario.py" in page.inner_text("#run-title")
    names = [r.query_selector_all("td")[1].inner_text()
             for r in page.query_selector_all("#run-stats tbody tr")]  # fmt: skip
    assert names == ["/", "/item?name=<b>x</b>"]  # the target's text, shown as text
    assert page.inner_text("#run-stats tfoot").split("\t")[1] == "Aggregated"
    assert drawn(page, "#run-charts .chart[data-chart=throughput]") > 500
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        assert_fits(page, width)
        shoot(page, f"history-run-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Two runs compared: the older is the baseline.
    page.click("#history-run-view .history-back")
    page.wait_for_selector("#history-table tbody tr")
    assert page.is_disabled("#history-compare-button")
    page.check('#history-table tbody tr[data-id="2"] input')
    page.check('#history-table tbody tr[data-id="1"] input')
    page.click("#history-compare-button")
    page.wait_for_selector("#history-compare-charts canvas")
    banner = page.inner_text("#compare-verdict")
    assert "#2 against #1" in banner
    warnings = page.inner_text("#compare-warnings")
    assert "the load differs (3 users against 2 users)" in warnings
    groups = [g.inner_text() for g in page.query_selector_all("#compare-table tr.group")]
    assert [g.split(":")[0] for g in groups] == ["GET /", "GET /item?name=<b>x</b>", "Aggregated"]
    figures = page.query_selector_all("#compare-table tbody tr:not(.group)")
    assert len(figures) == 15
    first = [c.inner_text() for c in figures[0].query_selector_all("td")]
    assert first[0] == "median" and first[1].endswith(" ms") and "%" in first[4]
    assert drawn(page, "#history-compare-charts .chart[data-chart=compare-p95]") > 500
    href = page.get_attribute("#compare-report", "href")
    assert href.startswith("/history/compare/report?download=1&baseline=1&candidate=2")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        assert_fits(page, width)
        shoot(page, f"history-compare-{width}")
    assert page.evaluate("window.__csp") == []
    assert page.errors == []
    page.close()

    # The report the link downloads is the offline comparison report, under the report's CSP.
    with urllib.request.urlopen(saved_runs.url + href, timeout=10) as response:
        assert "script-src 'unsafe-inline'" in response.headers["Content-Security-Policy"]
        assert 'filename="horde-compare-1-2.html"' in response.headers["Content-Disposition"]
        assert 'id="comparison-table"' in response.read().decode()


def test_history_routes_answer_only_to_allowed_hosts(saved_runs):
    request = urllib.request.Request(saved_runs.url + "/history/runs",
                                     headers={"Host": "evil.example"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
    with urllib.request.urlopen(saved_runs.url + "/history/runs/last", timeout=5) as response:
        assert json.loads(response.read())["run"]["id"] == 2
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(saved_runs.url + "/history/runs/99", timeout=5)
    assert missing.value.code == 404
    assert "no run #99" in json.loads(missing.value.read())["message"]
