"""The cooperative layer: blocking calls from user greenlets wait on the loop, and the same calls
from anywhere else behave exactly as before.

Each concurrency test runs N users that each wait about D seconds through one library; together
they take about D when the waits are cooperative, and N x D when each one stalls the loop.
"""

from __future__ import annotations

import asyncio
import errno
import http.client
import select
import selectors
import socket
import ssl
import threading
import time
import urllib.request
import xmlrpc.client

import pytest
import requests

from horde import compat
from horde.bridge import run_blocking
from horde.compat import dns, patches
from horde.compat.sockets import CooperativeSocket, OriginalSocket
from tests.compat.bridged import in_users
from tests.compat.servers import silent_tcp, slow_http, slow_xmlrpc

pytestmark = pytest.mark.timeout(60)

USERS = 10
DELAY = 0.3
# Cooperative: about DELAY for all of them. Serialised: USERS x DELAY = 3 s.
COOPERATIVE_LIMIT = DELAY * 3


@pytest.fixture
def installed():
    compat.install()
    yield
    compat.uninstall()


def no_errors(results: list) -> list:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


# time.sleep ------------------------------------------------------------------------------------
def test_time_sleep_in_user_greenlets_lets_the_other_users_run(installed):
    results, elapsed = in_users(lambda i: time.sleep(DELAY), USERS)
    no_errors(results)
    assert DELAY <= elapsed < COOPERATIVE_LIMIT


def test_time_sleep_elsewhere_blocks_its_thread_as_before(installed):
    started = time.perf_counter()
    time.sleep(0.05)
    assert time.perf_counter() - started >= 0.05
    for wrong, error in ((-1, ValueError), ("1", TypeError)):
        with pytest.raises(error):
            time.sleep(wrong)  # outside a greenlet
        (result,), _ = in_users(lambda i, w=wrong: time.sleep(w), 1)
        assert type(result) is error  # the same error inside one


# HTTP libraries --------------------------------------------------------------------------------
def _requests_get(url: str) -> str:
    with requests.Session() as session:
        return session.get(url, timeout=10).text


def _urllib_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _http_client_get(url: str) -> str:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read().decode()
    finally:
        connection.close()


@pytest.mark.parametrize("get", [_requests_get, _urllib_get, _http_client_get])
def test_blocking_http_libraries_let_the_other_users_run(installed, get):
    with slow_http(DELAY) as url:
        results, elapsed = in_users(lambda i: get(url), USERS)
    assert no_errors(results) == [f"slept {DELAY}"] * USERS
    assert elapsed < COOPERATIVE_LIMIT


def test_xmlrpc_client_lets_the_other_users_run(installed):
    with slow_xmlrpc() as url:
        results, elapsed = in_users(lambda i: xmlrpc.client.ServerProxy(url).nap(DELAY), USERS)
    assert no_errors(results) == [DELAY] * USERS
    assert elapsed < COOPERATIVE_LIMIT


def test_https_with_requests_lets_the_other_users_run(installed, tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with slow_http(DELAY, tls=server_context) as url:

        def get(i: int) -> str:
            with requests.Session() as session:
                return session.get(url, verify=str(ca_file), timeout=10).text

        results, elapsed = in_users(get, USERS)
    assert no_errors(results) == [f"slept {DELAY}"] * USERS
    assert elapsed < COOPERATIVE_LIMIT


# Raw sockets -----------------------------------------------------------------------------------
def test_a_server_and_a_client_greenlet_talk_over_raw_sockets(installed):
    """Both ends in user greenlets of one thread: accept, connect, sendall, recv, makefile.
    Any blocking call among them would hang the loop for good (hence the timeouts)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    address = listener.getsockname()

    def serve() -> bytes:
        connection, _ = listener.accept()
        with connection:
            line = connection.makefile("rb").readline()
            connection.sendall(line.upper() * 50_000)  # more than a socket buffer holds
            return line

    def ask() -> bytes:
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"hello\n")
            received = bytearray()
            while len(received) < 6 * 50_000:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            return bytes(received)

    def either(i: int) -> bytes:
        return serve() if i == 0 else ask()

    try:
        results, _ = in_users(either, 2)
    finally:
        listener.close()
    assert no_errors(results) == [b"hello\n", b"HELLO\n" * 50_000]


def test_a_socket_timeout_in_a_user_greenlet_raises_as_before_without_stalling(installed):
    ticks: list[float] = []

    def either(i: int) -> object:
        if i == 0:
            for _ in range(10):
                time.sleep(0.03)
                ticks.append(time.perf_counter())
            return None
        with silent_tcp() as address:
            sock = socket.create_connection(address, timeout=0.3)
            with sock:
                started = time.perf_counter()
                try:
                    sock.recv(10)
                except TimeoutError as exc:
                    return str(exc), round(time.perf_counter() - started, 1), sock.gettimeout()
        return "no timeout"

    results, _ = in_users(either, 2)
    assert results[1] == ("timed out", 0.3, 0.3)
    assert len(ticks) == 10 and ticks[-1] - ticks[0] < 0.5  # the other user went on meanwhile


def test_connection_errors_are_the_same_in_a_user_greenlet():
    with socket.create_server(("127.0.0.1", 0)) as unused:
        address = unused.getsockname()  # closed below: nothing listens there any more
    compat.install()
    try:

        def connect(i: int) -> object:
            sock = socket.socket()
            sock.settimeout(2)
            with sock:
                if i == 0:
                    return sock.connect_ex(address)
                sock.connect(address)
            return None

        results, _ = in_users(connect, 2)
    finally:
        compat.uninstall()
    assert results[0] == errno.ECONNREFUSED
    assert type(results[1]) is ConnectionRefusedError


def test_sockets_used_outside_user_greenlets_behave_as_before(installed):
    with silent_tcp() as address:
        sock = socket.create_connection(address, timeout=0.2)
        assert type(sock) is CooperativeSocket
        with sock:
            with pytest.raises(TimeoutError, match="timed out"):
                sock.recv(1)  # main thread, outside any greenlet
            assert sock.gettimeout() == 0.2 and sock.getblocking()
            # After a user greenlet used it (its descriptor is then non-blocking), a thread
            # still sees the timeout it set, and waits as before.
            in_users(lambda i: sock.settimeout(0.25), 1)
            assert sock.gettimeout() == 0.25 and sock.timeout == 0.25
            outcome: list[object] = []

            def read() -> None:
                try:
                    sock.recv(1)
                except TimeoutError as exc:
                    outcome.append(exc)

            thread = threading.Thread(target=read)
            thread.start()
            thread.join()
            assert str(outcome[0]) == "timed out"


def test_socket_type_checks_hold_for_sockets_made_before_the_patch():
    before = OriginalSocket()
    compat.install()
    try:
        after = socket.socket()
        assert isinstance(before, socket.socket) and isinstance(after, socket.socket)
        assert issubclass(OriginalSocket, socket.socket)
        assert isinstance(after, OriginalSocket)
        after.close()
    finally:
        compat.uninstall()
        before.close()


def test_a_cancelled_user_stops_waiting_and_leaves_the_loop_clean(installed):
    reader, writer = socket.socketpair()

    async def main() -> tuple[bool, bool, bool]:
        # asyncio's own loop here (not uvloop), because its selector can be inspected.
        watched = asyncio.get_running_loop()._selector.get_map  # type: ignore[attr-defined]
        task = asyncio.ensure_future(run_blocking(reader.recv, 1))
        await asyncio.sleep(0.1)
        waiting = reader.fileno() in watched()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return waiting, reader.fileno() in watched(), task.cancelled()

    with reader, writer:
        assert asyncio.run(main()) == (True, False, True)


# select, poll, selectors -------------------------------------------------------------------------
def _wait_with(kind: str, sock: socket.socket, timeout: float) -> bool:
    if kind == "select":
        return bool(select.select([sock], [], [], timeout)[0])
    if kind == "poll":
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(timeout))


@pytest.mark.parametrize("kind", ["select", "poll", "selectors"])
def test_select_poll_and_selectors_wait_on_the_loop(installed, kind):
    pairs = [socket.socketpair() for _ in range(USERS)]

    def user(i: int) -> tuple[bool, bool]:
        reader, writer = pairs[i]
        silent = _wait_with(kind, reader, DELAY)  # nothing to read: times out
        writer.send(b"x")
        return silent, _wait_with(kind, reader, 5)

    try:
        results, elapsed = in_users(user, USERS)
    finally:
        for a, b in pairs:
            a.close()
            b.close()
    assert no_errors(results) == [(False, True)] * USERS
    assert elapsed < COOPERATIVE_LIMIT


# DNS ------------------------------------------------------------------------------------------
def test_name_lookups_in_user_greenlets_run_off_the_loop(installed, monkeypatch):
    real = dns.original_getaddrinfo
    expected = real("localhost", 80, type=socket.SOCK_STREAM)

    resolved_in: list[int] = []

    def slow_resolver(*args, **kwargs):
        resolved_in.append(threading.get_ident())
        time.sleep(DELAY)  # a slow DNS server, in the resolver's thread
        return real(*args, **kwargs)

    monkeypatch.setattr(dns, "original_getaddrinfo", slow_resolver)
    results, elapsed = in_users(
        lambda i: socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM), USERS
    )
    assert no_errors(results) == [expected] * USERS
    assert elapsed < COOPERATIVE_LIMIT
    assert len(resolved_in) == USERS and threading.get_ident() not in resolved_in
    # Numeric addresses need no lookup: answered at once, even by the slow resolver's wrapper.
    started = time.perf_counter()
    assert in_users(lambda i: socket.gethostbyname("127.0.0.1"), 1)[0] == ["127.0.0.1"]
    assert time.perf_counter() - started < DELAY


def test_a_name_lookup_never_makes_the_loop_start_a_thread(installed, monkeypatch):
    # Thread.start waits until the new thread runs: on a busy machine the loop's default
    # executor, starting its threads on the loop, stalled every user for 100 ms and more.
    starters: list[int] = []
    real_start = threading.Thread.start

    def recording_start(thread: threading.Thread) -> None:
        starters.append(threading.get_ident())
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    loop_thread = threading.get_ident()  # in_users runs the loop in this thread
    expected = dns.original_getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
    for _ in range(2):  # a fresh loop each time, as a second run in one process has
        results, _ = in_users(
            lambda i: socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM), USERS
        )
        assert no_errors(results) == [expected] * USERS
    assert loop_thread not in starters


# Installing and removing -------------------------------------------------------------------------
def test_uninstall_puts_back_every_original_object():
    originals = {
        "socket": socket.socket,
        "getaddrinfo": socket.getaddrinfo,
        "sleep": time.sleep,
        "select": select.select,
        "poll": select.poll,
        "sslsocket": ssl.SSLContext.sslsocket_class,
        "epoll select": selectors.EpollSelector.select,
    }
    compat.install()
    assert compat.installed()
    assert socket.socket is not originals["socket"] and time.sleep is not originals["sleep"]
    assert patches.original(time, "sleep") is originals["sleep"]
    compat.uninstall()
    assert not compat.installed()
    now = {
        "socket": socket.socket,
        "getaddrinfo": socket.getaddrinfo,
        "sleep": time.sleep,
        "select": select.select,
        "poll": select.poll,
        "sslsocket": ssl.SSLContext.sslsocket_class,
        "epoll select": selectors.EpollSelector.select,
    }
    assert now == originals
