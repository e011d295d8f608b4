"""Who may drive the web UI: DNS rebinding, cross-site requests, scripts, tokens, methods.

Everything here talks to a real ``horde run`` over real sockets; the decision function is also
checked on its own, for the cases a test on this machine cannot reach.
"""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from horde.web.security import ControlRequest, HostAllowlist, control_refusal

from .conftest import WebRun, non_loopback_address
from .test_api import call, stats

pytestmark = pytest.mark.timeout(120)

# Every route of the UI, with the method it answers (and a path that does not exist).
READ_ROUTES = [
    "/", "/assets/app.js", "/assets/app.css", "/vendor/uPlot.iife.min.js", "/favicon.ico",
    "/stats/requests", "/stats/history?since=0", "/exceptions", "/stats/requests/csv",
    "/stats/requests_full_history/csv", "/stats/failures/csv", "/exceptions/csv", "/stats/json",
    "/stats/report", "/stats/report?download=1", "/openapi.json", "/tasks", "/logs", "/metrics",
    "/nowhere",
]  # fmt: skip
CONTROL_ROUTES = ["/swarm", "/stop", "/stats/reset"]
START = {"user_count": "1", "spawn_rate": "5"}


def test_a_rebound_host_name_is_refused_on_every_route(web_run):
    evil = {"Host": f"evil.example:{web_run.port}"}
    for path in READ_ROUTES:
        status, body, headers = call(web_run.url + path, headers=evil)
        assert status == 403, (path, status)
        assert "does not answer to the host name 'evil.example'" in body
        assert web_run.token not in body
        assert headers["X-Frame-Options"] == "DENY"
    # Even with everything a page on that name could have: token, matching Origin.
    page_like = {**evil, "Origin": f"http://evil.example:{web_run.port}",
                 "X-Horde-Token": web_run.token}  # fmt: skip
    for path in CONTROL_ROUTES:
        for headers in (evil, page_like):
            status, body, _ = call(web_run.url + path, "POST", START, headers)
            assert status == 403, (path, status, body)
    assert stats(web_run)["state"] == "ready"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "LOCALHOST.", "[::1]", "app.localhost", "192.0.2.7"]
)
def test_loopback_names_and_ip_literals_are_answered(web_run, host):
    status, body, _ = call(web_run.url + "/", headers={"Host": f"{host}:{web_run.port}"})
    assert status == 200 and web_run.token in body


def test_names_added_by_environment_are_answered(tmp_path, counting_target):
    # (--web-allowed-host is checked in test_basic_auth_also_takes_the_script_token)
    run = WebRun(
        tmp_path, counting_target.url, env={"HORDE_WEB_ALLOWED_HOSTS": "ci.example, o.example"}
    )
    try:
        for name in ("ci.example", "o.example"):
            assert call(run.url + "/", headers={"Host": f"{name}:{run.port}"})[0] == 200, name
        assert call(run.url + "/", headers={"Host": f"else.example:{run.port}"})[0] == 403
        # A page served under an added name may control the UI from that name.
        token = run.load_token()
        headers = {"Host": f"ci.example:{run.port}", "Origin": f"http://ci.example:{run.port}",
                   "Sec-Fetch-Site": "same-origin", "X-Horde-Token": token}  # fmt: skip
        assert call(run.url + "/stats/reset", "POST", {}, headers)[0] == 200
    finally:
        run.stop()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "X-Horde-Token": "TOKEN"},
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site", "X-Horde-Token": "TOKEN"},
        {"Sec-Fetch-Site": "same-site", "X-Horde-Token": "TOKEN"},  # another port of localhost
        {"Origin": "http://localhost:3000", "X-Horde-Token": "TOKEN"},  # another local app
        {"Origin": "null", "X-Horde-Token": "TOKEN"},  # a sandboxed frame or a file: page
        {"Origin": "ORIGIN"},  # our own origin, but no token
        {"Cookie": "session=1"},  # a browser sending cookies for 127.0.0.1, no token
        {"Sec-Fetch-Site": "same-origin", "X-Horde-Token": "guess"},
    ],
)
def test_cross_site_and_token_less_browser_requests_are_refused(web_run, headers):
    headers = {
        k: v.replace("TOKEN", web_run.token).replace("ORIGIN", web_run.url)
        for k, v in headers.items()
    }
    for path in CONTROL_ROUTES:
        status, body, _ = call(web_run.url + path, "POST", START, headers)
        assert status == 403, (path, body)
        assert json.loads(body)["message"].startswith("refused")
    assert stats(web_run)["state"] == "ready"


def test_our_own_page_with_its_token_is_accepted(web_run):
    headers = {"X-Horde-Token": web_run.token, "Origin": web_run.url,
               "Sec-Fetch-Site": "same-origin", "Cookie": "unrelated=1"}  # fmt: skip
    assert call(web_run.url + "/swarm", "POST", START, headers)[0] == 200
    # localhost and 127.0.0.1 name the same UI on the same port.
    other_name = {**headers, "Origin": f"http://localhost:{web_run.port}"}
    assert call(web_run.url + "/stop", "POST", {}, other_name)[0] == 200


def test_the_token_is_not_taken_from_the_query_string(web_run):
    query = "?" + urllib.parse.urlencode({"token": web_run.token})
    browser = {"Origin": web_run.url, "Sec-Fetch-Site": "same-origin"}
    assert call(web_run.url + "/swarm" + query, "POST", START, browser)[0] == 403


def test_a_script_on_loopback_needs_no_token(web_run):
    # What `curl -X POST -d user_count=2 -d spawn_rate=5 http://127.0.0.1:8089/swarm` sends.
    status, body, _ = call(web_run.url + "/swarm", "POST", {"user_count": "2", "spawn_rate": "5"})
    assert status == 200, body
    assert stats(web_run)["state"] in ("spawning", "running")
    assert call(web_run.url + "/stats/reset", "POST", {})[0] == 200
    assert call(web_run.url + "/stop", "POST", {})[0] == 200
    assert stats(web_run)["state"] == "stopped"


def test_a_script_behind_a_proxy_needs_the_token(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url, env={"HORDE_WEB_TOKEN": "s3cret-token"})
    try:
        proxied = {"X-Forwarded-For": "203.0.113.9"}
        status, body, _ = call(run.url + "/swarm", "POST", START, proxied)
        assert status == 403 and "--web-token" in json.loads(body)["message"]
        bearer = {**proxied, "Authorization": "Bearer s3cret-token"}
        assert call(run.url + "/swarm", "POST", START, bearer)[0] == 200
        wrong = {**proxied, "Authorization": "Bearer nope"}
        assert call(run.url + "/stop", "POST", {}, wrong)[0] == 403
        assert (
            call(run.url + "/stop", "POST", {}, {**proxied, "X-Horde-Token": "s3cret-token"})[0]
            == 200
        )
    finally:
        run.stop()


def test_off_loopback_scripts_need_the_token(tmp_path, counting_target):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to listen on (the decision is "
                    "checked by test_control_decision)")  # fmt: skip
    run = WebRun(tmp_path, counting_target.url, "--web-no-auth", "--web-token", "t0ken",
                 host=address)  # fmt: skip
    try:
        status, body, _ = call(run.url + "/swarm", "POST", START)
        assert status == 403, body
        assert "--web-token" in json.loads(body)["message"]
        assert stats(run)["state"] == "ready"
        bearer = {"Authorization": "Bearer t0ken"}
        assert call(run.url + "/swarm", "POST", START, bearer)[0] == 200
        assert call(run.url + "/stop", "POST", {}, {"X-Horde-Token": "t0ken"})[0] == 200
        # The listener's own address is an allowed Host; the page still works from it.
        assert call(run.url + "/")[0] == 200
    finally:
        run.stop()


def test_basic_auth_also_takes_the_script_token(tmp_path, counting_target):
    run = WebRun(tmp_path, counting_target.url, "--web-auth", "admin:pw", "--web-token", "tk",
                 "--web-allowed-host", "horde.test")  # fmt: skip
    try:
        assert call(run.url + "/stats/requests")[0] == 401
        named = {"Host": f"horde.test:{run.port}", "Authorization": "Bearer tk"}
        assert call(run.url + "/stats/requests", headers=named)[0] == 200
        elsewhere = {**named, "Host": f"else.example:{run.port}"}
        assert call(run.url + "/stats/requests", headers=elsewhere)[0] == 403
        assert call(run.url + "/stats/requests", headers={"Authorization": "Bearer tk"})[0] == 200
        basic = {"Authorization": "Basic " + base64.b64encode(b"admin:pw").decode()}
        assert call(run.url + "/stats/requests", headers=basic)[0] == 200
        assert call(run.url + "/stop", "POST", {}, {"Authorization": "Bearer tk"})[0] == 200
    finally:
        run.stop()


def test_state_changes_are_post_only(web_run):
    for path in CONTROL_ROUTES:
        status, body, headers = call(web_run.url + path)
        assert status == 405, path
        assert headers["Allow"] == "POST"
        assert body.startswith("405")
        assert headers["Referrer-Policy"] == "no-referrer"
    assert stats(web_run)["state"] == "ready"


@pytest.mark.parametrize(
    ("request_", "allowed"),
    [
        (ControlRequest(False, True, False, loopback=True, proxied=False), True),  # local script
        (ControlRequest(False, True, False, loopback=False, proxied=False), False),  # remote
        (ControlRequest(False, True, False, loopback=True, proxied=True), False),  # via a proxy
        (ControlRequest(False, True, True, loopback=False, proxied=True), True),  # with token
        (ControlRequest(True, True, False, loopback=True, proxied=False), False),  # page, no token
        (ControlRequest(True, False, True, loopback=True, proxied=False), False),  # other site
        (ControlRequest(True, True, True, loopback=False, proxied=False), True),  # our page
    ],
)
def test_control_decision(request_, allowed):
    assert (control_refusal(request_) is None) is allowed


def test_host_allowlist():
    hosts = HostAllowlist("10.1.2.3", ["ci.example", "[fd00::1]", "proxy.example:8443"])
    for name in ("localhost", "10.1.2.3", "ci.example", "fd00::1", "proxy.example", "a.localhost",
                 "::1", "203.0.113.5"):  # fmt: skip
        assert hosts.allows(name), name
    for name in ("evil.example", "localhost.evil.example", "ci.example.evil", ""):
        assert not hosts.allows(name), name
    assert HostAllowlist("127.0.0.1", ["*"]).allows("anything.example")
