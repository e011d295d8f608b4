"""The dashboard and the HTML report in a real browser (Debian's Chromium via Playwright)."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Counts the canvas pixels that are not background: a drawn chart has many.
DRAWN_PIXELS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0) drawn++;
  return drawn;
}"""


def test_dashboard_start_watch_change_stop_download(web_run, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    page.goto(web_run.url)
    page.fill("#start-form input[name=user_count]", "3")
    page.fill("#start-form input[name=spawn_rate]", "10")
    page.click("#start-form button[type=submit]")

    # The statistics table fills.
    page.wait_for_function(
        "() => document.querySelector('#stats-table tfoot td:nth-child(3)')"
        " && parseInt(document.querySelector('#stats-table tfoot td:nth-child(3)')"
        ".textContent.replace(/[^0-9]/g, '')) > 20",
        timeout=15000,
    )
    assert page.inner_text("#stats-table tbody tr td:nth-child(2)") == "/"
    assert page.inner_text("#status-users") == "3"

    # The charts draw.
    page.click("button[data-tab=charts]")
    page.wait_for_timeout(4500)  # two polls, so that the history has several seconds
    canvases = page.query_selector_all("#charts canvas")
    assert len(canvases) == 3
    assert all(canvas.evaluate(DRAWN_PIXELS) > 500 for canvas in canvases)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-charts.png"), full_page=True)

    # Change the user count while running.
    page.click("#edit-button")
    page.fill("#edit-form input[name=user_count]", "5")
    page.click("#edit-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#status-users').textContent === '5'",
                           timeout=10000)  # fmt: skip

    # Stop.
    page.click("#stop-button")
    page.wait_for_function(
        "() => document.querySelector('#status-state').textContent === 'stopped'", timeout=15000
    )

    # Download the statistics CSV and check its rows.
    page.click("button[data-tab=download]")
    with page.expect_download() as download:
        page.click("a[href='/stats/requests/csv']")
    target = tmp_path / "stats.csv"
    download.value.save_as(target)
    rows = list(csv.DictReader(target.open()))
    assert [r["Name"] for r in rows] == ["/", "Aggregated"]
    assert int(rows[-1]["Request Count"]) > 20
    assert rows[-1]["Failure Count"] == "0"


def test_html_report_opens_offline_with_charts(browser, tmp_path, counting_target):
    scenario = tmp_path / "s.py"
    scenario.write_text(
        "from horde import HttpUser, constant, task\n"
        "class V(HttpUser):\n"
        "    wait_time = constant(0.05)\n"
        "    @task\n"
        "    def t(self):\n"
        "        self.client.get('/')\n"
        "        self.client.get('/missing', name='second page')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "horde", "run", str(scenario), "-H", counting_target.url,
         "-u", "3", "-r", "10", "-t", "3s", "--headless", "--only-summary",
         "--html", "report.html"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = tmp_path / "report.html"
    text = report.read_text()
    assert "<script src=" not in text and "<link" not in text  # nothing loaded from elsewhere
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
               else route.continue_())  # fmt: skip
    page.goto(report.as_uri())
    page.wait_for_selector("#charts canvas")
    canvases = page.query_selector_all("#charts canvas")
    assert len(canvases) == 3
    assert all(canvas.evaluate(DRAWN_PIXELS) > 200 for canvas in canvases)
    names = page.eval_on_selector_all("#stats-table tbody tr td:nth-child(2)",
                                      "cells => cells.map(c => c.textContent)")  # fmt: skip
    assert names == ["/", "second page"]
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


def test_capacity_report_draws_load_against_throughput_and_latency(browser, tmp_path, queue_target):
    server = queue_target(capacity=100)
    scenario = tmp_path / "s.py"
    scenario.write_text(
        "from horde import HttpUser, task\n"
        "class V(HttpUser):\n"
        "    @task\n"
        "    def t(self):\n"
        "        self.client.get('/')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "horde", "capacity", str(scenario), "-H", server.url,
         "--slo", "p95<100ms", "--arrival-rate", "50/s", "--growth", "2", "--step-time", "1s",
         "--settle-time", "0.5s", "--max-steps", "4", "--only-summary", "--html", "report.html"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((tmp_path / "report.html").as_uri())
    page.wait_for_selector("#capacity-chart canvas")
    assert page.locator("#capacity-chart canvas").evaluate(DRAWN_PIXELS) > 500
    steps = page.eval_on_selector_all("#capacity-table tbody tr", "rows => rows.length")
    assert steps == 4
    headline = page.inner_text("#capacity-headline")
    assert headline.startswith("capacity: ") and "the SLO broke at 200 iterations/s" in headline
    # The load chart shows the planned load (dashed) beside the achieved one.
    legend = page.inner_text("#charts")
    assert "Planned" in legend and "Achieved" in legend
    assert errors == []
    page.screenshot(path=str(ARTIFACTS / "capacity-report.png"), full_page=True)


def test_choosing_the_open_model_in_the_start_form(web_run, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(web_run.url)
    # Only the chosen model's fields are shown (and sent).
    assert page.is_visible("#start-form input[name=user_count]")
    assert not page.is_visible("#start-form input[name=arrival_rate]")
    page.select_option("#load-model", "arrival_rate")
    assert not page.is_visible("#start-form input[name=user_count]")
    page.fill("#start-form input[name=arrival_rate]", "50/s")
    page.click("#start-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#status-users-label').textContent === 'In flight'",
        timeout=10000,
    )
    page.wait_for_function(
        "() => parseFloat(document.querySelector('#status-rps').textContent) > 20",
        timeout=15000,
    )
    # Edit: the open model's form asks for a rate.
    page.click("#edit-button")
    assert page.is_visible("#edit-form input[name=arrival_rate]")
    assert not page.is_visible("#edit-form input[name=user_count]")
    page.fill("#edit-form input[name=arrival_rate]", "100/s")
    page.click("#edit-form button[type=submit]")
    page.wait_for_function(
        "() => parseFloat(document.querySelector('#status-rps').textContent) > 60",
        timeout=20000,
    )
    page.click("button[data-tab=charts]")
    page.wait_for_timeout(2500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-open-model.png"), full_page=True)
    page.click("#stop-button")
    page.wait_for_function(
        "() => document.querySelector('#status-state').textContent === 'stopped'", timeout=15000
    )
    assert errors == []


def test_a_capacity_search_from_the_start_form(web_run, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(web_run.url)
    page.select_option("#load-model", "capacity")
    assert page.is_visible("#start-form input[name=slo]")
    page.fill("#start-form input[name=slo]", "p95<1s")
    page.fill("#start-form input[name=capacity_start]", "20/s")
    page.fill("#start-form input[name=step_time]", "1s")
    page.fill("#start-form input[name=settle_time]", "0.2s")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector("#capacity-tab:not(.hidden)", timeout=10000)
    page.click("#capacity-tab")
    page.wait_for_function(
        "() => document.querySelectorAll('#capacity-table tbody tr').length >= 2", timeout=20000
    )
    assert "Searching" in page.inner_text("#capacity-headline")
    assert not page.is_visible("#edit-button")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-capacity.png"), full_page=True)
    page.click("#stop-button")
    page.wait_for_function(
        "() => document.querySelector('#status-state').textContent === 'stopped'", timeout=15000
    )
    page.wait_for_function(
        "() => document.querySelector('#capacity-headline').textContent.startsWith('capacity:')",
        timeout=5000,
    )
    assert errors == []
