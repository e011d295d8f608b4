"""Validation of what the start form (or any API client) sends; every error is one sentence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from horde.scenario.shape import parse_stages
from horde.units import (
    parse_duration,
    parse_host,
    parse_rate,
    percent,
    positive_duration,
    positive_float,
)

MAX_USERS = 1_000_000
MAX_SPAWN_RATE = 100_000.0

__all__ = ["SWARM_FIELDS", "FormError", "SwarmRequest", "parse_swarm"]


class FormError(ValueError):
    """Bad input from the form: answered with 400 and this message."""


LOAD_MODELS = ("users", "arrival_rate", "stages", "capacity")
# Every field /swarm reads itself; other fields name the scenario's own options.
SWARM_FIELDS = frozenset(
    {"user_count", "spawn_rate", "host", "run_time", "load_model", "arrival_rate",
     "max_concurrency", "stages", "slo", "capacity_start", "step_time", "settle_time", "growth",
     "precision"}
)  # fmt: skip
# The capacity search's optional fields, read as the command line reads the same flags.
_CAPACITY_CONVERTERS: dict[str, Callable[[Any], float]] = {
    "step_time": positive_duration("step time"),
    "settle_time": parse_duration,
    "growth": positive_float("growth"),
    "precision": percent("precision"),
}


@dataclass(frozen=True)
class SwarmRequest:
    user_count: int
    spawn_rate: float
    host: str | None
    run_time: float | None
    load_model: str = "users"  # users (closed), arrival_rate (open), stages (either)
    arrival_rate: float = 0.0
    max_concurrency: int | None = None
    stages: tuple[str, list[Any]] | None = None  # (model, stages) from parse_stages
    capacity: tuple[list[Any], Any] | None = None  # (SLO thresholds, CapacitySettings)


def parse_swarm(form: Mapping[str, str]) -> SwarmRequest:
    """Locust's /swarm fields (user_count, spawn_rate, host, run_time), plus horde's load models:
    ``load_model=arrival_rate`` with ``arrival_rate`` (and ``max_concurrency``), or
    ``load_model=stages`` with ``stages`` (as ``--stages``). All values are strings."""
    model = (form.get("load_model") or "users").strip()
    if model not in LOAD_MODELS:
        raise FormError(f"load_model must be one of {', '.join(LOAD_MODELS)}, not {model!r}")
    host, run_time = _host_and_run_time(form)
    if model == "arrival_rate":
        raw = (form.get("arrival_rate") or "").strip()
        try:
            rate = parse_rate(raw)
        except ValueError as exc:
            raise FormError(str(exc)) from None
        return SwarmRequest(
            0, 1.0, host, run_time, model, rate, _max_concurrency(form.get("max_concurrency"))
        )
    if model == "stages":
        try:
            stages = parse_stages(form.get("stages") or "")
        except ValueError as exc:
            raise FormError(str(exc)) from None
        concurrency = _max_concurrency(form.get("max_concurrency"))
        return SwarmRequest(0, 1.0, host, run_time, model, 0.0, concurrency, stages)
    if model == "capacity":
        return SwarmRequest(0, 1.0, host, run_time, model, capacity=_capacity(form))
    user_count, spawn_rate = _users_and_rate(form)
    return SwarmRequest(user_count, spawn_rate, host, run_time)


def _capacity(form: Mapping[str, str]) -> tuple[list[Any], Any]:
    """``slo``, ``capacity_start`` (``20/s`` for the open model, ``10`` users for the closed
    one), and optional ``step_time``, ``settle_time``, ``growth``, ``precision``."""
    from horde.runner.capacity import CapacitySettings, parse_slo

    try:
        slo = parse_slo(form.get("slo") or "")
        start_text = (form.get("capacity_start") or "10/s").strip()
        open_model = "/" in start_text
        try:
            start = parse_rate(start_text) if open_model else float(int(start_text))
        except ValueError:
            raise ValueError(
                f"capacity_start must be a rate (e.g. 20/s) or a number of users, "
                f"not {start_text!r}"
            ) from None
        settings = CapacitySettings(
            model="arrival_rate" if open_model else "users", start=start, spawn_rate=100.0
        )
        for name in ("step_time", "settle_time", "growth", "precision"):
            raw = (form.get(name) or "").strip()
            if raw:
                setattr(settings, name, _CAPACITY_CONVERTERS[name](raw))
        settings.check()
    except ValueError as exc:
        raise FormError(str(exc)) from None
    return slo, settings


def _max_concurrency(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise FormError(f"max_concurrency must be a whole number, not {text!r}") from None
    if not 1 <= value <= MAX_USERS:
        raise FormError(f"max_concurrency must be between 1 and {MAX_USERS:,}")
    return value


def _users_and_rate(form: Mapping[str, str]) -> tuple[int, float]:
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
    return user_count, spawn_rate


def _host_and_run_time(form: Mapping[str, str]) -> tuple[str | None, float | None]:
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
    return host, run_time
