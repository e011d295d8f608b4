"""Connections closed by the server are forgotten at once; credentials stay on their origin."""

import asyncio
from urllib.parse import quote

import pytest
import uvloop

from horde.http import HttpSession
from horde.http import connection as connection_module
from horde.stats import RequestStats

from .servers import TestServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server():
    with TestServer() as s:
        yield s


@pytest.mark.parametrize("path", ["/answer-then-close", "/close-each"])
def test_connections_the_server_closed_are_not_kept(server, path):
    # A server that closes idle keep-alive connections (Node.js after 5 s), or answers
    # Connection: close: the session and the timeout sweep must drop each closed connection
    # when it closes, not at some later pass (the sweep's next pass may be a read timeout away).
    async def go():
        stats = RequestStats()
        client = HttpSession(server.url, recorder=stats, read_timeout=60)
        sweep = connection_module._sweep_for(asyncio.get_running_loop())
        held, watched = [], []
        for _ in range(20):
            response = await client.get(path)
            assert response.error is None
            await asyncio.sleep(0.08)  # the server has closed it by now
            held.append(len(client._connections))
            watched.append(len(sweep.active))
        client.close()
        return stats, held, watched

    stats, held, watched = uvloop.run(go())
    assert stats.total.num_requests == 20 and stats.total.num_failures == 0
    assert server.state.connections == 20
    assert max(held) <= 1, held
    assert max(watched) <= 1, watched


def test_credentials_are_dropped_on_a_redirect_to_another_origin():
    with TestServer() as first, TestServer() as other:

        async def go():
            client = HttpSession(first.url, recorder=RequestStats())
            client.headers["Authorization"] = "Bearer session-wide"
            credentials = {
                "auth": ("user", "secret"),
                "cookies": {"given": "1"},
                "headers": {"X-Kept": "yes", "Cookie": "explicit=1"},
            }
            away = await client.get("/redirect-to?url=" + quote(other.url + "/echo"), **credentials)
            home = await client.get("/redirect-to?url=" + quote("/echo"), **credentials)
            client.close()
            return away.json()["headers"], home.json()["headers"]

        away, home = uvloop.run(go())
    # To another origin (another port): no Authorization, no Cookie; other headers go on.
    assert "authorization" not in away
    assert "cookie" not in away
    assert away["x-kept"] == "yes"
    # On the same origin everything is sent again.
    assert home["authorization"].startswith("Basic ")
    assert "explicit=1" in home["cookie"]
