"""What identifies a run to a monitoring system: its id, horde's version, the scenario, the mode.

One id per horde process, made when it starts (or given with ``--run-id``/``HORDE_RUN_ID``,
e.g. by a CI job or a Kubernetes Job that names its run): Prometheus puts it on
``horde_run_info``, OpenTelemetry in the resource (``horde.run.id``), so dashboards tell two runs
apart even when they ran the same test.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from horde.version import __version__

__all__ = ["RunInfo", "name_run", "process_run_id"]


_process_run_id: str | None = None


def process_run_id() -> str:
    """This process's run id: the same for /metrics, --metrics-port and OTLP."""
    global _process_run_id
    if _process_run_id is None:
        _process_run_id = uuid.uuid4().hex[:12]
    return _process_run_id


def name_run(run_id: str | None) -> None:
    """Use ``run_id`` (``--run-id``) as this process's run id, if one is given."""
    global _process_run_id
    if run_id and run_id.strip():
        _process_run_id = run_id.strip()


@dataclass(frozen=True)
class RunInfo:
    """The labels of ``horde_run_info`` and the resource attributes of OTLP."""

    mode: str  # headless, web, master or capacity
    scenario: str = ""
    run_id: str = field(default_factory=process_run_id)
    version: str = __version__
    started: float = field(default_factory=time.time)

    @property
    def scenario_name(self) -> str:
        return Path(self.scenario).name if self.scenario else ""
