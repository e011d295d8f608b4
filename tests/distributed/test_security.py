"""HMAC on every message: right secret passes; wrong secret, tampering and replay do not."""

import pytest

from horde.distributed.security import AuthError, Signer

pytestmark = pytest.mark.timeout(180)


def test_same_secret_verifies():
    frames = Signer("s3cret").sign(b"payload")
    assert Signer("s3cret").verify(frames) == b"payload"


@pytest.mark.parametrize("other", ["wrong", ""])
def test_other_secret_is_refused(other):
    frames = Signer("s3cret").sign(b"payload")
    with pytest.raises(AuthError, match="secret"):
        Signer(other).verify(frames)


def test_tampered_payload_is_refused():
    mac, header, _ = Signer("k").sign(b"stop")
    with pytest.raises(AuthError, match="bad signature"):
        Signer("k").verify([mac, header, b"quit"])


def test_replayed_message_is_refused():
    receiver = Signer("k")
    frames = Signer("k").sign(b"x")
    receiver.verify(frames)
    with pytest.raises(AuthError, match="replayed"):
        receiver.verify(frames)


def test_old_message_is_refused_and_nonces_are_forgotten_after_the_window():
    now = [1000.0]
    sender = Signer("k", clock=lambda: now[0])
    receiver = Signer("k", window=60, clock=lambda: now[0])
    old = sender.sign(b"x")
    receiver.verify(sender.sign(b"y"))
    now[0] += 61
    with pytest.raises(AuthError, match="clocks differ"):
        receiver.verify(old)
    receiver.verify(sender.sign(b"z"))
    assert len(receiver._seen) == 1  # the expired nonce was pruned


def test_malformed_frames_are_refused():
    with pytest.raises(AuthError, match="malformed"):
        Signer("k").verify([b"only one frame"])
