"""examples/django_seed.py, the seed article's scenario, run by horde against the demo app."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "django_seed.py"
DECLARED = {
    ("GET", "/accounts/login/"),
    ("POST", "/accounts/login/"),
    ("GET", "/"),
    ("GET", "/pages/"),
    ("GET", "/create_page/"),
    ("POST", "/create_page/"),
    ("POST", "/auth/login/"),
    ("GET", "/api/advertisers/"),
    ("POST", "/api/advertisers/"),
}


def run_seed(demo_app, tmp_path, *extra):
    out = tmp_path / "run.json"
    result = subprocess.run(
        [sys.executable, "-m", "horde", "run", str(SCENARIO), "-H", demo_app.url,
         "-u", "6", "-r", "20", "-t", "4s", "--headless", "--only-summary",
         "--min-wait", "0.05", "--max-wait", "0.2", "--accounts", "200",
         "--exit-code-on-error", "0", "--json", str(out), *extra],
        capture_output=True, text=True, timeout=90, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def test_low_load_has_no_failures_and_only_declared_names(demo_app, tmp_path):
    document = run_seed(demo_app, tmp_path)
    assert document["total"]["num_failures"] == 0, document["failures"]
    seen = {(row["method"], row["name"]) for row in document["stats"]}
    assert seen <= DECLARED
    assert {("GET", "/pages/"), ("POST", "/accounts/login/")} <= seen
    pages = next(r for r in document["stats"] if r["name"] == "/pages/")
    index = next(r for r in document["stats"] if r["name"] == "/" and r["method"] == "GET")
    # The list page is weighted 4 against the home page's 1 (and logins redirect to "/").
    assert pages["num_requests"] > index["num_requests"]


def test_counts_equal_what_the_application_answered(demo_app, tmp_path):
    time.sleep(2.1)  # let earlier logins of the same accounts age past the interval
    mark = demo_app.log.mark()
    document = run_seed(demo_app, tmp_path)
    time.sleep(0.3)
    served = demo_app.log.counts_since(mark)
    reported = {(r["method"], r["name"]): r["num_requests"] for r in document["stats"]}
    assert reported == dict(served)
    assert document["total"]["num_requests"] == sum(served.values())


def test_shared_account_reproduces_the_login_failures(demo_app, tmp_path):
    time.sleep(2.1)
    document = run_seed(demo_app, tmp_path, "--shared-account")
    login = next(
        r for r in document["stats"] if r["method"] == "POST" and r["name"] == "/accounts/login/"
    )
    assert login["num_failures"] >= 3  # 5 web users race for user1 within the 2 s interval
    errors = {(f["method"], f["name"], f["error"]) for f in document["failures"]}
    error = "HTTPError: 429 Client Error: Too Many Requests for url: /accounts/login/"
    assert ("POST", "/accounts/login/", error) in errors
    # As in the article, the failures are logins: every other request succeeds.
    assert {(f["method"], f["name"]) for f in document["failures"]} == {
        ("POST", "/accounts/login/")
    }
    assert {(r["method"], r["name"]) for r in document["stats"]} <= DECLARED


def test_open_model_counts_equal_what_the_application_answered(demo_app, tmp_path):
    """The seed scenario as arrivals: users are made on demand (each logs in at its first
    iteration), and every request is still counted exactly once."""
    time.sleep(2.1)
    mark = demo_app.log.mark()
    document = run_seed(demo_app, tmp_path, "--arrival-rate", "15/s")
    time.sleep(0.3)
    served = demo_app.log.counts_since(mark)
    reported = {(r["method"], r["name"]): r["num_requests"] for r in document["stats"]}
    assert reported == dict(served)
    open_model = document["meta"]["open_model"]
    assert open_model["achieved_rate"] == pytest.approx(15, rel=0.1)
    assert open_model["dropped_iterations"] == 0


def test_the_articles_locust_0x_file_runs_as_written(demo_app, tmp_path):
    # examples/seed_locustfile.py keeps the article's HttpLocust, task_set and min/max_wait.
    time.sleep(2.1)  # its accounts are user1.. as the other runs': let their logins age
    out = tmp_path / "run.json"
    result = subprocess.run(
        [sys.executable, "-m", "horde", "run", str(ROOT / "examples" / "seed_locustfile.py"),
         "-H", demo_app.url, "-u", "5", "-r", "5", "-t", "3s", "--headless", "--only-summary",
         "--json", str(out)],
        capture_output=True, text=True, timeout=90, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["total"]["num_failures"] == 0, document["failures"]
    counts = {(r["method"], r["name"]): r["num_requests"] for r in document["stats"]}
    assert set(counts) <= DECLARED
    # Every task of the article ran, and the logins were one per user (in on_start).
    for name in [("GET", "/"), ("GET", "/pages/"), ("POST", "/create_page/"),
                 ("POST", "/auth/login/"), ("POST", "/api/advertisers/")]:  # fmt: skip
        assert counts.get(name, 0) > 0, name
    assert counts[("POST", "/accounts/login/")] == 5
