"""Validation of what the start form (or any API client) sends; every error is one sentence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from horde.options import parse_duration, parse_host

MAX_USERS = 1_000_000
MAX_SPAWN_RATE = 100_000.0

__all__ = ["FormError", "SwarmRequest", "parse_swarm"]


class FormError(ValueError):
    """Bad input from the form: answered with 400 and this message."""


@dataclass(frozen=True)
class SwarmRequest:
    user_count: int
    spawn_rate: float
    host: str | None
    run_time: float | None


def parse_swarm(form: Mapping[str, str]) -> SwarmRequest:
    """Locust's /swarm fields: user_count, spawn_rate, host, run_time (all strings)."""
    raw_users = (form.get("user_count") or "").strip()
    try:
        user_count = int(raw_users)
    except ValueError:
        raise FormError(f"user_count must be a whole number, not {raw_users!r}") from None
    if not 0 <= user_count <= MAX_USERS:
        raise FormError(f"user_count must be between 0 and {MAX_USERS:,}")
    raw_rate = (form.get("spawn_rate") or "").strip()
    try:
        spawn_rate = float(raw_rate)
    except ValueError:
        raise FormError(f"spawn_rate must be a number, not {raw_rate!r}") from None
    if not 0 < spawn_rate <= MAX_SPAWN_RATE:
        raise FormError(f"spawn_rate must be greater than 0 and at most {MAX_SPAWN_RATE:,.0f}")
    host = (form.get("host") or "").strip() or None
    if host is not None:
        try:
            host = parse_host(host)
        except ValueError as exc:
            raise FormError(str(exc)) from None
    raw_time = (form.get("run_time") or "").strip()
    run_time = None
    if raw_time:
        try:
            run_time = parse_duration(raw_time)
        except ValueError as exc:
            raise FormError(str(exc)) from None
        if run_time <= 0:
            raise FormError("run_time must be longer than 0 s")
    return SwarmRequest(user_count, spawn_rate, host, run_time)
