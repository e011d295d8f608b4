"""The dashboard and the HTML report in a real browser (Debian's Chromium via Playwright).

Screenshots of every tab at 1280 and 600 px land in test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import WebRun
from .test_api import call, stats, wait_for

pytestmark = pytest.mark.timeout(150)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDTHS = (1280, 600)

# Counts the canvas pixels that are not background: a drawn chart has many.
DRAWN_PIXELS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0) drawn++;
  return drawn;
}"""

# Records Content-Security-Policy violations, before any of the page's code runs.
CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""

# A shop: pages, a failing checkout, a task that logs a warning and raises, a nested task set,
# and options of its own.
SHOP = """
import logging
from horde import HttpUser, TaskSet, constant, events, tag, task

log = logging.getLogger("shop")

@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--shared-account", action="store_true", default=False,
                        help="all users log in with one account")
    parser.add_argument("--accounts", type=int, default=1000, help="number of demo accounts")
    parser.add_argument("--pace", choices=["fast", "slow"], default="fast", help="how users go")

class Browse(TaskSet):
    @task(2)
    def item(self):
        self.client.get("/item")

    @task
    def leave(self):
        self.interrupt()

class Shopper(HttpUser):
    wait_time = constant(0.1)
    tasks = {Browse: 1}

    @tag("browse")
    @task(3)
    def home(self):
        self.client.get("/")

    @task
    def checkout(self):
        with self.client.get("/checkout", catch_response=True) as response:
            response.failure("out of stock")

    @task
    def broken(self):
        o = self.environment.parsed_options
        log.warning("accounts=%s shared=%s pace=%s", o.accounts, o.shared_account, o.pace)
        raise ValueError("boom")
"""


def new_page(browser, width=1280, **options):
    page = browser.new_page(viewport={"width": width, "height": 900}, **options)
    page.add_init_script(CSP_WATCH)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_fits(page, width):
    """Nothing scrolls the page sideways, and the header is one row."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"
    header = page.evaluate("document.querySelector('header').getBoundingClientRect().height")
    assert header <= 64, f"the header is {header} px high at {width} px"


def wait_state(page, state, timeout=15000):
    page.wait_for_function(
        f"() => document.querySelector('#status-state').textContent === '{state}'",
        timeout=timeout,
    )


def text_number(page, selector):
    return int(page.inner_text(selector).replace(",", "") or 0)


@pytest.fixture
def shop_run(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url, scenario=SHOP)
    run.load_token()
    yield run
    run.stop()


def test_every_tab_of_a_running_test(shop_run, browser, tmp_path):
    page = new_page(browser, accept_downloads=True)
    page.goto(shop_run.url)

    # The start form has the scenario's own options, with their defaults.
    form = "#start-form"
    assert page.input_value(f"{form} input[name=accounts]") == "1000"
    assert not page.is_checked(f"{form} input[name=shared_account]")
    assert page.input_value(f"{form} select[name=pace]") == "fast"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_fits(page, width)
        shoot(page, f"web-start-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.fill(f"{form} input[name=user_count]", "3")
    page.fill(f"{form} input[name=spawn_rate]", "10")
    page.fill(f"{form} input[name=accounts]", "7")
    page.check(f"{form} input[name=shared_account]")
    page.select_option(f"{form} select[name=pace]", "slow")
    page.click(f"{form} button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#exceptions-count').textContent !== ''"
        " && document.querySelector('#failures-count').textContent !== ''"
        " && document.querySelector('#logs-count').textContent !== ''",
        timeout=15000,
    )
    # The users read the options the form sent.
    logs = json.loads(call(shop_run.url + "/logs")[1])
    assert any("accounts=7 shared=True pace=slow" in line for line in logs["master"])

    # Reset counts afresh but keeps the charts' history; the reset is marked.
    wait_for(lambda: stats(shop_run)["stats"][-1]["num_requests"] > 40)
    rows_before = len(json.loads(call(shop_run.url + "/stats/history")[1])["rows"])
    page.click("#reset-button")
    wait_for(lambda: stats(shop_run)["stats"][-1]["num_requests"] < 40)
    history = json.loads(call(shop_run.url + "/stats/history")[1])
    assert len(history["rows"]) >= rows_before
    assert [m["kind"] for m in history["markers"]] == ["load", "reset"]

    # Edit: prefilled with what runs; the scenario's options change while it runs.
    page.click("#edit-button")
    assert page.input_value("#edit-form input[name=user_count]") == "3"
    assert page.input_value("#edit-form input[name=spawn_rate]") == "10"
    assert page.input_value("#edit-form input[name=accounts]") == "7"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, f"web-edit-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.fill("#edit-form input[name=user_count]", "4")
    page.fill("#edit-form input[name=accounts]", "9")
    page.uncheck("#edit-form input[name=shared_account]")
    page.click("#edit-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#status-users').textContent === '4'",
                           timeout=10000)  # fmt: skip
    wait_for(
        lambda: any(
            "accounts=9 shared=False pace=slow" in line
            for line in json.loads(call(shop_run.url + "/logs")[1])["master"]
        )
    )
    page.click("button[data-tab=charts]")
    page.wait_for_timeout(2500)  # more seconds of history after the change

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        for tab in ("stats", "charts", "failures", "exceptions", "ratio", "logs", "download"):
            page.click(f"button[data-tab={tab}]")
            page.wait_for_selector(f"#tab-{tab}:not(.hidden)")
            if tab in ("exceptions", "ratio", "logs"):
                page.wait_for_selector(f"#tab-{tab} tbody tr")
            assert_fits(page, width)
            shoot(page, f"web-{tab}-{width}")
        # The statistics table scrolls inside its box at 600 px, not the page.
        if width == 600:
            page.click("button[data-tab=stats]")
            box = page.eval_on_selector(
                "#tab-stats .table-box", "b => [b.scrollWidth, b.clientWidth]"
            )
            assert box[0] > box[1]
    page.set_viewport_size({"width": 1280, "height": 900})

    check_tables(page)
    check_charts(page, tmp_path)

    # Download the statistics CSV: its rows are the table's.
    page.click("button[data-tab=download]")
    with page.expect_download() as download:
        page.click("a[href='/stats/requests/csv']")
    target = tmp_path / "stats.csv"
    download.value.save_as(target)
    names = [r["Name"] for r in csv.DictReader(target.open())]
    assert names == ["/", "/checkout", "/item", "Aggregated"]

    page.click("#stop-button")
    wait_state(page, "stopped")
    assert page.evaluate("window.__csp") == []
    assert page.errors == []
    page.close()

    # The same page in a dark system theme.
    dark = new_page(browser, color_scheme="dark")
    dark.goto(shop_run.url)
    wait_state(dark, "stopped")
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert sum(int(c) for c in background[4:-1].split(",")) < 150, background
    dark.click("button[data-tab=charts]")
    dark.wait_for_selector("#charts canvas")
    dark.wait_for_timeout(300)
    axis = dark.evaluate("window.hordeCharts.plots()[0].axes[1].stroke()")
    assert axis == "#aab2bf"  # the dark theme's axis colour, read from the CSS
    for width in WIDTHS:
        dark.set_viewport_size({"width": width, "height": 900})
        dark.wait_for_timeout(200)
        for tab in ("stats", "charts"):
            dark.click(f"button[data-tab={tab}]")
            shoot(dark, f"web-dark-{tab}-{width}")
    assert dark.errors == []
    dark.close()


def check_tables(page):
    """Failures and exceptions badges count their rows; failures say when they were seen;
    warnings are marked in the logs; the ratio tab shows classes and nested tasks."""
    page.click("button[data-tab=failures]")
    rows = page.query_selector_all("#failures-table tbody tr")
    assert len(rows) == text_number(page, "#failures-count") == 1
    cells = [c.inner_text() for c in rows[0].query_selector_all("td")]
    assert cells[1:4] == ["GET", "/checkout", "out of stock"]
    assert cells[4].count(":") == 2 and "s ago" in cells[5]  # first seen, last seen

    page.click("button[data-tab=exceptions]")
    page.wait_for_selector("#exceptions-table tbody tr")
    rows = page.query_selector_all("#exceptions-table tbody tr")
    assert len(rows) == text_number(page, "#exceptions-count") == 1
    assert "ValueError: boom" in rows[0].inner_text()

    page.click("button[data-tab=logs]")
    page.wait_for_selector("#logs-table tbody tr.warn")
    assert text_number(page, "#logs-count") > 0
    warning = page.inner_text("#logs-table tbody tr.warn")
    assert "WARNING" in warning and "shop" in warning and "accounts=" in warning

    page.click("button[data-tab=ratio]")
    page.wait_for_selector("#ratio-table tbody tr")
    rows = page.eval_on_selector_all(
        "#ratio-table tbody tr",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))",
    )
    by_name = {r[0]: r for r in rows}
    assert by_name["Shopper"][1] == "4" and by_name["Shopper"][3] == "100%"
    assert by_name["home"][2] == "3" and by_name["home"][4] == "50%"
    assert by_name["Browse"][4] == "16.7%"
    assert by_name["item"][4] == "66.7%" and by_name["item"][5] == "11.1%"  # nested set


def check_charts(page, tmp_path):
    """Axes from zero with units, whole-second ticks, latest values in the legend, markers
    drawn, failure ratio, and a PNG of a chart."""
    page.click("button[data-tab=charts]")
    page.wait_for_selector("#charts canvas")
    canvases = page.query_selector_all("#charts canvas")
    assert len(canvases) == 4  # throughput, latency, load, and horde's own CPU and loop lag
    assert all(canvas.evaluate(DRAWN_PIXELS) > 500 for canvas in canvases)
    axes = page.evaluate(
        """() => window.hordeCharts.plots().map(u => ({
             min: u.scales.y.min, unit: u.axes[1].label,
             ticks: u.axes[0]._splits, rightUnit: u.axes[2] ? u.axes[2].label : null}))"""
    )
    assert [a["min"] for a in axes] == [0, 0, 0, 0]
    assert [a["unit"] for a in axes] == ["req/s", "ms", "users", "% CPU"]
    assert axes[0]["rightUnit"] == "% failed"
    assert axes[3]["rightUnit"] == "ms lag"
    for a in axes:
        assert a["ticks"] and all(t == int(t) for t in a["ticks"]), a["ticks"]
    legend = page.inner_text("#charts")
    assert "--" not in legend
    assert "req/s" in legend and " ms" in legend and " users" in legend
    assert "Failed" in legend and "%" in legend
    # The reset's dashed line is on the canvas, in the reset colour, where the reset was.
    reset_pixels = page.evaluate(
        """() => {
          const u = window.hordeCharts.plots()[0];
          return fetch('/stats/history').then(r => r.json()).then(body => {
            const mark = body.markers.find(m => m.kind === 'reset');
            const x = Math.round(u.valToPos(mark.timestamp, 'x', true));
            const px = u.ctx.getImageData(x - 1, u.bbox.top, 3, u.bbox.height).data;
            let hits = 0;
            for (let i = 0; i < px.length; i += 4)
              if (Math.abs(px[i] - 0x8e) < 40 && Math.abs(px[i + 1] - 0x24) < 40
                  && Math.abs(px[i + 2] - 0xaa) < 40) hits++;
            return hits;
          });
        }"""
    )
    assert reset_pixels > 20
    with page.expect_download() as download:
        page.click("#charts .chart[data-chart=latency] .save-png")
    assert download.value.suggested_filename.startswith("horde-latency-")
    png = tmp_path / "latency.png"
    download.value.save_as(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    canvas_width = page.evaluate("window.hordeCharts.plots()[1].ctx.canvas.width")
    assert width == canvas_width


def test_edit_form_is_prefilled_after_a_reload(web_run, browser):
    assert call(web_run.url + "/swarm", "POST", {"user_count": "2", "spawn_rate": "7"})[0] == 200
    page = new_page(browser)
    icons = []
    page.on("response", lambda r: icons.append(r.status) if "favicon" in r.url else None)
    page.goto(web_run.url)
    wait_state(page, "running")
    page.click("#edit-button")
    assert page.input_value("#edit-form input[name=user_count]") == "2"
    assert page.input_value("#edit-form input[name=spawn_rate]") == "7"
    # A favicon, for the page and for browsers that ask for /favicon.ico.
    assert 200 in icons
    status, _, headers = call(web_run.url + "/favicon.ico")
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    assert page.errors == []
    page.close()


def test_polling_slows_down_when_no_test_runs(web_run, browser):
    page = new_page(browser)
    polls: list[float] = []
    page.on("request", lambda r: polls.append(1) if "/stats/requests" in r.url else None)
    page.clock.install()
    page.goto(web_run.url)
    page.wait_for_function("() => document.querySelector('#status-state').textContent === 'ready'")
    page.wait_for_timeout(300)  # the first poll's history request is answered
    first = len(polls)
    page.clock.run_for(4000)
    page.wait_for_timeout(300)
    assert len(polls) == first, "polled within 4 s with no test running"
    page.clock.run_for(2500)
    page.wait_for_timeout(300)
    assert len(polls) == first + 1, "did not poll within 6.5 s"
    # A test started elsewhere (a script): once seen, the page polls every 2 s.
    assert call(web_run.url + "/swarm", "POST", {"user_count": "1", "spawn_rate": "5"})[0] == 200
    page.clock.run_for(6000)
    page.wait_for_timeout(300)
    seen_running = len(polls)
    for _ in range(3):
        page.clock.run_for(2100)
        page.wait_for_timeout(300)
    assert len(polls) == seen_running + 3
    page.close()


def test_stop_and_reset_say_when_their_request_fails(web_run, browser):
    assert call(web_run.url + "/swarm", "POST", {"user_count": "1", "spawn_rate": "5"})[0] == 200
    page = new_page(browser)
    page.goto(web_run.url)
    wait_state(page, "running")
    web_run.stop()  # horde quits: the next control request cannot reach it
    page.click("#stop-button")
    page.wait_for_selector("#action-error:not(.hidden)")
    assert page.inner_text("#action-error").startswith("Stop failed: horde did not answer")
    page.click("#reset-button")
    page.wait_for_function(
        "() => document.querySelector('#action-error').textContent.startsWith('Reset failed')"
    )
    page.close()


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
    page = new_page(browser)
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
               else route.continue_())  # fmt: skip
    page.goto(report.as_uri())
    page.wait_for_selector("#charts canvas")
    canvases = page.query_selector_all("#charts canvas")
    assert len(canvases) == 4  # the last: horde's own CPU and loop lag
    assert all(canvas.evaluate(DRAWN_PIXELS) > 200 for canvas in canvases)
    names = page.eval_on_selector_all("#stats-table tbody tr td:nth-child(2)",
                                      "cells => cells.map(c => c.textContent)")  # fmt: skip
    assert names == ["/", "second page"]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shoot(page, f"report-{width}")
    assert page.errors == []
    page.close()


def test_the_report_of_a_web_run_keeps_its_peak_and_markers(shop_run, browser, tmp_path):
    call(shop_run.url + "/swarm", "POST", {"user_count": "4", "spawn_rate": "50"})
    wait_for(lambda: stats(shop_run)["user_count"] == 4)
    time.sleep(1.2)  # a tick sees the 4 users
    call(shop_run.url + "/swarm", "POST", {"user_count": "1", "spawn_rate": "50"})
    call(shop_run.url + "/stats/reset", "POST", {})
    time.sleep(1.2)
    call(shop_run.url + "/stop", "POST", {})
    status, body, headers = call(shop_run.url + "/stats/report")
    assert status == 200
    assert "connect-src" not in headers["Content-Security-Policy"]  # may not call anything
    report = tmp_path / "report.html"
    report.write_text(body)
    page = new_page(browser)
    page.goto(report.as_uri())
    page.wait_for_selector("#charts canvas")
    facts = page.inner_text(".facts")
    assert "USERS (PEAK)\n4" in facts.upper()
    assert page.evaluate("window.hordeCharts.plots().length") == 4
    # The charts of the report mark the changes of load, the reset and the stop.
    assert '"kind": "reset"' in body and '"label": "\\u2192 1 user at 50/s"' in body
    assert page.errors == []
    page.close()


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
    page = new_page(browser)
    page.goto((tmp_path / "report.html").as_uri())
    page.wait_for_selector("#capacity-chart canvas")
    assert page.locator("#capacity-chart canvas").evaluate(DRAWN_PIXELS) > 500
    assert "--" not in page.inner_text("#capacity-chart")  # the legend has values
    steps = page.eval_on_selector_all("#capacity-table tbody tr", "rows => rows.length")
    assert steps == 4
    headline = page.inner_text("#capacity-headline")
    assert headline.startswith("capacity: ") and "the SLO broke at 200 iterations/s" in headline
    # The load chart of the open model: planned beside achieved, and what was in flight.
    legend = page.inner_text("#charts")
    assert "Planned" in legend and "Achieved" in legend and "In flight" in legend
    assert page.errors == []
    shoot(page, "capacity-report-1280")
    page.close()


def test_capacity_report_draws_the_scalability_fit_over_the_steps(browser, tmp_path, usl_target):
    """A closed-model search over a server that scales by the USL (peak at about 22 users): the
    report draws the fitted curve through the measured steps, marks N*, and reads it."""
    scenario = tmp_path / "s.py"
    scenario.write_text(
        "from horde import HttpUser, task\n"
        "class V(HttpUser):\n"
        "    @task\n"
        "    def t(self):\n"
        "        self.client.get('/')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "horde", "capacity", str(scenario), "-H", usl_target.url,
         "--slo", "p95<2s", "-u", "3", "--max-load", "48", "--step-time", "2s",
         "--settle-time", "0.5s", "--only-summary", "--html", "report.html"],
        cwd=tmp_path, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = new_page(browser)
    page.goto((tmp_path / "report.html").as_uri())
    page.wait_for_selector("#usl-chart canvas")
    chart = page.locator("#usl-chart canvas")
    assert chart.evaluate(DRAWN_PIXELS) > 500
    # What the chart holds: the fitted curve, and a measured point at each step's load.
    drawn = page.evaluate(
        """() => {
             const box = document.querySelector('#usl-chart .chart');
             const u = box.plot;
             return { xs: u.data[0], fit: u.data[1], measured: u.data[2],
                      title: box.querySelector('h2').textContent };
           }"""
    )
    measured_at = [x for x, y in zip(drawn["xs"], drawn["measured"], strict=True) if y is not None]
    assert measured_at == [3, 4, 6, 9, 14, 21, 32, 48]
    fitted = [(x, y) for x, y in zip(drawn["xs"], drawn["fit"], strict=True) if y is not None]
    assert len(fitted) > 20 and fitted[0] == (0, 0)
    peak_at = max(fitted, key=lambda point: point[1])[0]
    assert 15 < peak_at < 30, peak_at
    assert "Universal Scalability Law" in drawn["title"]
    legend = page.inner_text("#usl-chart")
    assert "USL fit" in legend and "Measured" in legend
    reading = page.inner_text("#usl-reading")
    assert reading.startswith("Throughput stops growing at about") and "coherency" in reading
    assert "N* (peak, in users)" in page.inner_text("#usl-table")
    assert page.errors == []
    shoot(page, "capacity-usl-report-1280")
    page.close()


def test_choosing_the_open_model_in_the_start_form(web_run, browser):
    page = new_page(browser)
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
    units = page.evaluate("window.hordeCharts.plots()[2].axes.map(a => a.label)")
    assert units[1:] == ["it/s", "in flight"]
    assert "In flight" in page.inner_text("#charts .chart[data-chart=load]")
    shoot(page, "web-open-model-1280")
    page.click("#stop-button")
    wait_state(page, "stopped")
    assert page.errors == []
    page.close()


def test_a_capacity_search_from_the_start_form(web_run, browser):
    page = new_page(browser)
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
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        assert_fits(page, width)
        shoot(page, f"web-capacity-{width}")
    page.click("#stop-button")
    wait_state(page, "stopped")
    page.wait_for_function(
        "() => document.querySelector('#capacity-headline').textContent.startsWith('capacity:')",
        timeout=5000,
    )
    # The scalability fit's reading, or why there is none (a search stopped after a few steps).
    usl = page.inner_text("#capacity-usl")
    assert usl.startswith(("Throughput", "No scalability fit: not enough steps to fit")), usl
    assert page.errors == []
    page.close()


# Ten users who each compute for a few milliseconds before every request: more than one core.
CPU_HEAVY = """
from horde import HttpUser, constant, task

class Heavy(HttpUser):
    wait_time = constant(0)

    @task
    def work(self):
        total = 0
        for i in range(40000):
            total += i * i
        self.client.get("/")
"""


def test_the_dashboard_says_plainly_when_horde_itself_is_saturated(
    browser, tmp_path, counting_target
):
    """horde pinned to one CPU with a CPU-heavy scenario: a banner says its figures include its
    own queueing, the header shows its CPU, the charts draw its CPU and loop lag."""
    import os
    import shutil

    if not hasattr(os, "sched_getaffinity") or not shutil.which("taskset"):
        pytest.skip("pinning horde to one CPU needs taskset (util-linux) on Linux")
    cpu = str(min(os.sched_getaffinity(0)))
    run = WebRun(
        tmp_path, counting_target.url, scenario=CPU_HEAVY,
        command=("taskset", "-c", cpu, sys.executable, "-m", "horde"),
    )  # fmt: skip
    try:
        page = new_page(browser)
        page.goto(run.url)
        assert not page.is_visible("#health-banner")
        page.fill("#start-form input[name=user_count]", "10")
        page.fill("#start-form input[name=spawn_rate]", "100")
        page.click("#start-form button[type=submit]")
        page.wait_for_selector("#generator-stat:not(.hidden)", timeout=15000)
        page.wait_for_selector("#health-banner:not(.hidden)", timeout=30000)
        banner = page.inner_text("#health-banner")
        assert "horde itself is saturated now" in banner
        assert "latencies include horde's own queueing" in banner
        assert "%" in page.inner_text("#status-generator")
        assert "hot" in page.get_attribute("#generator-stat", "class")
        assert_fits(page, 1280)
        shoot(page, "web-health-banner-1280")
        page.click("button[data-tab=charts]")
        page.wait_for_selector("#charts .chart[data-chart=generator] canvas")
        page.wait_for_timeout(2500)
        chart = page.locator("#charts .chart[data-chart=generator] canvas")
        assert chart.evaluate(DRAWN_PIXELS) > 500
        legend = page.inner_text("#charts .chart[data-chart=generator]")
        assert (
            "CPU used + waited for" in legend
            and "% of a core" in legend
            and "Loop lag p99" in legend
        )
        shoot(page, "web-health-charts-1280")
        page.set_viewport_size({"width": 600, "height": 900})
        page.wait_for_timeout(200)
        assert_fits(page, 600)  # the header's horde figure gives way; the banner stays
        assert page.is_visible("#health-banner")
        shoot(page, "web-health-banner-600")
        page.click("#stop-button")
        wait_state(page, "stopped")
        # Once stopped, the banner says the test was saturated, and so does its report.
        page.wait_for_function(
            "() => document.querySelector('#health-banner').textContent"
            ".includes('was saturated during this test')",
            timeout=10000,
        )
        status, body, _ = call(run.url + "/stats/report")
        assert status == 200 and 'id="health-banner"' in body
        assert page.errors == []
        page.close()
    finally:
        run.stop()
