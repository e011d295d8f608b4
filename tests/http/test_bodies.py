"""Body size cap, bodies read without being kept, streamed bodies, bounded decompression.

Sizes recorded: the decoded length of the content kept (as Locust records len(content)); with
keep_body=False the bytes received; with stream=True the decoded bytes the task read.
"""

import asyncio

import pytest
import uvloop

from horde.bridge import run_blocking
from horde.http import BodyTooLarge, HttpSession
from horde.scenario.client import HttpClient
from horde.stats import RequestStats

from .servers import TestServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server():
    with TestServer() as s:
        yield s


def run(coro):
    return uvloop.run(coro)


def session_for(server, **kwargs):
    stats = RequestStats()
    return HttpSession(server.url, recorder=stats, **kwargs), stats


@pytest.mark.parametrize("path", ["/bytes/5000", "/gzip-bytes/5000", "/chunked-bytes/5000"])
def test_a_body_over_the_cap_is_a_recorded_failure_and_the_next_request_works(server, path):
    async def go():
        client, stats = session_for(server, max_body_size=4000)
        over = await client.get(path)
        under = await client.get(path.replace("5000", "3000"))
        client.close()
        return over, under, stats

    over, under, stats = run(go())
    assert isinstance(over.error, BodyTooLarge)
    assert "4000 B limit (max_body_size)" in str(over.error)
    assert over.content == b""
    assert under.error is None and len(under.content) == 3000
    over_entry = stats.entry("GET", path)
    assert (over_entry.num_requests, over_entry.num_failures) == (1, 1)
    assert over_entry.total_content_length == 0
    assert stats.entry("GET", path.replace("5000", "3000")).total_content_length == 3000


def test_keep_body_false_reads_to_the_end_and_counts_what_arrived(server):
    async def go():
        client, stats = session_for(server, max_body_size=1000)
        plain = await client.get("/bytes/300000", keep_body=False)
        packed = await client.get("/gzip-bytes/300000", keep_body=False)
        again = await client.get("/")  # the connection was read to the end: it is reused
        client.close()
        return plain, packed, again, stats

    plain, packed, again, stats = run(go())
    assert plain.error is None and plain.content == b""
    assert stats.entry("GET", "/bytes/300000").total_content_length == 300_000
    # Not decoded: the compressed size is what is counted.
    assert 0 < stats.entry("GET", "/gzip-bytes/300000").total_content_length < 300_000
    assert packed.error is None
    assert again.text == "hello"
    assert server.state.connections >= 1


@pytest.mark.parametrize(
    "path", ["/bytes/3000000", "/gzip-bytes/3000000", "/chunked-bytes/3000000"]
)
def test_streamed_bodies_in_both_styles(server, path):
    def blocking(client):
        total = 0
        with client.get(path, stream=True) as response:
            for chunk in response.iter_content(chunk_size=65536):
                assert len(chunk) <= 65536
                total += len(chunk)
        return total

    async def asynchronous(client):
        total = 0
        response = await client.get(path, stream=True)
        async for chunk in response.aiter_content():
            total += len(chunk)
        response.close()
        return total

    async def go():
        session, stats = session_for(server, max_body_size=1000)  # no cap on streamed bodies
        client = HttpClient(session)
        results = await asyncio.gather(run_blocking(blocking, client), asynchronous(client))
        after = await client.get("/")
        session.close()
        return results, after, stats

    results, after, stats = run(go())
    assert results == [3_000_000, 3_000_000]
    entry = stats.entry("GET", path)
    assert (entry.num_requests, entry.num_failures) == (2, 0)
    assert entry.total_content_length == 6_000_000  # decoded bytes the tasks read
    assert after.text == "hello"


def test_a_stream_closed_early_is_recorded_once_and_its_connection_dropped(server):
    async def go():
        client, stats = session_for(server)
        response = await client.get("/bytes/3000000", stream=True)
        first = await response._stream.read()
        response.close()
        response.close()
        after = await client.get("/")
        client.close()
        return first, after, stats

    first, after, stats = run(go())
    assert first
    entry = stats.entry("GET", "/bytes/3000000")
    assert (entry.num_requests, entry.num_failures) == (1, 0)
    assert after.text == "hello"


def test_catch_response_with_a_streamed_body(server):
    async def go():
        client, stats = session_for(server)
        with await client.get("/bytes/1000", stream=True, catch_response=True) as response:
            async for _ in response.aiter_content():
                pass
            response.failure("judged after reading")
        client.close()
        return stats

    stats = run(go())
    entry = stats.entry("GET", "/bytes/1000")
    assert (entry.num_requests, entry.num_failures, entry.total_content_length) == (1, 1, 1000)
    (error,) = stats.errors.values()
    assert error.error == "judged after reading"


def test_a_session_closed_with_a_stream_open_records_it(server):
    async def go():
        client, stats = session_for(server)
        await client.get("/bytes/3000000", stream=True)  # never read
        client.close()
        return stats

    stats = run(go())
    assert stats.entry("GET", "/bytes/3000000").num_requests == 1
