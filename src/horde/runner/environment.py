"""The environment of one run: what every part of a run shares, in one place.

Users read the target host, TLS setting and stats from it; the runner, console, web UI and
exporters read the stats and the runner from it. Holding these together (rather than in module
globals, as aiolocust does) lets tests run several independent runs in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from horde.events import Events, events
from horde.stats import RequestStats

if TYPE_CHECKING:
    from horde.runner.interface import Runner
    from horde.scenario.users import User

log = logging.getLogger("horde.runner")


@dataclass
class Environment:
    """Shared state of a run. ``parsed_options`` holds the command line (Locust's name)."""

    user_classes: Sequence[type[User]]
    host: str | None = None
    insecure: bool = False
    stop_timeout: float = 0.0
    parsed_options: argparse.Namespace | None = None
    events: Events = field(default_factory=lambda: events)
    stats: RequestStats = field(default_factory=RequestStats)
    runner: Runner | None = None
    scenario_path: str | None = None
    shape_class: type | None = None  # a LoadShape from the scenario file
    stop_reason: str | None = None
    # The open model's raw service times (send to last byte), beside ``stats``' corrected ones.
    service_stats: RequestStats | None = None
    _test_stop: asyncio.Event | None = None

    def __post_init__(self) -> None:
        # Requests a custom client fires through the (global) request event count here.
        self.events.request.add_recorder(self.stats.record)

    @property
    def test_stop_event(self) -> asyncio.Event:
        """Set when the run should end (run time over, Ctrl-C, ``StopTest``)."""
        if self._test_stop is None:
            self._test_stop = asyncio.Event()
        return self._test_stop

    def request_test_stop(self, reason: str) -> None:
        """Ask the whole run to end; the first reason given is the one reported."""
        if self.stop_reason is None:
            self.stop_reason = reason
            log.info("stopping the test: %s", reason)
        self.test_stop_event.set()
