"""Everything that can go wrong on the network is a recorded failure, never a crashed user."""

import socket
import ssl
import time

import pytest
import trustme
import uvloop

from horde.http import HttpSession
from horde.stats import RequestStats

from .servers import TestServer

pytestmark = pytest.mark.timeout(60)


def run(coro):
    return uvloop.run(coro)


def one_request(url, path="/", **kwargs):
    async def go():
        stats = RequestStats()
        client = HttpSession(url, recorder=stats, **kwargs)
        t0 = time.monotonic()
        r = await client.get(path)
        elapsed = time.monotonic() - t0
        client.close()
        return r, stats, elapsed

    return run(go())


def single_error(stats):
    assert stats.total.num_requests == 1
    assert stats.total.num_failures == 1
    (error,) = stats.errors.values()
    return error.error


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused():
    r, stats, _ = one_request(f"http://127.0.0.1:{closed_port()}")
    assert r.status_code == 0
    assert r.error is not None
    assert single_error(stats).startswith("ConnectionRefused: connection refused by 127.0.0.1")


def test_connection_reset_and_dropped():
    with TestServer() as server:
        r, stats, _ = one_request(server.url, "/reset")
        assert single_error(stats).startswith("ConnectionReset")
        r, stats, _ = one_request(server.url, "/drop")
        assert single_error(stats).startswith("ConnectionReset")
        assert r.status_code == 0


def test_malformed_response():
    with TestServer() as server:
        _, stats, _ = one_request(server.url, "/garbage")
        assert single_error(stats).startswith("MalformedResponse")


def test_read_timeout():
    with TestServer() as server:
        _, stats, elapsed = one_request(server.url, "/stall", read_timeout=0.3)
        assert single_error(stats).startswith("ReadTimeout")
        assert 0.3 <= elapsed < 1.0
        _, stats, _ = one_request(server.url, "/slow-body", read_timeout=0.3)
        assert single_error(stats).startswith("ReadTimeout")


def test_total_timeout_while_data_keeps_dripping():
    with TestServer() as server:
        # Every byte comes within the read timeout; only the total timeout can end it.
        _, stats, elapsed = one_request(server.url, "/drip", read_timeout=1.0, timeout=0.5)
        assert single_error(stats).startswith("TotalTimeout")
        assert 0.5 <= elapsed < 1.2


def test_a_short_timeout_after_long_ones_still_fires_on_time():
    # The timeout sweep sleeps until the earliest deadline in flight (a minute's read timeout
    # here); a later request with a shorter total timeout must bring it forward.
    async def go():
        stats = RequestStats()
        client = HttpSession(server.url, recorder=stats)
        await client.get("/")
        t0 = time.monotonic()
        await client.get("/stall", timeout=0.3)
        elapsed = time.monotonic() - t0
        client.close()
        return stats, elapsed

    with TestServer() as server:
        stats, elapsed = run(go())
    assert stats.total.num_requests == 2 and stats.total.num_failures == 1
    (error,) = stats.errors.values()
    assert error.error.startswith("TotalTimeout")
    assert 0.3 <= elapsed < 0.4


def test_connect_timeout_on_a_listener_that_never_accepts():
    # A listening socket with a full backlog: the kernel stops answering SYNs, so the client
    # waits in connect() until its timeout. Fill the backlog first.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        time.sleep(0.1)
        _, stats, elapsed = one_request(f"http://127.0.0.1:{port}", connect_timeout=0.4)
        assert single_error(stats).startswith("ConnectTimeout")
        assert elapsed < 2.0
    finally:
        for s in fillers:
            s.close()
        listener.close()


@pytest.fixture(scope="module")
def tls():
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    with TestServer(ssl_context=server_ctx) as server:
        yield server, ca


def test_tls_verification_fails_on_an_untrusted_certificate(tls):
    server, _ = tls
    _, stats, _ = one_request(server.url)
    assert "TLSError" in single_error(stats)
    assert "certificate" in single_error(stats).lower()


def test_tls_without_verification_works(tls):
    server, _ = tls
    r, stats, _ = one_request(server.url, verify=False)
    assert r.text == "hello"
    assert stats.total.num_failures == 0


def test_tls_with_the_ca_trusted(tls, monkeypatch):
    server, ca = tls
    from horde.http import session as session_module

    context = ssl.create_default_context()
    ca.configure_trust(context)
    monkeypatch.setitem(session_module._ssl_contexts, True, context)
    r, stats, _ = one_request(server.url)
    assert r.text == "hello"
    assert stats.total.num_failures == 0
    assert r.url.startswith("https://")


def test_invalid_urls_are_failures_not_crashes():
    async def go():
        stats = RequestStats()
        client = HttpSession(None, recorder=stats)
        r = await client.get("/relative-without-host")
        r2 = await client.get("ftp://example.invalid/")
        return r, r2, stats

    r, r2, stats = run(go())
    assert r.status_code == 0 and r2.status_code == 0
    assert all(e.error.startswith("InvalidURL") for e in stats.errors.values())


def test_a_request_cancelled_before_it_was_sent_is_not_counted():
    # The server never saw it: counting it would make horde's count exceed the server's.
    import asyncio

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # a full backlog: connect() waits
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        time.sleep(0.1)

        async def go():
            stats = RequestStats()
            client = HttpSession(f"http://127.0.0.1:{port}", recorder=stats)
            request = asyncio.ensure_future(client.get("/"))
            await asyncio.sleep(0.2)
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
            client.close()
            return stats

        stats = run(go())
    finally:
        for s in fillers:
            s.close()
        listener.close()
    assert stats.total.num_requests == 0
