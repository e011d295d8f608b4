"""The parser fed raw bytes, without sockets: framings split anywhere, truncation, garbage."""

import gzip

import pytest

from horde.http.errors import MalformedResponse
from horde.http.protocol import ResponseParser

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\n\r\n"
    b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
)
GZIPPED = gzip.compress(b"body")
LENGTH = b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\nContent-Encoding: gzip\r\n\r\n%s" % (
    len(GZIPPED),
    GZIPPED,
)


@pytest.mark.parametrize("raw", [CHUNKED, LENGTH])
def test_split_at_every_byte_boundary(raw):
    for cut in range(1, len(raw)):
        parser = ResponseParser()
        assert not parser.feed(raw[:cut]) or cut == len(raw)
        assert parser.feed(raw[cut:])
        body = b"".join(parser.body)
        assert body in (b"hello, world", b"body")
        assert parser.keep_alive


def test_flags_spotted_while_parsing():
    parser = ResponseParser()
    parser.feed(CHUNKED)
    assert parser.set_cookie and parser.encoding is None
    parser = ResponseParser()
    parser.feed(LENGTH)
    assert parser.status == 201 and parser.encoding == b"gzip"


def test_two_responses_back_to_back_on_one_stream():
    parser = ResponseParser()
    assert parser.feed(LENGTH)
    parser.reset()
    assert parser.feed(CHUNKED)
    assert parser.status == 200


def test_interim_100_continue_is_skipped():
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 100 Continue\r\n\r\n" + LENGTH)
    assert parser.status == 201


def test_truncated_body_is_not_complete_and_close_does_not_complete_it():
    parser = ResponseParser()
    assert not parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert not parser.finish_on_close()  # a declared length that never came: not complete


def test_close_delimited_body_completes_on_close():
    parser = ResponseParser()
    assert not parser.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
    assert parser.finish_on_close()
    assert b"".join(parser.body) == b"all of it"
    assert not parser.keep_alive


def test_head_response_completes_on_headers():
    parser = ResponseParser()
    parser.head_only = True
    assert parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
    assert parser.body == []


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    ],
)
def test_malformed(raw):
    with pytest.raises(MalformedResponse):
        ResponseParser().feed(raw)
