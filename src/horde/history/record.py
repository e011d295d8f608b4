"""What the history keeps of a run, and how it is made from a run that just ended.

A record has three parts:

- columns to list and filter runs by (when, scenario, host, load, requests, p95, verdict...);
- ``document``: the run's full result document, exactly what ``--json`` writes
  (``horde.stats.json_export.stats_to_json``), so that any figure later added to it (the
  generator's health in ``meta.generator_health``, say) is kept without a change here;
- ``samples``: what the comparison needs and the document lacks: each name's full histogram
  (``RequestStats.to_dict``: exact, they merge) and each second's histograms
  (``horde.stats.windows``).
"""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from horde.stats.json_export import stats_to_json
from horde.version import __version__

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.settings import Settings

__all__ = [
    "RunRecord",
    "build_record",
    "git_state",
    "scenario_hash",
    "settings_record",
    "target_host",
]


@dataclass
class RunRecord:
    """One saved run (``id`` is None until the store has saved it)."""

    uuid: str
    started_at: float
    ended_at: float
    scenario: str  # the scenario file's name
    scenario_path: str | None
    scenario_hash: str | None  # sha256 of the scenario file
    host: str | None  # the target
    machine: str  # the load generator's host name
    git_commit: str | None
    git_dirty: bool | None
    mode: str  # headless, web, master, capacity
    load: str  # "50 users", "200/s", "stages (...)", "capacity search: 120/s"
    users: int | None
    rate: float | None
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    verdict: str | None = None
    exit_code: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, Any] = field(default_factory=dict)
    horde_version: str = __version__
    id: int | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def fail_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def duration(self) -> float:
        return self.ended_at - self.started_at

    def summary(self) -> dict[str, Any]:
        """The columns, as ``horde history --json`` lists them."""
        return {
            "id": self.id,
            "uuid": self.uuid,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration": self.duration,
            "scenario": self.scenario,
            "scenario_path": self.scenario_path,
            "scenario_hash": self.scenario_hash,
            "host": self.host,
            "machine": self.machine,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "mode": self.mode,
            "load": self.load,
            "users": self.users,
            "rate": self.rate,
            "requests": self.requests,
            "failures": self.failures,
            "fail_ratio": self.fail_ratio,
            "rps": self.rps,
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "tags": list(self.tags),
            "horde_version": self.horde_version,
        }


def scenario_hash(path: str | None) -> str | None:
    """sha256 of the scenario file's bytes (None when it cannot be read)."""
    if not path:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def git_state(path: str | None) -> tuple[str | None, bool | None]:
    """The commit checked out where the scenario lives, and whether the tree has changes;
    (None, None) outside a git repository or without git."""
    if not path:
        return None, None
    folder = Path(path).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
        if head.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return head.stdout.strip() or None, dirty


# Names of options whose values are secrets, never stored (scenario options included).
_SECRET = re.compile(r"pass|secret|token|key|auth|credential|cookie", re.IGNORECASE)
_LEFT_OUT = {"explicit", "scenario_actions", "scenario_options", "config", "loglevel"}


def settings_record(settings: Settings) -> dict[str, Any]:
    """The settings that shape a run, as JSON, secrets left out."""
    from dataclasses import fields

    out: dict[str, Any] = {}
    for f in fields(settings):
        if f.name in _LEFT_OUT or _SECRET.search(f.name):
            continue
        out[f.name] = _plain(getattr(settings, f.name))
    out["scenario_options"] = {
        name: ("(secret)" if _SECRET.search(name) else _plain(value))
        for name, value in settings.scenario_options.items()
    }
    return out


def _plain(value: Any) -> Any:
    """JSON for settings values: thresholds by expression, stages as text, tuples as lists."""
    expression = getattr(value, "expression", None)
    if isinstance(expression, str):
        return expression
    if isinstance(value, tuple | list):
        if len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], list):
            model, stages = value  # --stages: (model, [Stage])
            unit = "/s" if model == "arrival_rate" else ""
            return ",".join(f"{s.duration:g}s:{s.target:g}{unit}" for s in stages)
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def describe_load(settings: Settings, meta: dict[str, Any], peak: int) -> tuple[str, int, float]:
    """The load as the history lists it, the peak users and the planned rate (0 if none)."""
    capacity = meta.get("capacity")
    if isinstance(capacity, dict):
        best = capacity.get("max_load")
        unit = "/s" if capacity.get("unit") == "iterations/s" else " users"
        found = f"{best:g}{unit}" if best is not None else "none"
        return f"capacity search: {found}", peak, 0.0
    rate = meta.get("arrival_rate")
    if rate is None and settings.arrival_rate is not None and settings.stages is None:
        first, last = settings.arrival_rate
        rate = last
        if first != last and meta.get("load_model"):
            return str(meta["load_model"]), peak, float(last)
    model = str(meta.get("load_model") or "")
    if model.startswith(("stages", "load shape")):
        return model, peak, float(rate or 0.0)
    if rate:
        return f"{rate:g}/s", peak, float(rate)
    users = peak or int(meta.get("users") or settings.users or 0)
    return f"{users} user{'s' if users != 1 else ''}", users, 0.0


def build_record(
    environment: Environment, settings: Settings, meta: dict[str, Any], mode: str
) -> RunRecord:
    """The record of the run that just ended (its stats are final)."""
    stats = environment.stats
    document = stats_to_json(stats, meta)
    total = stats.total
    path = environment.scenario_path
    commit, dirty = git_state(path)
    p50, p95, p99 = total.get_response_time_percentiles([0.5, 0.95, 0.99])
    started = float(meta.get("start_time") or stats.start_time)
    ended = float(meta.get("end_time") or stats.end_time or time.time())
    peak = stats.peak_user_count
    load, users, rate = describe_load(settings, meta, peak)
    windows = stats.windows.to_dict() if stats.windows is not None else None
    return RunRecord(
        uuid=uuid.uuid4().hex,
        started_at=started,
        ended_at=ended,
        scenario=Path(path).name if path else "-",
        scenario_path=str(Path(path).resolve()) if path else None,
        scenario_hash=scenario_hash(path),
        host=target_host(environment),
        machine=socket.gethostname(),
        git_commit=commit,
        git_dirty=dirty,
        mode=mode,
        load=load,
        users=users or None,
        rate=rate or None,
        requests=total.num_requests,
        failures=total.num_failures,
        rps=total.total_rps,
        p50=p50,
        p95=p95,
        p99=p99,
        verdict=threshold_verdict(meta.get("thresholds")),
        settings=settings_record(settings),
        document=document,
        samples={"stats": stats.to_dict(), "windows": windows},
    )


def threshold_verdict(verdicts: Any) -> str | None:
    if not verdicts:
        return None
    failed = sum(1 for v in verdicts if not v.get("passed"))
    if not failed:
        return "thresholds passed"
    return f"{failed} of {len(verdicts)} thresholds failed"


def target_host(environment: Environment) -> str | None:
    """The target: -H, else the first user class's own host."""
    return environment.host or next((c.host for c in environment.user_classes if c.host), None)
