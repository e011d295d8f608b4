"""The settings of a run: built once, from the command line, the config file and the
environment (``horde.options``), then read, never changed.

horde's own code reads these typed fields; scenario code reads ``environment.parsed_options``,
an ``argparse.Namespace`` made from them (Locust's name), which also carries the options the
scenario added itself (``events.init_command_line_parser``). Field names are the options' ``dest``
names, so ``--spawn-rate`` is ``spawn_rate`` here and in ``parsed_options``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from horde.scenario.shape import Stage
from horde.thresholds import Threshold

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """One run's settings; the defaults are the command line's."""

    scenario: str
    user_class_names: tuple[str, ...] = ()
    host: str | None = None
    users: int = 1
    spawn_rate: float = 1.0
    run_time: float | None = None  # seconds; None: until Ctrl-C
    headless: bool = False
    csv_prefix: str | None = None
    csv_full_history: bool = False
    json_path: str | None = None
    html_path: str | None = None
    only_summary: bool = False
    tags: tuple[str, ...] | None = None
    exclude_tags: tuple[str, ...] | None = None
    stop_timeout: float = 0.0
    exit_code_on_error: int = 1
    insecure: bool = False
    thresholds: tuple[Threshold, ...] = ()
    abort_on_threshold: bool = False
    loglevel: str = "WARNING"
    config: str | None = None
    # The web UI.
    web_host: str = "127.0.0.1"
    web_port: int = 8089
    web_auth: str | None = None
    web_no_auth: bool = False
    web_allowed_hosts: tuple[str, ...] = ()  # host names besides loopback names and --web-host
    web_token: str | None = None  # scripts' bearer token for the control endpoints
    autostart: bool = False  # with the web UI: start the command line's test at once (Locust's)
    autoquit: float | None = None  # with --autostart: quit this long after the test ends
    # Metrics for monitoring systems (horde.metrics): Prometheus on a port of its own, OTLP.
    metrics_port: int | None = None
    run_id: str | None = None  # None: a new one (horde.metrics.run_info)
    metrics_host: str = "127.0.0.1"
    otel: bool = False
    otel_endpoint: str | None = None
    otel_protocol: str | None = None  # None: OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL
    otel_interval: float | None = None  # seconds; None: OTEL_METRIC_EXPORT_INTERVAL
    # Load models (horde.runner.models).
    arrival_rate: tuple[float, float] | None = None  # (start, end) iterations/s
    max_concurrency: int | None = None
    stages: tuple[str, list[Stage]] | None = None  # (model, stages)
    # The capacity search (horde capacity).
    slo: tuple[Threshold, ...] = ()
    step_time: float | None = None
    settle_time: float | None = None
    growth: float | None = None
    precision: float | None = None
    max_load: float | None = None
    max_steps: int | None = None
    # Distributed runs (horde.distributed.config turns these into a role).
    processes: int | None = None
    master: bool = False
    worker: bool = False
    master_host: str | None = None
    master_port: int | None = None
    master_bind_host: str | None = None
    master_bind_port: int | None = None
    expect_workers: int | None = None
    expect_workers_max_wait: float | None = None
    secret: str | None = None
    no_redistribute: bool = False
    master_timeout: float | None = None
    # The run history and comparisons (horde.history, horde.comparison).
    history: str | None = None  # an SQLite path or a postgresql:// URL; None: .horde/history.db
    no_history: bool = False
    baseline: str | None = None  # compare the run with this saved run at its end
    tolerance: float = 0.05  # the smallest relative change in latency or throughput that matters
    fail_tolerance: float = 0.001  # the same for the failure ratio, as a difference
    # Where the settings came from.
    explicit: frozenset[str] = frozenset()  # names given anywhere, rather than left as defaults
    scenario_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Options the scenario added to the command line, by ``dest``."""
    scenario_actions: tuple[argparse.Action, ...] = ()
    """The same options as the parser defined them (flags, help, type), for the web UI's forms."""

    @classmethod
    def names(cls) -> frozenset[str]:
        """The names of the fields (the options horde knows)."""
        return frozenset(f.name for f in fields(cls))

    def parsed_options(self) -> argparse.Namespace:
        """The settings as scenario code reads them (``environment.parsed_options``): every
        field (sequences as lists, as argparse gives them), then the scenario's own options."""
        values: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("scenario_options", "scenario_actions"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple) and f.name not in ("arrival_rate", "stages"):
                value = list(value)
            elif isinstance(value, frozenset):
                value = set(value)
            values[f.name] = value
        # Locust's names for the same settings, and its defaults for those horde has not got.
        values.update({locust: values[own] for locust, own in LOCUST_NAMES.items()})
        for name, default in LOCUST_DEFAULTS.items():
            values.setdefault(name, default)
        values.update(self.scenario_options)
        return argparse.Namespace(**values)


LOCUST_NAMES = {
    "num_users": "users",
    "locustfile": "scenario",
    "html_file": "html_path",
    "user_classes": "user_class_names",
    "hatch_rate": "spawn_rate",
}
"""``parsed_options`` attributes under Locust's name -> the setting they read."""

LOCUST_DEFAULTS: dict[str, Any] = {
    "web_base_path": "",
    "web_login": False,
    "tls_cert": "",
    "tls_key": "",
    "print_stats": False,
    "reset_stats": False,
    "skip_log_setup": False,
    "logfile": None,
    "equal_weights": False,
    "enable_rebalancing": False,
    "stats_history_enabled": False,
    "profile": None,
    "json": False,
    "json_file": None,
    "list_commands": False,
    "show_task_ratio": False,
}
"""Locust's options that horde has no setting for, with Locust's defaults (scenario code reads
them, e.g. ``environment.parsed_options.web_base_path``)."""
