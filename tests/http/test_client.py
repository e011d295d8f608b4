"""The HTTP client against a real server on 127.0.0.1: bodies, keep-alive, cookies, redirects."""

import asyncio
import json

import pytest
import uvloop

from horde.bridge import run_blocking
from horde.exceptions import UserStopped
from horde.http import HttpSession, TooManyRedirects
from horde.scenario.client import HttpClient
from horde.stats import RequestStats

from .servers import TestServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server():
    with TestServer() as s:
        yield s


def run(coro):
    return uvloop.run(coro)


def client_for(server, **kwargs):
    stats = RequestStats()
    return HttpSession(server.url, recorder=stats, **kwargs), stats


def test_get_post_params_headers_json_and_form(server):
    async def go():
        client, stats = client_for(server)
        got = await client.get("/echo", params={"q": "a b", "n": 2}, headers={"X-Test": "1"})
        form = await client.post("/echo", data={"name": "x y"})
        as_json = await client.post("/echo", json={"k": [1, 2]})
        client.close()
        return got, form, as_json, stats

    got, form, as_json, stats = run(go())
    echo = got.json()
    assert echo["path"] == "/echo?q=a+b&n=2"
    assert echo["headers"]["x-test"] == "1"
    assert echo["headers"]["host"] == f"127.0.0.1:{server.port}"
    assert form.json()["body"] == "name=x+y"
    assert form.json()["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert json.loads(as_json.json()["body"]) == {"k": [1, 2]}
    # The stats name is the URL as given, without the params.
    assert stats.entry("GET", "/echo").num_requests == 1
    assert stats.entry("POST", "/echo").num_requests == 2
    assert got.headers["content-type"] == "application/json"
    assert got.headers.get("CONTENT-TYPE") == "application/json"


def test_keep_alive_reuses_one_connection(server):
    async def go():
        client, stats = client_for(server)
        for _ in range(20):
            await client.get("/")
        client.close()
        return stats

    stats = run(go())
    assert stats.total.num_requests == 20
    assert server.state.connections == 1
    assert len(server.state.requests) == 20


def test_reconnects_when_the_server_closed_an_idle_connection(server):
    async def go():
        client, stats = client_for(server)
        first = await client.get("/answer-then-close")
        await asyncio.sleep(0.2)
        second = await client.get("/")
        client.close()
        return first, second, stats

    first, second, stats = run(go())
    assert first.text == "bye"
    assert second.text == "hello"
    assert stats.total.num_failures == 0
    assert server.state.connections == 2


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/chunked", "hello chunks"),
        ("/close-delimited", "until the end"),
        ("/gzip", "squeezed " * 50),
        ("/deflate", "deflated " * 50),
    ],
)
def test_body_framings_and_compression(server, path, expected):
    async def go():
        client, stats = client_for(server)
        r = await client.get(path)
        again = await client.get("/")  # the connection (or a new one) still works
        client.close()
        return r, again, stats

    r, again, stats = run(go())
    assert r.text == expected
    assert again.text == "hello"
    # Content size is what the task receives, after decompression.
    assert stats.entry("GET", path).total_content_length == len(expected)


def test_head_has_no_body_and_the_connection_survives(server):
    async def go():
        client, _ = client_for(server)
        head = await client.head("/head")
        after = await client.get("/")
        client.close()
        return head, after

    head, after = run(go())
    assert head.status_code == 200
    assert head.content == b""
    assert after.text == "hello"
    assert server.state.connections == 1


def test_cookies_honour_path_expiry_and_secure(server):
    async def go():
        client, _ = client_for(server)
        await client.get("/cookies/set")
        at_root = await client.get("/other/echo")
        under_path = await client.get("/cookies/echo")
        client.close()
        return client, at_root, under_path

    client, at_root, under_path = run(go())
    sent_at_root = set(at_root.text.split("; "))
    assert sent_at_root == {"plain=1", "csrftoken=tok123"}  # no expired, no Secure over http
    assert "scoped=2" in under_path.text
    assert client.cookies.get("plain") == "1"


def test_django_csrf_header_from_the_cookie_on_unsafe_methods_only(server):
    async def go():
        client, _ = client_for(server, django_csrf=True)
        await client.get("/cookies/set")
        get = await client.get("/echo")
        post = await client.post("/echo", data={"a": "1"})
        client.close()
        return get, post

    get, post = run(go())
    assert "x-csrftoken" not in get.json()["headers"]
    assert post.json()["headers"]["x-csrftoken"] == "tok123"


def test_redirects_record_every_hop(server):
    async def go():
        client, stats = client_for(server)
        r = await client.get("/redirect/3")
        other = await client.post("/see-other", data={"x": "1"})
        kept = await client.post("/temporary", data={"x": "1"})
        not_followed = await client.get("/redirect/1", allow_redirects=False)
        named = await client.get("/redirect/2", name="chain")
        client.close()
        return r, other, kept, not_followed, named, stats

    r, other, kept, not_followed, named, stats = run(go())
    assert r.text == "arrived"
    assert [h.status_code for h in r.history] == [302, 302, 302]
    for name in ("/redirect/3", "/redirect/2", "/redirect/1", "/redirect/0"):
        assert stats.entry("GET", name).num_requests >= 1
    assert other.json()["method"] == "GET"  # 303: the POST becomes a GET without body
    # ...and is recorded as the GET it was (under the hop's path).
    assert stats.entry("POST", "/see-other").num_requests == 1
    assert stats.entry("GET", "/echo").num_requests == 1
    assert stats.entry("POST", "/echo").num_requests == 1  # the 307 kept its POST
    assert kept.json()["method"] == "POST"  # 307: method and body kept
    assert kept.json()["body"] == "x=1"
    assert not_followed.status_code == 302
    assert named.text == "arrived"
    assert stats.entry("GET", "chain").num_requests == 3  # every hop under the given name
    # Every request the server saw was recorded once.
    assert stats.total.num_requests == len(server.state.requests)
    assert stats.total.num_failures == 0


def test_too_many_redirects_is_a_failure(server):
    async def go():
        client, stats = client_for(server, max_redirects=3)
        r = await client.get("/loop")
        client.close()
        return r, stats

    r, stats = run(go())
    assert r.status_code == 302
    assert stats.entry("GET", "/loop").num_requests == 4
    assert stats.entry("GET", "/loop").num_failures == 1
    (error,) = stats.errors.values()
    assert error.error.startswith("TooManyRedirects")
    assert isinstance(TooManyRedirects("x"), Exception)


def test_http_errors_and_catch_response(server):
    async def go():
        client, stats = client_for(server)
        missing = await client.get("/status/404")
        with await client.get("/status/404", catch_response=True, name="expected") as r:
            r.success()
        with await client.get("/", catch_response=True, name="judged") as r:
            if "nope" not in r.text:
                r.failure("no nope in the page")
        try:
            with await client.get("/", catch_response=True, name="raised"):
                raise ValueError("assertion in the with block")
        except ValueError:
            pass
        client.close()
        return missing, stats

    missing, stats = run(go())
    assert missing.status_code == 404
    with pytest.raises(Exception, match="404"):
        missing.raise_for_status()
    assert stats.entry("GET", "/status/404").num_failures == 1
    assert stats.entry("GET", "expected").num_failures == 0
    assert stats.entry("GET", "judged").num_failures == 1
    assert stats.entry("GET", "raised").num_failures == 1
    errors = {e.name: e.error for e in stats.errors.values()}
    assert errors["/status/404"] == "HTTPError: 404 Client Error: Not Found for url: /status/404"
    assert errors["judged"] == "no nope in the page"
    assert errors["raised"] == "ValueError: assertion in the with block"


def test_blocking_and_async_styles_side_by_side(server):
    def blocking_task(client):
        r = client.get("/")  # returns the response, no await
        with client.get("/status/500", catch_response=True) as failing:
            failing.success()
        return r.text

    async def go():
        session, stats = client_for(server)
        client = HttpClient(session)  # what HttpUser gives its tasks as self.client
        results = await asyncio.gather(
            run_blocking(blocking_task, client),
            client.get("/echo"),
            run_blocking(blocking_task, client),
        )
        client.close()
        return results, stats

    results, stats = run(go())
    assert results[0] == results[2] == "hello"
    assert results[1].json()["method"] == "GET"
    assert stats.total.num_requests == 5
    assert stats.total.num_failures == 0


def test_stopping_raises_stop_user_before_sending(server):
    async def go():
        client, stats = client_for(server, stop_error=UserStopped)
        client.stopping = True
        with pytest.raises(UserStopped):
            await client.get("/")
        return stats

    assert run(go()).total.num_requests == 0
    assert server.state.requests == []


def test_cancelled_request_is_recorded_as_cancelled(server):
    async def go():
        client, stats = client_for(server)
        task = asyncio.ensure_future(client.get("/stall"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        client.close()
        return stats

    stats = run(go())
    entry = stats.entry("GET", "/stall")
    assert (entry.num_requests, entry.num_failures) == (1, 1)
    (error,) = stats.errors.values()
    assert error.error.startswith("RequestCancelled")


def test_session_headers_changed_by_the_scenario_are_sent_and_override(server):
    async def go():
        client, _ = client_for(server)
        first = await client.get("/echo")
        client.headers["Authorization"] = "Bearer abc"  # the Locust pattern, after creation
        client.headers["user-agent"] = "my-agent"
        second = await client.get("/echo", headers={"Authorization": "Bearer per-request"})
        client.close()
        return first.json()["headers"], second.json()["headers"]

    first, second = run(go())
    assert "authorization" not in first
    assert first["user-agent"].startswith("horde/")
    assert second["authorization"] == "Bearer per-request"
    assert second["user-agent"] == "my-agent"


def test_a_reused_prepared_request_has_every_field_set_again(server):
    # HttpSession.request fills its spare PreparedRequest with inline stores (what reuse()
    # does): a field added to the class but not there would be missing (or stale) here.
    from horde.http.request import PreparedRequest

    async def go():
        client, _ = client_for(server)
        await client.get("/redirect/1", timeout=5)
        spare = client._spare
        fresh = PreparedRequest.blank()
        client._spare = fresh  # the next request fills a blank one
        await client.get("/")
        client.close()
        return spare, fresh

    spare, fresh = run(go())
    for slot in PreparedRequest.__slots__:
        getattr(fresh, slot)  # raises AttributeError when the inline stores missed it
    assert fresh.foreign is False and fresh.url == "/" and fresh.timeout is None
    assert spare is not None
