"""Messages: every type survives the wire; foreign or malformed bytes are refused cleanly."""

import msgpack
import pytest

from horde.distributed.protocol import (
    PROTOCOL_VERSION,
    Bye,
    DecodeError,
    Heartbeat,
    Hello,
    Quit,
    Refused,
    Report,
    Spawn,
    Stop,
    Welcome,
    decode,
    encode,
)

pytestmark = pytest.mark.timeout(180)

MESSAGES = [
    Hello("w1", "host-a", 123, "0.1.0", "ab" * 32, ["Visitor", "Admin"]),
    Welcome(3, {"host": "http://127.0.0.1:8000", "stop_timeout": 1.5, "options": {"x": [1, 2]}}),
    Refused("its scenario file differs"),
    Spawn({"Visitor": 7, "Admin": 1}, 2.5, "run1"),
    Stop(),
    Quit(),
    Heartbeat("running"),
    Report("running", 8, {"Visitor": 7, "Admin": 1}, 12.5, {"entries": [1, 2]}, True, 42),
    Report("ready", 0, {}, 0.0),
    Bye("interrupted (Ctrl-C)"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.TYPE)
def test_every_message_round_trips(message):
    assert decode(encode(message)) == message


def test_this_build_says_its_protocol_and_an_older_peer_decodes_as_protocol_1():
    hello = Hello("w1", "host-a", 123, "0.1.0", "ab" * 32, ["Visitor"])
    assert decode(encode(hello)).protocol == PROTOCOL_VERSION == 2
    assert decode(encode(Welcome(0))).protocol == PROTOCOL_VERSION
    # What a protocol-1 build sends: no "protocol" field at all.
    old_hello = msgpack.packb(
        ["hello", {"worker_id": "w1", "host": "h", "pid": 1, "version": "0.1.0",
                   "scenario_digest": "ab" * 32, "user_classes": ["Visitor"]}]
    )  # fmt: skip
    assert decode(old_hello).protocol == 1
    assert decode(msgpack.packb(["welcome", {"worker_index": 4}])) == Welcome(4, {}, 1)


def test_unknown_fields_are_ignored_so_newer_peers_can_still_be_refused_politely():
    data = msgpack.packb(["refused", {"reason": "old", "extra": 1}])
    assert decode(data) == Refused("old")


@pytest.mark.parametrize(
    "data",
    [
        b"\xc1garbage",
        msgpack.packb(["nope", {}]),
        msgpack.packb(["spawn", {"spawn_rate": 1.0}]),  # a required field is missing
        msgpack.packb(["stop", [1, 2]]),
        msgpack.packb(42),
    ],
)
def test_foreign_bytes_raise_decode_error(data):
    with pytest.raises(DecodeError):
        decode(data)


def test_encoding_is_compact():
    assert len(encode(Heartbeat("running"))) < 32
