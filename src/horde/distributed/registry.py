"""What the master knows about each worker, and how it shows it (JSON API, console table)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GONE", "MISSING", "WorkerInfo"]

# Worker states beyond the runner's own (ready, spawning, running, stopping, stopped).
MISSING = "missing"  # missed heartbeats; its users went to the others
GONE = "gone"  # said goodbye (its own Ctrl-C or SIGTERM)


@dataclass
class WorkerInfo:
    """One worker as last reported; ``assigned`` is what the master last told it to run."""

    id: str
    host: str
    pid: int
    index: int
    state: str = "ready"
    user_count: int = 0
    user_classes_count: dict[str, int] = field(default_factory=dict)
    cpu_percent: float = 0.0
    peak_user_count: int = 0
    peak_cpu_percent: float = 0.0
    assigned: dict[str, int] = field(default_factory=dict)
    assigned_rate: tuple[float, float, int | None] | None = None  # open model: its share
    open_model: dict[str, Any] = field(default_factory=dict)  # its iteration counters, this run
    reports: int = 0
    num_requests: int = 0
    num_failures: int = 0
    final_seq: int = -1
    last_seen: float = field(default_factory=time.monotonic)
    joined_at: float = field(default_factory=time.time)

    @property
    def live(self) -> bool:
        """Counted, sent orders and given users: neither missing nor gone."""
        return self.state not in (MISSING, GONE)

    @property
    def assigned_count(self) -> int:
        return sum(self.assigned.values())

    def as_dict(self) -> dict[str, Any]:
        """The row of the workers table in the JSON API and results files."""
        return {
            "id": self.id,
            "index": self.index,
            "host": self.host,
            "pid": self.pid,
            "state": self.state,
            "user_count": self.user_count,
            "user_classes_count": dict(self.user_classes_count),
            "cpu_percent": self.cpu_percent,
            "peak_user_count": self.peak_user_count,
            "peak_cpu_percent": self.peak_cpu_percent,
            "reports": self.reports,
            "num_requests": self.num_requests,
            "num_failures": self.num_failures,
            "last_report_age": round(time.monotonic() - self.last_seen, 1),
            "joined_at": self.joined_at,
        }
