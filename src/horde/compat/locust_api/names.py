"""Every public name of Locust 2.47's API modules, and what it is under horde.

``horde run`` serves ``import locust...`` from this table (see ``horde.compat.aliases``): horde's
own object where it has one, Locust's value for constants, and for the rest a stand-in that
imports but says, when used, what is not supported and what to do instead. A test checks the
table against the public names of the installed Locust, so that nothing a locustfile can import
from these modules is missing.

"Public" is: in ``__all__``, or defined by Locust (its ``__module__`` is a Locust module), or an
upper-case constant, minus ``TYPE_CHECKING`` and the modules a module imports.
"""

from __future__ import annotations

import socket
import ssl
import typing
from typing import Any

from horde.compat.locust_api.entries import Alias, Gap, Submodule, Value

__all__ = ["ALL", "LOCUST_VERSION", "MODULES", "SUPPORTED_MODULES"]

LOCUST_VERSION = "2.47.0"
"""The Locust release whose API this table follows (``locust.__version__`` under horde)."""

# Why names are missing (and what to do instead).
DOCS = "see docs/migrating-from-locust.md"
INTERNAL = f"it is part of Locust's internals, which horde does not reproduce ({DOCS})"
STATS_PRINTING = (
    "horde writes its result files itself at the end of a run (--csv, --json, --html), in "
    f"Locust's CSV format ({DOCS})"
)
DEPRECATED_FAST = "FastHttpLocust was renamed FastHttpUser in Locust 1.0; use FastHttpUser"

U = "horde.scenario.users"
T = "horde.scenario.tasks"
W = "horde.scenario.wait_time"
E = "horde.exceptions"
X = "horde.compat.locust_api.exceptions"
EV = "horde.events"
C = "horde.scenario.client"
P = "horde.compat.locust_api.printing"


def _internal(names: str) -> dict[str, Gap]:
    """Locust functions that are internals (space-separated names)."""
    return {name: Gap("function", INTERNAL) for name in names.split()}


def _classes(names: str, why: str = INTERNAL) -> dict[str, Gap]:
    """Locust classes horde does not provide (space-separated names)."""
    return {name: Gap("class", why) for name in names.split()}


def _functions(names: str, why: str) -> dict[str, Gap]:
    return {name: Gap("function", why) for name in names.split()}


def _same(module: str, names: str) -> dict[str, Alias]:
    """Names horde's ``module`` has under the same name (space-separated)."""
    return {name: Alias(f"{module}:{name}") for name in names.split()}


WAIT_TIMES = _same(W, "between constant constant_pacing constant_throughput poisson")
TASK_EXCEPTIONS = _same(
    E, "InterruptTaskSet RescheduleTask RescheduleTaskImmediately StopTest StopUser"
)
RUNNERS = {
    "LocalRunner": Alias("horde.runner.local:LocalRunner"),
    "MasterRunner": Alias("horde.distributed.master:MasterRunner"),
    "WorkerRunner": Alias("horde.distributed.worker_runner:WorkerRunner"),
    "Runner": Alias("horde.runner.lifecycle:RunLifecycle"),
}
LOCUST_STATES = {
    "LOCUST_STATE_RUNNING": Value("running"),
    "LOCUST_STATE_WAITING": Value("waiting"),
    "LOCUST_STATE_STOPPING": Value("stopping"),
}
M = "horde.scenario.markov"
MARKOV_NAMES = _same(M, "MarkovTaskSet transition transitions")

MODULES: dict[str, dict[str, Any]] = {
    "locust": {
        "__version__": Value(LOCUST_VERSION),
        **_same(U, "User HttpUser FastHttpUser HttpLocust Locust"),
        **_same(T, "TaskSet SequentialTaskSet tag task"),
        **WAIT_TIMES,
        "LoadTestShape": Alias("horde.scenario.shape:LoadTestShape"),
        "events": Alias(f"{EV}:events"),
        "Events": Alias(f"{EV}:Events"),
        "run_single_user": Alias("horde.debug:run_single_user"),
        **MARKOV_NAMES,
        "wait_time": Submodule("locust.user.wait_time"),
    },
    "locust.env": {
        "Environment": Alias("horde.web.library:Environment"),
        "Events": Alias(f"{EV}:Events"),
        "LoadTestShape": Alias("horde.scenario.shape:LoadTestShape"),
        **RUNNERS,
        "RequestStats": Alias("horde.stats:RequestStats"),
        "RunnerAlreadyExistsError": Alias("horde.runner.environment:RunnerAlreadyExistsError"),
        "TaskHolder": Alias(f"{T}:TaskHolder"),
        "TaskSet": Alias(f"{T}:TaskSet"),
        "User": Alias(f"{U}:User"),
        "WebUI": Alias("horde.web.locust_ui:LocustWebUI"),
        **_classes("StatsCSV UsersDispatcher RunnerType"),
        **_internal("filter_tasks_by_tags"),
    },
    "locust.runners": {
        **RUNNERS,
        "STATE_INIT": Value("ready"),
        "STATE_SPAWNING": Value("spawning"),
        "STATE_RUNNING": Value("running"),
        "STATE_CLEANUP": Value("cleanup"),
        "STATE_STOPPING": Value("stopping"),
        "STATE_STOPPED": Value("stopped"),
        "STATE_MISSING": Value("missing"),
        "LOCUST_STATE_STOPPING": Value("stopping"),
        "WORKER_REPORT_INTERVAL": Value(3.0),
        "WORKER_LOG_REPORT_INTERVAL": Value(10),
        "CPU_MONITOR_INTERVAL": Value(10.0),
        "CPU_WARNING_THRESHOLD": Value(90),
        "HEARTBEAT_INTERVAL": Value(1),
        "HEARTBEAT_LIVENESS": Value(3),
        "HEARTBEAT_DEAD_INTERNAL": Value(-60),
        "MASTER_HEARTBEAT_TIMEOUT": Value(60),
        "FALLBACK_INTERVAL": Value(5),
        "CONNECT_TIMEOUT": Value(5),
        "CONNECT_RETRY_COUNT": Value(60),
        **_same(X, "RPCError RPCReceiveError RPCSendError"),
        "RequestStats": Alias("horde.stats:RequestStats"),
        "StatsError": Alias("horde.stats:StatsError"),
        "StopTest": Alias(f"{E}:StopTest"),
        **_classes(
            "DistributedRunner ExceptionDict Message UsersDispatcher WorkerNode WorkerNodes"
        ),
        **_internal(
            "get_abspaths_in get_logs greenlet_exception_logger is_url "
            "locust_exception_handler "
            "setup_distributed_stats_event_listeners"
        ),
    },
    "locust.stats": {
        "RequestStats": Alias("horde.stats:RequestStats"),
        "StatsEntry": Alias("horde.stats:StatsEntry"),
        "StatsError": Alias("horde.stats:StatsError"),
        "CatchResponseError": Alias("horde.http.errors:CatchResponseError"),
        "STATS_NAME_WIDTH": Value(80),
        "STATS_AUTORESIZE": Value(True),
        "STATS_TYPE_WIDTH": Value(8),
        "CONSOLE_STATS_INTERVAL_SEC": Value(2),
        "HISTORY_STATS_INTERVAL_SEC": Value(5),
        "CSV_STATS_INTERVAL_SEC": Value(1),
        "CSV_STATS_FLUSH_INTERVAL_SEC": Value(5),
        "CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW": Value(10),
        "PERCENTILES_TO_REPORT": Value(
            [0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0]
        ),
        "PERCENTILES_TO_STATISTICS": Value([0.95, 0.99]),
        "PERCENTILES_TO_CHART": Value([0.5, 0.95]),
        "S": Value(typing.TypeVar("S")),
        **_same(
            P,
            "print_stats print_stats_json save_stats_json print_percentile_stats "
            "print_error_report stats_printer stats_history update_stats_history "
            "get_stats_summary get_percentile_stats_summary get_error_report_summary",
        ),
        **_classes("StatsCSV StatsCSVFileWriter", why=STATS_PRINTING),
        **_classes(
            "CSVWriter CachedResponseTimes EntriesDict "
            "RequestStatsAdditionError StatsBaseDict StatsEntryDict "
            "StatsErrorDict StatsHolder"
        ),
        **_internal(
            "avg bucket_response_time calculate_response_time_percentile "
            "diff_response_time_dicts format_utc_timestamp "
            "get_readable_percentiles proper_round resize_handler "
            "setup_distributed_stats_event_listeners sort_stats "
            "validate_stats_configuration"
        ),
    },
    "locust.exception": {
        **TASK_EXCEPTIONS,
        **_same(
            X,
            "LocustError ResponseError MissingWaitTimeError RPCError RPCSendError RPCReceiveError",
        ),
        "CatchResponseError": Alias("horde.http.errors:CatchResponseError"),
        "RunnerAlreadyExistsError": Alias("horde.runner.environment:RunnerAlreadyExistsError"),
    },
    "locust.user": {
        **_same(U, "User HttpUser"),
        **_same(T, "TaskSet tag task"),
        **{
            name: Submodule(f"locust.user.{name}")
            # Not "task": in Locust, locust.user.task is the decorator, not the module.
            for name in ("users", "wait_time", "inspectuser", "markov_taskset")
        },
        "sequential_taskset": Submodule("locust.user.sequential_taskset"),
    },
    "locust.user.task": {
        **_same(T, "TaskSet TaskHolder tag task"),
        **TASK_EXCEPTIONS,
        "MissingWaitTimeError": Alias(f"{X}:MissingWaitTimeError"),
        **LOCUST_STATES,
        "TaskT": Value(typing.TypeVar("TaskT")),
        "is_markov_taskset": Gap("function", INTERNAL),
        **_classes("DefaultTaskSet TaskSetMeta"),
        **_internal("filter_tasks_by_tags get_tasks_from_base_classes"),
    },
    "locust.user.users": {
        **_same(U, "User HttpUser"),
        "TaskSet": Alias(f"{T}:TaskSet"),
        "HttpSession": Alias(f"{C}:LocustHttpSession"),
        "constant": Alias(f"{W}:constant"),
        "CatchResponseError": Alias("horde.http.errors:CatchResponseError"),
        **_same(E, "StopTest StopUser"),
        **LOCUST_STATES,
        "RestResponseT": Value(typing.TypeVar("RestResponseT")),
        "PytestUser": Alias("horde.scenario.pytest_style:PytestUser"),
        "RestMixin": Alias(f"{U}:RestMixin"),
        "RestResponseContextManager": Alias("horde.http.response:Response"),
        **_classes("DefaultTaskSet UserMeta"),
        **_internal("get_tasks_from_base_classes"),
    },
    "locust.user.wait_time": dict(WAIT_TIMES),
    "locust.user.sequential_taskset": {
        **_same(T, "SequentialTaskSet TaskSet"),
        "LocustError": Alias(f"{X}:LocustError"),
        **_classes("SequentialTaskSetMeta TaskSetMeta"),
    },
    "locust.user.markov_taskset": {
        "TaskSet": Alias(f"{T}:TaskSet"),
        "LocustError": Alias(f"{X}:LocustError"),
        **MARKOV_NAMES,
        **_same(
            M,
            "InvalidTransitionError MarkovTaskTagError NoMarkovTasksError "
            "NonMarkovTaskTransitionError",
        ),
        **_classes("MarkovTaskSetMeta TaskSetMeta"),
        **_internal(
            "get_markov_tasks is_markov_task to_weighted_list validate_has_markov_tasks "
            "validate_markov_chain validate_no_tags validate_no_unreachable_tasks "
            "validate_task_name validate_transitions"
        ),
    },
    "locust.user.inspectuser": {
        "TaskSet": Alias(f"{T}:TaskSet"),
        "User": Alias(f"{U}:User"),
        **_internal("get_ratio print_task_ratio print_task_ratio_json"),
    },
    "locust.clients": {
        "HttpSession": Alias(f"{C}:LocustHttpSession"),
        "ResponseContextManager": Alias("horde.http.response:Response"),
        "RestResponseContextManager": Alias("horde.http.response:Response"),
        "EventHook": Alias(f"{EV}:EventHook"),
        **_same(X, "LocustError ResponseError"),
        "CatchResponseError": Alias("horde.http.errors:CatchResponseError"),
        "DEFAULT_CA_BUNDLE_PATH": Value(ssl.get_default_verify_paths().openssl_cafile),
        **_classes("LocustHttpAdapter"),
    },
    "locust.contrib": {
        "fasthttp": Submodule("locust.contrib.fasthttp"),
    },
    "locust.contrib.fasthttp": {
        "FastHttpUser": Alias(f"{U}:FastHttpUser"),
        "FastHttpSession": Alias(f"{C}:LocustFastHttpSession"),
        "FastResponse": Alias("horde.http.response:Response"),
        "ResponseContextManager": Alias("horde.http.response:Response"),
        "RestResponseContextManager": Alias("horde.http.response:Response"),
        "RestMixin": Alias(f"{U}:RestMixin"),
        "User": Alias(f"{U}:User"),
        "StopTest": Alias(f"{E}:StopTest"),
        **_same(X, "LocustError ResponseError LocustBadStatusCode"),
        "CatchResponseError": Alias("horde.http.errors:CatchResponseError"),
        "FastHttpLocust": Gap("class", DEPRECATED_FAST),
        "FAILURE_EXCEPTIONS": Alias("horde.http.errors:RequestError"),
        **_classes("ErrorResponse FastRequest LocustUserAgent"),
        **_internal("insecure_ssl_context_factory"),
    },
    "locust.log": {
        "HOSTNAME": Value(socket.gethostname()),
        "setup_logging": Alias(f"{P}:setup_logging"),
        **_classes("LogReader"),
        **_internal("get_logs greenlet_exception_logger"),
    },
    "locust.event": {
        **_same(EV, "EventHook Events"),
        "DeprecatedEventHook": Gap("class", INTERNAL),
        **TASK_EXCEPTIONS,
    },
    "locust.shape": {
        "LoadTestShape": Alias("horde.scenario.shape:LoadTestShape"),
        "Runner": Alias("horde.runner.lifecycle:RunLifecycle"),
        "LoadTestShapeMeta": Gap("class", INTERNAL),
    },
    "locust.debug": {
        "run_single_user": Alias("horde.debug:run_single_user"),
        "Environment": Alias("horde.web.library:Environment"),
        "CatchResponseError": Alias("horde.http.errors:CatchResponseError"),
        "RescheduleTask": Alias(f"{E}:RescheduleTask"),
        "PrintListener": Alias("horde.debug:PrintListener"),
    },
}

# ``from locust import *`` takes Locust's own ``__all__``.
ALL: dict[str, tuple[str, ...]] = {
    "locust": (
        *("FastHttpUser", "HttpLocust", "HttpUser", "LoadTestShape", "Locust", "MarkovTaskSet"),
        *("SequentialTaskSet", "TaskSet", "User", "__version__", "between", "constant"),
        *("constant_pacing", "constant_throughput", "events", "poisson", "run_single_user"),
        *("tag", "task", "transition", "transitions", "wait_time"),
    ),
    "locust.user": ("HttpUser", "TaskSet", "User", "tag", "task"),
}

SUPPORTED_MODULES = tuple(sorted(MODULES))
