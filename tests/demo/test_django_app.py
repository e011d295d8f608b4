"""The demo application itself, through horde's client: CSRF, JWT, throttled logins, pages."""

import pytest
import uvloop

from horde.http import HttpSession, django_login
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(120)


def run(coro):
    return uvloop.run(coro)


def test_pages_need_a_login_and_the_csrf_login_works(demo_app):
    async def scenario():
        client = HttpSession(demo_app.url, recorder=RequestStats())
        anonymous = await client.get("/", allow_redirects=False)
        response = await django_login(client, username="user11", password="password")
        home = await client.get("/")
        listing = await client.get("/pages/")
        missing = await client.get("/pages/999999/")
        client.close()
        return anonymous, response, home, listing, missing

    anonymous, response, home, listing, missing = run(scenario())
    assert anonymous.status_code == 302
    assert anonymous.headers["location"].startswith("/accounts/login/")
    assert response.status_code == 200
    assert [h.status_code for h in response.history] == [302]
    assert "Welcome, user11" in home.text
    assert "Page 1 of" in listing.text
    assert missing.status_code == 404


def test_a_second_login_of_one_account_within_the_interval_is_refused(demo_app):
    async def scenario():
        first = HttpSession(demo_app.url, recorder=RequestStats())
        second = HttpSession(demo_app.url, recorder=RequestStats())
        ok = await django_login(first, username="user12", password="password")
        refused = await django_login(second, username="user12", password="password")
        first.close()
        second.close()
        return ok, refused

    ok, refused = run(scenario())
    assert ok.status_code == 200
    assert refused.status_code == 429
    assert "Too many logins" in refused.text


def test_csrf_protected_form(demo_app):
    async def scenario(csrf):
        stats = RequestStats()
        client = HttpSession(demo_app.url, recorder=stats, django_csrf=csrf)
        await django_login(client, username=f"user{13 if csrf else 14}", password="password")
        await client.get("/create_page/")
        posted = await client.post("/create_page/", data={"name": "from a test"})
        client.close()
        return posted, stats

    without, stats = run(scenario(csrf=False))
    assert without.status_code == 403
    assert stats.entry("POST", "/create_page/").num_failures == 1
    posted, stats = run(scenario(csrf=True))
    assert posted.status_code == 200
    assert [h.status_code for h in posted.history] == [302]
    assert posted.url.endswith("/pages/")
    assert "from a test" in posted.text
    # Each hop is its own request: the POST and the redirected GET are both counted.
    assert stats.entry("POST", "/create_page/").num_requests == 1
    assert stats.entry("GET", "/pages/").num_requests == 1


def test_jwt_api(demo_app):
    async def scenario():
        client = HttpSession(demo_app.url, recorder=RequestStats())
        no_token = await client.post("/api/advertisers/", json={"name": "x"})
        bad = await client.get("/api/advertisers/", headers={"Authorization": "JWT nope"})
        login = await client.post(
            "/auth/login/", data={"username": "suser", "password": "asdf1234"}
        )
        token = login.json()["token"]
        created = [
            await client.post(
                "/api/advertisers/",
                json={"name": f"adv {kind}"},
                headers={"Authorization": f"{kind} {token}"},
            )
            for kind in ("JWT", "jwt", "Bearer")
        ]
        listing = await client.get("/api/advertisers/", headers={"Authorization": f"jwt {token}"})
        wrong = await client.post("/auth/login/", data={"username": "suser", "password": "x"})
        client.close()
        return no_token, bad, created, listing, wrong

    no_token, bad, created, listing, wrong = run(scenario())
    assert no_token.status_code == 401
    assert bad.status_code == 401
    assert [r.status_code for r in created] == [201, 201, 201]
    names = {a["name"] for a in listing.json()}
    assert {"adv JWT", "adv jwt", "adv Bearer"} <= names
    assert wrong.status_code == 401
