"""Locust's exception classes that horde has no use for itself, so that locustfiles can still
raise and catch them (horde's own StopUser, StopTest, InterruptTaskSet and RescheduleTask are
aliased as they are)."""

from __future__ import annotations

__all__ = [
    "LocustBadStatusCode",
    "LocustError",
    "MissingWaitTimeError",
    "RPCError",
    "RPCReceiveError",
    "RPCSendError",
    "ResponseError",
]


class LocustError(Exception):
    pass


class ResponseError(Exception):
    pass


class MissingWaitTimeError(LocustError):
    pass


class RPCError(Exception):
    """A master/worker communication failure (horde's distributed runs have their own)."""


class RPCSendError(Exception):
    pass


class RPCReceiveError(Exception):
    def __init__(self, *args: object, addr: str | None = None) -> None:
        super().__init__(*args)
        self.addr = addr


class LocustBadStatusCode(Exception):
    """Locust's FastHttpSession error for an unexpected status code."""

    def __init__(self, code: int) -> None:
        super().__init__()
        self.code = code

    def __str__(self) -> str:
        return f"Bad status code: {self.code}"
