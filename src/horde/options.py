"""Command-line options, with defaults from ``horde.toml``, ``[tool.horde]`` and ``HORDE_*``,
turned into the run's ``Settings`` once.

Precedence, lowest first: built-in defaults (``Settings``' own), the config file, environment
variables, the command line. Values from every source go through the same converters, so a bad
value in a config file gets the same one-sentence error as a bad flag. Flag names are Locust's
where Locust has them. This module sits just below the CLI: nothing else parses options.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from horde.distributed.config import LOCAL_WORKER_ENV, parse_processes
from horde.exceptions import ScenarioError
from horde.scenario.shape import Stage, parse_stages
from horde.settings import Settings
from horde.thresholds import Threshold, parse_threshold
from horde.units import (
    names,
    non_negative_int,
    parse_duration,
    parse_host,
    parse_rate,
    percent,
    port,
    positive_duration,
    positive_float,
    positive_int,
)

__all__ = [
    "add_tolerance_arguments",
    "build_parser",
    "configured",
    "parse_run_options",
]


def _typed(convert: Callable[[Any], Any]) -> Callable[[str], Any]:
    """Wrap a converter so argparse reports its sentence instead of a generic message."""

    def run(value: str) -> Any:
        try:
            return convert(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    run.__name__ = getattr(convert, "__name__", "value")
    return run


def _thresholds(value: Any) -> list[Threshold]:
    """A list from a config file, or one string from the environment (separated by ';')."""
    items = value.split(";") if isinstance(value, str) else list(value)
    return [item if not isinstance(item, str) else parse_threshold(item) for item in items if item]


def _arrival_rate(value: Any) -> tuple[float, float]:
    """``500/s`` (constant) or ``10/s..500/s`` (a ramp over the run time): (start, end)."""
    text = str(value)
    if ".." in text:
        first, _, last = text.partition("..")
        return parse_rate(first), parse_rate(last)
    rate = parse_rate(text)
    return rate, rate


def _stages(value: Any) -> tuple[str, list[Stage]]:
    return parse_stages(str(value))


def _otel_protocol(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in ("grpc", "http/protobuf"):
        raise ValueError(f"invalid OTLP protocol {value!r}: use http/protobuf or grpc")
    return text


def _slo(value: Any) -> list[Threshold]:
    """Thresholds from ``'p95<300ms,fail_ratio<1%'`` (or a list, from a config file)."""
    from horde.runner.capacity import parse_slo  # only horde capacity has --slo

    if isinstance(value, list):
        return [t for item in value for t in (item if isinstance(item, list) else _slo(item))]
    return parse_slo(str(value))


# name -> converter, for values that come from config files and the environment.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "host": parse_host,
    "users": non_negative_int("user count"),
    "spawn_rate": positive_float("spawn rate"),
    "run_time": parse_duration,
    "stop_timeout": parse_duration,
    "exit_code_on_error": non_negative_int("exit code"),
    "web_port": port("web port", listening=True),
    "autoquit": parse_duration,
    "thresholds": _thresholds,
    # Load models (horde.runner.arrival_rate, horde.runner.shapes).
    "arrival_rate": _arrival_rate,
    "max_concurrency": positive_int("max concurrency"),
    "stages": _stages,
    # Capacity search (horde capacity).
    "slo": _slo,
    "step_time": positive_duration("step time"),
    "settle_time": parse_duration,
    "growth": positive_float("growth"),
    "precision": percent("precision"),
    "max_load": positive_float("max load"),
    "max_steps": positive_int("max steps"),
    # Distributed runs (horde.distributed; Locust's flag names).
    "processes": parse_processes,
    "master_port": port("master port", listening=False),
    "master_bind_port": port("master bind port", listening=True),
    "expect_workers": non_negative_int("worker count"),
    "expect_workers_max_wait": parse_duration,
    "master_timeout": positive_float("master timeout"),
    # The run history and comparisons (docs/comparing-runs.md).
    "tolerance": percent("tolerance"),
    "fail_tolerance": percent("failure tolerance"),
    # Metrics for monitoring systems (horde.metrics; docs/metrics.md).
    "metrics_port": port("metrics port", listening=True),
    "otel_interval": positive_duration("OTLP export interval"),
    "otel_protocol": _otel_protocol,
}
FLAGS = {"headless", "csv_full_history", "only_summary", "insecure", "web_no_auth", "autostart"}
FLAGS |= {"abort_on_threshold"}
FLAGS |= {"master", "worker", "no_redistribute"}
FLAGS |= {"no_history"}


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """Where runs are saved, and the comparison with a saved run (docs/comparing-runs.md)."""
    group = parser.add_argument_group("run history and comparison (see 'horde history')")
    group.add_argument(
        "--history",
        metavar="PATH|URL",
        help="where runs are saved: an SQLite file (default .horde/history.db here) or a "
        "postgresql:// URL (needs horde[postgres])",
    )
    group.add_argument(
        "--no-history", action="store_true", default=None, help="do not save this run"
    )
    group.add_argument(
        "--baseline",
        metavar="REF",
        help="compare this run with a saved one at the end (a run id, a tag, 'last' or "
        "'last~N' of this scenario and host); exit code 1 when it regressed",
    )
    add_tolerance_arguments(group)


def add_tolerance_arguments(group: Any) -> None:
    """--tolerance and --fail-tolerance (horde run --baseline, and horde compare)."""
    group.add_argument(
        "--tolerance",
        type=_typed(CONVERTERS["tolerance"]),
        metavar="PERCENT",
        help="the smallest change in latency or throughput that matters (default 5%%): a "
        "smaller one is 'unchanged' even when measurable",
    )
    group.add_argument(
        "--fail-tolerance",
        type=_typed(CONVERTERS["fail_tolerance"]),
        metavar="PERCENT",
        help="the same for the failure ratio, in percentage points (default 0.1%%)",
    )


FLAGS |= {"otel"}


def _add_metrics_arguments(parser: argparse.ArgumentParser) -> None:
    """Prometheus and OpenTelemetry (see docs/metrics.md)."""
    group = parser.add_argument_group("metrics for Prometheus and OpenTelemetry")
    group.add_argument(
        "--metrics-port",
        type=_typed(CONVERTERS["metrics_port"]),
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (headless runs and masters; "
        "the web UI serves /metrics on its own port too; 0: any free port)",
    )
    group.add_argument(
        "--metrics-host",
        metavar="ADDRESS",
        help="address of --metrics-port (default 127.0.0.1; 0.0.0.0 for a Prometheus scraping "
        "the pod: it needs no password, nothing there can change the run)",
    )
    group.add_argument(
        "--run-id",
        metavar="ID",
        help="this run's id in the metrics (horde_run_info, OTLP's horde.run.id; default: a "
        "new random one), e.g. a CI job's id",
    )
    group.add_argument(
        "--otel",
        action="store_true",
        default=None,
        help="export the metrics over OTLP through the OpenTelemetry SDK (pip install "
        "'horde[otel]'); endpoint, headers and resource from the OTEL_* variables",
    )
    group.add_argument(
        "--otel-endpoint",
        metavar="URL",
        help="OTLP endpoint (default: OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT, else localhost's "
        "4318 for HTTP, 4317 for gRPC)",
    )
    group.add_argument(
        "--otel-protocol",
        type=_typed(CONVERTERS["otel_protocol"]),
        metavar="PROTOCOL",
        help="http/protobuf or grpc (default: OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL, else "
        "http/protobuf)",
    )
    group.add_argument(
        "--otel-interval",
        type=_typed(CONVERTERS["otel_interval"]),
        metavar="SECONDS",
        help="seconds between exports (default: OTEL_METRIC_EXPORT_INTERVAL, else 10 s), and "
        "one more at the end of the run",
    )


def _add_distributed_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of distributed runs (see docs/distributed.md)."""
    group = parser.add_argument_group("distributed runs (several processes or machines)")
    group.add_argument(
        "--processes",
        type=_typed(CONVERTERS["processes"]),
        metavar="N|auto",
        help="run N worker processes on this machine under one master ('auto': one per core)",
    )
    group.add_argument(
        "--master", action="store_true", default=None, help="be the master of remote workers"
    )
    group.add_argument(
        "--worker", action="store_true", default=None, help="be a worker of a master"
    )
    group.add_argument(
        "--master-host",
        metavar="ADDRESS",
        help="worker: host name or IP address of the master (default 127.0.0.1)",
    )
    group.add_argument(
        "--master-port",
        type=_typed(CONVERTERS["master_port"]),
        metavar="PORT",
        help="worker: TCP port of the master (default 5557)",
    )
    group.add_argument(
        "--master-bind-host",
        metavar="ADDRESS",
        help="master: address to listen on (default: all with --secret, else 127.0.0.1)",
    )
    group.add_argument(
        "--master-bind-port",
        type=_typed(CONVERTERS["master_bind_port"]),
        metavar="PORT",
        help="master: TCP port to listen on (default 5557)",
    )
    group.add_argument(
        "--expect-workers",
        type=_typed(CONVERTERS["expect_workers"]),
        metavar="WORKERS",
        help="master: wait for this many workers before starting (default 1)",
    )
    group.add_argument(
        "--expect-workers-max-wait",
        type=_typed(parse_duration),
        metavar="SECONDS",
        help="master: give up waiting for workers after this long, e.g. 30s, 2m "
        "(default: wait forever)",
    )
    group.add_argument(
        "--secret",
        metavar="SECRET",
        help="secret shared by master and workers (better: HORDE_SECRET in the environment)",
    )
    group.add_argument(
        "--no-redistribute",
        action="store_true",
        default=None,
        help="master: do not give a missing worker's users to the others",
    )
    group.add_argument(
        "--master-timeout",
        type=_typed(CONVERTERS["master_timeout"]),
        metavar="SECONDS",
        help="worker: stop and exit after this many seconds without the master (default 10)",
    )


# Locust's keywords of add_argument (its parser is configargparse's, extended): the value of an
# environment variable as the default, and how the web UI's form shows the option.
LOCUST_ARGUMENT_KEYWORDS = ("include_in_web_ui", "is_secret", "is_required", "is_multiple")


class _LocustArguments:
    """``add_argument`` as Locust's parser takes it, for scenarios' own options:
    ``env_var="MY_VAR"`` (the variable's value is the default; the command line wins),
    ``include_in_web_ui``, ``is_secret``, ``is_required``, ``is_multiple`` (read by the web
    UI's form: ``horde.web.scenario_options``)."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        env_var = kwargs.pop("env_var", None)
        marks = {name: kwargs.pop(name) for name in LOCUST_ARGUMENT_KEYWORDS if name in kwargs}
        action: argparse.Action = super().add_argument(*args, **kwargs)  # type: ignore[misc]
        for name, value in marks.items():
            setattr(action, name, value)
        if env_var:
            action.env_var = env_var  # type: ignore[attr-defined]  # read by _env_var_defaults
        return action


class _Group(_LocustArguments, argparse._ArgumentGroup):
    pass


# Locust's flags that horde does not take, and what to do instead (said instead of argparse's
# "unrecognized arguments").
LOCUST_FLAGS = {
    "--web-login": "horde's web UI has no login page: guard it with --web-auth USER:PASSWORD",
    "--tls-cert": "horde's web UI is served over HTTP: put a proxy that terminates TLS in front",
    "--tls-key": "horde's web UI is served over HTTP: put a proxy that terminates TLS in front",
    "--web-base-path": "horde's web UI is served at /: a proxy can serve it under a path",
    "--web-host-display-name": "horde's web UI shows the address it listens on",
    "--class-picker": "name the user classes to run after the file (horde run FILE A B)",
    "--config-users": "give user classes' settings in the locustfile",
    "--legacy-ui": "horde's web UI is its own; there is one",
    "--headful": "without --headless, horde runs with its web UI",
    "--logfile": "horde logs to stderr: redirect it (2> FILE)",
    "--skip-log-setup": "horde sets up its logging itself (-L/--loglevel)",
    "--print-stats": "horde prints its live table unless --only-summary is given",
    "--reset-stats": "the web UI's 'Reset stats' resets them during a test",
    "--json-file": "use --json PATH (horde's JSON results)",
    "--equal-weights": "set weight = 1 on the user classes",
    "--enable-rebalancing": "horde gives a lost worker's users to the others already",
    "--profile": "horde has no profiles: use horde.toml or [tool.horde] in pyproject.toml",
    "--list": "the user classes are those of the file; name some after it to run only them",
    "--show-task-ratio": "the web UI's task ratios show it",
    "--show-task-ratio-json": "the web UI's /tasks gives it as JSON",
    "--build-path": "horde's web UI is its own",
    "--expect-slaves": "use --expect-workers",
    "--slave": "use --worker",
}


class _Parser(_LocustArguments, argparse.ArgumentParser):
    """argparse that raises instead of exiting, so the CLI prints one sentence and exits 2."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            for flag in message.removeprefix("unrecognized arguments: ").split():
                name = flag.split("=")[0]
                if name in LOCUST_FLAGS:
                    raise ScenarioError(
                        f"Locust's {name} is not one of horde's options: {LOCUST_FLAGS[name]}"
                    )
        raise ScenarioError(message)

    def add_argument_group(self, *args: Any, **kwargs: Any) -> argparse._ArgumentGroup:
        group = _Group(self, *args, **kwargs)
        self._action_groups.append(group)
        return group


def _env_var_defaults(parser: argparse.ArgumentParser, environ: dict[str, str]) -> None:
    """Options added with Locust's ``env_var=``: the variable's value becomes the default,
    converted as the command line would convert it."""
    for action in parser._actions:
        name = getattr(action, "env_var", None)
        if not name or name not in environ:
            continue
        raw = environ[name]
        if action.nargs == 0:  # a flag
            action.default = raw.strip().lower() in ("1", "true", "yes", "on")
            continue
        try:
            action.default = action.type(raw) if callable(action.type) else raw
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            raise ScenarioError(f"invalid value {raw!r} for {name}: {exc}") from None


def build_parser(capacity: bool = False) -> argparse.ArgumentParser:
    """The parser of ``horde run`` (or of ``horde capacity``, which adds the search's flags)."""
    parser = _Parser(
        prog="horde capacity" if capacity else "horde run",
        description="Find the most load the target takes within its SLO."
        if capacity
        else "Run a load test described by a scenario file.",
        epilog="Settings can also come from horde.toml, [tool.horde] in pyproject.toml, "
        "and HORDE_* environment variables (e.g. HORDE_USERS=50).",
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="SCENARIO_OR_USERCLASS",
        help="the scenario file (.py), then optionally user class names to run",
    )
    parser.add_argument(
        "-f",
        "--scenario",
        "--locustfile",
        dest="scenario",
        metavar="FILE",
        help="scenario file, instead of the first positional (Locust's -f)",
    )
    parser.add_argument(
        "-H",
        "--host",
        type=_typed(parse_host),
        metavar="URL",
        help="base URL of the target, e.g. http://127.0.0.1:8000",
    )
    parser.add_argument(
        "-u",
        "--users",
        "-c",
        "--clients",
        dest="users",
        type=_typed(CONVERTERS["users"]),
        metavar="USERS",
        help="peak number of simulated users (default 1; -c/--clients: Locust 0.x's name)",
    )
    parser.add_argument(
        "-r",
        "--spawn-rate",
        "--hatch-rate",
        dest="spawn_rate",
        type=_typed(CONVERTERS["spawn_rate"]),
        metavar="USERS_PER_SECOND",
        help="users started per second while ramping (default 1; --hatch-rate: Locust 0.x's)",
    )
    parser.add_argument(
        "-t",
        "--run-time",
        type=_typed(parse_duration),
        metavar="DURATION",
        help="stop after this long, e.g. 30s, 5m, 1h30m; a bare number is seconds "
        "(default: until Ctrl-C)",
    )
    parser.add_argument(
        "--headless",
        "--no-web",
        dest="headless",
        action="store_true",
        default=None,
        help="no web UI: start at once and print stats to the console (--no-web: Locust 0.x's)",
    )
    parser.add_argument(
        "--csv",
        dest="csv_prefix",
        metavar="PREFIX",
        help="write PREFIX_stats.csv, _stats_history.csv, _failures.csv, _exceptions.csv",
    )
    parser.add_argument(
        "--csv-full-history",
        action="store_true",
        default=None,
        help="also write per-name rows in the stats history CSV",
    )
    parser.add_argument(
        "--json", dest="json_path", metavar="PATH", help="write the results as one JSON document"
    )
    parser.add_argument(
        "--only-summary",
        action="store_true",
        default=None,
        help="print only the final summary, not the live table",
    )
    parser.add_argument(
        "-T", "--tags", nargs="*", metavar="TAG", help="run only tasks with any of these tags"
    )
    parser.add_argument(
        "-E",
        "--exclude-tags",
        nargs="*",
        metavar="TAG",
        help="do not run tasks with any of these tags",
    )
    parser.add_argument(
        "--stop-timeout",
        type=_typed(CONVERTERS["stop_timeout"]),
        metavar="SECONDS",
        help="time users get to finish their current task when stopping, e.g. 10 or 30s "
        "(default 0: stop at their next request)",
    )
    parser.add_argument(
        "--exit-code-on-error",
        type=_typed(CONVERTERS["exit_code_on_error"]),
        metavar="CODE",
        help="exit code when the run had failures or exceptions (default 1)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="do not verify TLS certificates of the target",
    )
    parser.add_argument(
        "--threshold",
        dest="thresholds",
        action="append",
        type=_typed(parse_threshold),
        metavar="RULE",
        help="pass/fail rule checked at the end, e.g. 'p95<300ms', 'fail_ratio<1%%', "
        "'GET /pages/:p99<800ms' (repeatable; exit code 1 when one fails)",
    )
    parser.add_argument(
        "--abort-on-threshold",
        action="store_true",
        default=None,
        help="end the run early when a threshold is clearly broken (can no longer pass, or "
        "fails by 2x after 100 requests and 10 s)",
    )
    parser.add_argument(
        "--html",
        dest="html_path",
        metavar="PATH",
        help="write a self-contained HTML report (opens offline)",
    )
    parser.add_argument(
        "--web-host",
        metavar="ADDRESS",
        help="address the web UI listens on (default 127.0.0.1)",
    )
    parser.add_argument(
        "--web-port",
        type=_typed(CONVERTERS["web_port"]),
        metavar="PORT",
        help="TCP port of the web UI (default 8089; 0: a free one)",
    )
    parser.add_argument(
        "--web-auth",
        metavar="USER:PASSWORD",
        help="require HTTP basic auth for the web UI (needed off loopback)",
    )
    parser.add_argument(
        "--web-no-auth",
        action="store_true",
        default=None,
        help="allow a non-loopback --web-host without --web-auth (not advised)",
    )
    parser.add_argument(
        "--web-allowed-host",
        dest="web_allowed_hosts",
        action="append",
        metavar="NAME",
        help="a host name the web UI answers to besides loopback names, IP addresses and "
        "--web-host (repeatable; '*' turns the DNS-rebinding check off)",
    )
    parser.add_argument(
        "--web-token",
        metavar="TOKEN",
        help="let scripts control the web UI with this token ('Authorization: Bearer TOKEN'); "
        "without it, only token-less scripts on loopback can (better: HORDE_WEB_TOKEN)",
    )
    parser.add_argument(
        "--autostart",
        action="store_true",
        default=None,
        help="with the web UI: start the test of -u/-r/-t (or the load shape) at once",
    )
    parser.add_argument(
        "--autoquit",
        type=_typed(CONVERTERS["autoquit"]),
        metavar="SECONDS",
        help="with --autostart: quit this long after the test ends (default: keep the UI up)",
    )
    parser.add_argument(
        "-L", "--loglevel", metavar="LEVEL", help="DEBUG, INFO, WARNING (default) or ERROR"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: horde.toml, else [tool.horde] in pyproject.toml)",
    )
    _add_load_model_arguments(parser)
    if capacity:
        _add_capacity_arguments(parser)
    _add_distributed_arguments(parser)
    add_history_arguments(parser)
    _add_metrics_arguments(parser)
    return parser


def _add_capacity_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``horde capacity`` (see horde.runner.capacity for the search itself)."""
    group = parser.add_argument_group(
        "capacity search (start load: --arrival-rate RATE, or -u USERS for the closed model)"
    )
    group.add_argument(
        "--slo",
        action="append",
        type=_typed(CONVERTERS["slo"]),
        metavar="RULES",
        help="what the target must meet at each step, e.g. 'p95<300ms,fail_ratio<1%%' (required)",
    )
    group.add_argument(
        "--step-time",
        type=_typed(CONVERTERS["step_time"]),
        metavar="DURATION",
        help="how long each step is measured, e.g. 20s (default 20s)",
    )
    group.add_argument(
        "--settle-time",
        type=_typed(CONVERTERS["settle_time"]),
        metavar="DURATION",
        help="how long each step runs before it is measured, e.g. 5s (default 5s)",
    )
    group.add_argument(
        "--growth",
        type=_typed(CONVERTERS["growth"]),
        metavar="FACTOR",
        help="load multiplier between steps while the SLO holds (default 1.5)",
    )
    group.add_argument(
        "--precision",
        type=_typed(CONVERTERS["precision"]),
        metavar="PERCENT",
        help="stop refining when the passing and failing loads are this close, e.g. 5%% "
        "(default 5%%)",
    )
    group.add_argument(
        "--max-load",
        type=_typed(CONVERTERS["max_load"]),
        metavar="LOAD",
        help="never go above this load (iterations per second, or users with -u)",
    )
    group.add_argument(
        "--max-steps",
        type=_typed(CONVERTERS["max_steps"]),
        metavar="STEPS",
        help="stop after this many steps (default 20)",
    )


def _add_load_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the open model and of load that changes over time (see docs/load-models.md)."""
    group = parser.add_argument_group("load models (default: -u users, closed model)")
    group.add_argument(
        "--arrival-rate",
        type=_typed(CONVERTERS["arrival_rate"]),
        metavar="RATE",
        help="open model: start RATE task iterations per second whatever the response times "
        "(e.g. 500/s, 3000/m); START..END ramps over the run time (e.g. 10/s..500/s)",
    )
    group.add_argument(
        "--max-concurrency",
        type=_typed(CONVERTERS["max_concurrency"]),
        metavar="ITERATIONS",
        help="open model: at most this many iterations in flight; later ones wait and count "
        "as late (default: 10 s of arrivals, at least 100)",
    )
    group.add_argument(
        "--stages",
        type=_typed(CONVERTERS["stages"]),
        metavar="PLAN",
        help="ramp through targets: DURATION:USERS,... e.g. '30s:100,1m:100,30s:0'; with "
        "rates ('30s:50/s,2m:50/s') in the open model; the run ends after the last stage",
    )


def _config_file(explicit: str | None) -> tuple[str, dict[str, Any]]:
    """The config file's name and its settings as written (keys not yet resolved)."""
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ScenarioError(f"config file not found: {explicit}")
    else:
        path = Path("horde.toml")
        if not path.exists():
            path = Path("pyproject.toml")
            if not path.exists():
                return "", {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"cannot read config file {path}: {exc}") from None
    if path.name == "pyproject.toml":
        return f"[tool.horde] in {path}", data.get("tool", {}).get("horde", {})
    return str(path), data


ENV_PREFIX = "HORDE_"
# HORDE_* variables that horde reads although they are not settings, so that they are not taken
# for misspelt ones. HORDE_SECRET is the setting --secret, read by horde.distributed.config (it is
# kept out of the Settings so that it is not echoed with them).
ENVIRONMENT_ONLY = {LOCAL_WORKER_ENV: "set by horde in the worker processes of --processes"}
_TRUE = ("1", "true", "yes", "on")
# What the kubelet sets in every pod for each Service of its namespace (service links): for a
# Service named horde-master, HORDE_MASTER_SERVICE_HOST, HORDE_MASTER_PORT_5557_TCP and the like.
_SERVICE_LINK = re.compile(
    r"^[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT_\d+_(TCP|UDP|SCTP)(_[A-Z]+)?)$"
)


def setting_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Every name a setting may have in a config file or after ``HORDE_``: its ``dest`` and each
    long flag without its dashes (``spawn_rate``, ``hatch_rate``; ``csv`` for ``csv_prefix``),
    mapped to the ``dest``. Keys are written with ``_``; ``-`` is read as ``_``."""
    spellings: dict[str, str] = {}
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        spellings[action.dest] = action.dest
        for flag in action.option_strings:
            if flag.startswith("--"):
                spellings[flag[2:].replace("-", "_")] = action.dest
    spellings["f"] = "scenario"  # Locust's short flag, as some config files spell it
    return spellings


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def _config_settings(raw: dict[str, Any], where: str, spellings: dict[str, str]) -> dict[str, Any]:
    """The config file's settings by ``dest``; an unknown key is a mistake, named (exit 2)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in spellings:
            guess = _closest(name, spellings)
            if guess is not None:
                spelt = guess.replace("_", "-") if "-" in str(key) else guess
                hint = f": did you mean '{spelt}'?"
            else:
                hint = " (settings are named as the long flags of 'horde run --help')"
            raise ScenarioError(f"unknown setting '{key}' in {where}{hint}")
        out[spellings[name]] = value
    return out


def _env_settings(environ: Mapping[str, str], spellings: dict[str, str]) -> dict[str, Any]:
    """``HORDE_*`` variables by ``dest``; a misspelt one is a mistake, named (exit 2)."""
    out: dict[str, Any] = {}
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable in ENVIRONMENT_ONLY:
            continue
        name = variable[len(ENV_PREFIX) :].lower()
        if name not in spellings and _SERVICE_LINK.match(variable):
            service = variable.split("_SERVICE_")[0].split("_PORT_")[0].lower().replace("_", "-")
            raise ScenarioError(
                f"unknown variable {variable} in the environment: Kubernetes sets it for the "
                f"Service {service}, and horde reads HORDE_ variables as its settings; set "
                "enableServiceLinks: false in the pod's spec"
            )
        if name not in spellings:
            known = [n for n in spellings if n != "f"]
            known += [v[len(ENV_PREFIX) :].lower() for v in ENVIRONMENT_ONLY]
            guess = _closest(name, known)  # without the prefix, which every candidate shares
            hint = (
                f": did you mean {ENV_PREFIX}{guess.upper()}?"
                if guess is not None
                else " (HORDE_ variables are named after the long flags of 'horde run --help')"
            )
            raise ScenarioError(f"unknown variable {variable} in the environment{hint}")
        if variable != "HORDE_SECRET":  # read where it is used, by horde.distributed.config
            out[spellings[name]] = value
    return out


def _convert(settings: dict[str, Any], source: str) -> dict[str, Any]:
    """horde's own settings from a config file or the environment, through the flags' converters
    (so a bad value is the same sentence from every source)."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key == "config":
            continue
        if key in CONVERTERS:
            try:
                value = CONVERTERS[key](value)
            except ValueError as exc:
                raise ScenarioError(f"{exc} (from {source})") from None
        elif key in FLAGS and isinstance(value, str):
            value = value.strip().lower() in _TRUE
        elif key in ("tags", "exclude_tags") and isinstance(value, str):
            value = value.split()
        out[key] = value
    return out


def _scenario_default(action: argparse.Action, value: Any, source: str) -> Any:
    """A scenario option's value from a config file or the environment, as its flag would give
    it: through the option's own ``type``, booleans for flags without a value."""
    if action.nargs == 0:
        return value.strip().lower() in _TRUE if isinstance(value, str) else bool(value)
    if isinstance(value, str) and action.nargs in ("*", "+"):
        value = value.split()
    convert = action.type if callable(action.type) else None
    try:
        if convert is not None and isinstance(value, str):
            value = convert(value)
        elif convert is not None and isinstance(value, list):
            value = [convert(v) if isinstance(v, str) else v for v in value]
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        flag = action.option_strings[-1]
        raise ScenarioError(f"invalid value {value!r} for {flag} (from {source}): {exc}") from None
    if action.choices is not None and value not in action.choices:
        flag = action.option_strings[-1]
        choices = ", ".join(map(str, action.choices))
        raise ScenarioError(f"invalid value {value!r} for {flag} (from {source}): use {choices}")
    return value


def configured(
    names: set[str], config: str | None = None, environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """These settings' values from the config file and ``HORDE_*`` (converted, environment
    over file), for commands other than ``run`` (``horde history``, ``horde compare``), whose
    own flags then win over them. Other keys are left alone here: such a command does not load
    the scenario, whose own options may be in the same file, so ``horde run`` is the one that
    names a misspelt key."""
    environ = dict(os.environ if environ is None else environ)
    spellings = setting_names(build_parser(capacity=True))
    where, raw = _config_file(config or environ.get("HORDE_CONFIG"))
    from_config: dict[str, Any] = {}
    for key, value in raw.items():
        dest = spellings.get(str(key).replace("-", "_"))
        if dest in names:
            from_config[dest] = value
    from_env: dict[str, Any] = {}
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable == "HORDE_SECRET":
            continue
        dest = spellings.get(variable[len(ENV_PREFIX) :].lower())
        if dest in names:
            from_env[dest] = value
    return {
        **_convert(from_config, f"config file {where}"),
        **_convert(from_env, "environment"),
    }


def find_scenario_argument(argv: Sequence[str]) -> str | None:
    """The scenario path named on the command line, before a full parse.

    The scenario must be imported before the full parse, because it may add options of its own
    through ``events.init_command_line_parser``.
    """
    args = list(argv)
    for i, arg in enumerate(args):
        if arg in ("-f", "--scenario", "--locustfile") and i + 1 < len(args):
            return args[i + 1]
        for prefix in ("--scenario=", "--locustfile="):
            if arg.startswith(prefix):
                return arg[len(prefix) :]
    for arg in args:
        if not arg.startswith("-") and arg.endswith(".py"):
            return arg
    return None


def parse_run_options(
    argv: Sequence[str],
    environ: dict[str, str] | None = None,
    extend_parser: Callable[..., Any] | None = None,
    capacity: bool = False,
) -> Settings:
    """Parse ``horde run`` (or ``horde capacity``) arguments merged with config and environment
    settings, into the run's ``Settings``.

    ``extend_parser(parser=...)`` may add scenario-specific options before parsing; their values
    go to ``Settings.scenario_options``.
    """
    environ = dict(os.environ if environ is None else environ)
    parser = build_parser(capacity)
    own = {a.dest for a in parser._actions} - {"help"}  # horde's options, not the scenario's
    if extend_parser is not None:
        extend_parser(parser=parser)
    _env_var_defaults(parser, environ)
    options = parser.parse_args(list(argv))
    # A config file may hold the settings of both commands (horde run ignores --slo's), and the
    # scenario's own options; anything else in it, or in a HORDE_ variable, is a mistake.
    spellings = setting_names(build_parser(capacity=True)) | setting_names(parser)
    where, raw = _config_file(options.config or environ.get("HORDE_CONFIG"))
    config = _config_settings(raw, where, spellings)
    env = _env_settings(environ, spellings)
    from_config = _convert({k: v for k, v in config.items() if k in own}, f"config file {where}")
    from_env = _convert({k: v for k, v in env.items() if k in own}, "environment")
    scenario_defaults = {
        action.dest: _scenario_default(action, values[action.dest], source)
        for values, source in ((config, f"config file {where}"), (env, "environment"))
        for action in parser._actions
        if action.dest in values and action.dest not in own
    }
    if scenario_defaults:  # below the command line, as the scenario's own defaults are
        parser.set_defaults(**scenario_defaults)
        options = parser.parse_args(list(argv))
    explicit = set(from_config) | set(from_env)
    merged: dict[str, Any] = {}
    merged.update(from_config)
    merged.update(from_env)
    scenario_options: dict[str, Any] = {}
    for key, value in vars(options).items():
        if key not in own:
            scenario_options[key] = value
        elif value is not None:
            merged[key] = value
            explicit.add(key)
    # Positional: the first .py (or existing path) is the scenario, the rest are class names.
    targets = list(merged.pop("targets", None) or [])
    scenario = merged.pop("scenario", None)
    if not scenario and targets and (targets[0].endswith(".py") or Path(targets[0]).exists()):
        scenario = targets.pop(0)
    if not scenario:
        for candidate in ("locustfile.py", "horde_scenario.py"):
            if Path(candidate).exists():
                scenario = candidate
                break
        else:
            raise ScenarioError("no scenario file given: use 'horde run path/to/scenario.py'")
    loglevel = merged.pop("loglevel", "WARNING")
    level = str(loglevel).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ScenarioError(f"invalid log level {loglevel!r}: use DEBUG, INFO, WARNING or ERROR")
    unknown = sorted(set(merged) - Settings.names())
    if unknown:  # a flag added to the parser without its field: a mistake in horde itself
        raise TypeError(f"options without a field in horde.settings.Settings: {unknown}")
    if "web_allowed_hosts" in merged:
        merged["web_allowed_hosts"] = names(merged["web_allowed_hosts"])
    for name in ("tags", "exclude_tags", "thresholds"):
        if merged.get(name) is not None:
            merged[name] = tuple(merged[name])
    if "slo" in merged:  # repeated --slo flags each give a list
        merged["slo"] = tuple(
            t for item in merged["slo"] for t in (item if isinstance(item, list) else [item])
        )
    return Settings(
        scenario=scenario,
        user_class_names=tuple(targets),
        loglevel=level,
        explicit=frozenset(explicit),
        scenario_options=MappingProxyType(scenario_options),
        scenario_actions=tuple(a for a in parser._actions if a.dest in scenario_options),
        **merged,
    )
