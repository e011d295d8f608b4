"""The environment of one run: what every part of a run shares, in one place.

Users read the target host, TLS setting and stats from it; the runner, console, web UI and
exporters read the stats and the runner from it. Holding these together (rather than in module
globals, as aiolocust does) lets tests run several independent runs in one process.

It is also Locust's ``Environment``: the constructor takes Locust's keywords, and a library
script makes its runner (``create_local_runner``) and web UI (``create_web_ui``) from it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from horde.compat import hub
from horde.events import Events, events
from horde.runner.health import GeneratorHealth
from horde.stats import RequestStats

if TYPE_CHECKING:
    from horde.runner.interface import Runner
    from horde.runner.local import LocalRunner
    from horde.scenario.users import User

log = logging.getLogger("horde.runner")

__all__ = ["Environment", "RunnerAlreadyExistsError"]


class RunnerAlreadyExistsError(Exception):
    """An environment has one runner (Locust's error of the same name)."""


class Environment:
    """Shared state of a run. ``parsed_options`` holds the command line (Locust's name).

    horde's keywords: ``user_classes``, ``host``, ``insecure``, ``stop_timeout``,
    ``parsed_options``, ``events``, ``stats``, ``runner``, ``scenario_path``, ``shape_class``,
    ``service_stats``; ``health`` is horde's own CPU and loop lag. Locust's others are accepted
    too: ``tags``, ``exclude_tags`` (applied by ``_filter_tasks_by_tags``), ``locustfile``,
    ``reset_stats``, ``catch_exceptions`` and the ones horde has no use for
    (``available_user_classes``, ``dispatcher_class``...).
    """

    web_ui_factory: ClassVar[Callable[..., Any] | None] = None
    """Makes ``create_web_ui``'s UI; set by horde's web layer when it is loaded."""

    def __init__(
        self,
        user_classes: Sequence[type[User]] | None = None,
        host: str | None = None,
        insecure: bool = False,
        stop_timeout: float | None = 0.0,
        parsed_options: argparse.Namespace | None = None,
        events: Events | None = None,
        stats: RequestStats | None = None,
        runner: Runner | None = None,
        scenario_path: str | None = None,
        shape_class: Any = None,
        service_stats: RequestStats | None = None,
        *,
        tags: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        locustfile: str | None = None,
        reset_stats: bool = False,
        catch_exceptions: bool = True,
        **unused: Any,
    ) -> None:
        self.user_classes: Sequence[type[User]] = list(user_classes or [])
        self.host = host
        self.insecure = insecure
        self.stop_timeout = float(stop_timeout or 0.0)
        self.parsed_options = parsed_options
        self.events: Events = events if events is not None else _global_events()
        self.stats: RequestStats = stats if stats is not None else RequestStats()
        self.runner = runner
        self.scenario_path = scenario_path or locustfile
        # A LoadShape class from the scenario file (horde), or an instance (Locust's library
        # use passes one: shape_class=MyShape()).
        self.shape_class = shape_class
        self.stop_reason: str | None = None
        # The open model's raw service times (send to last byte), beside ``stats``' corrected ones.
        self.service_stats = service_stats
        # horde's own CPU and event-loop lag, per process that makes load (horde.runner.health).
        self.health = GeneratorHealth()
        # Locust's: the web UI when there is one (None when headless, and on workers).
        self.web_ui: Any = None
        self.tags = tags
        self.exclude_tags = exclude_tags
        self.reset_stats = reset_stats
        self.catch_exceptions = catch_exceptions
        # Locust's: scenario code may set the process's exit code (say, in a quitting listener
        # that checks an SLA); it wins over the one the results would give.
        self.process_exit_code: int | None = None
        self._test_stop: asyncio.Event | None = None
        self._listener_failures_before = self.events.listener_failures
        # Requests a custom client fires through the (global) request event count here.
        self.events.request.add_recorder(self.stats.record)

    # Locust's names ------------------------------------------------------------------------------
    @property
    def locustfile(self) -> str | None:
        return self.scenario_path

    @property
    def user_classes_by_name(self) -> dict[str, type[User]]:
        return {cls.__name__: cls for cls in self.user_classes}

    @property
    def listener_failures(self) -> int:
        """Event listeners that raised since this environment was made."""
        return self.events.listener_failures - self._listener_failures_before

    def create_local_runner(self) -> LocalRunner:
        """A runner for this process's users (Locust's library use)."""
        from horde.runner.local import LocalRunner

        if self.runner is not None:
            raise RunnerAlreadyExistsError(f"Environment.runner already exists ({self.runner})")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            hub.loop()  # a library script: its waits run horde's loop from now on
        return LocalRunner(self)

    def create_web_ui(self, host: str = "", port: int = 8089, **options: Any) -> Any:
        """Serve the web UI for this environment's runner (Locust's library use); it runs on
        the library loop whenever the script waits (see ``horde.compat.hub``)."""
        factory = type(self).web_ui_factory
        if factory is None:
            raise RuntimeError(
                "create_web_ui() needs horde's web UI, which is loaded with Locust's "
                "'from locust.env import Environment' (or 'import horde.web.library')"
            )
        self.web_ui = factory(self, host, port, **options)
        return self.web_ui

    def _filter_tasks_by_tags(self) -> None:
        """Keep the tasks ``tags``/``exclude_tags`` select (Locust's name; ``horde run`` does
        it with -T/-E before the run)."""
        if not self.tags and not self.exclude_tags:
            return
        from horde.scenario.tasks import apply_tag_filter

        self.user_classes = apply_tag_filter(self.user_classes, self.tags, self.exclude_tags)

    # Ending the run --------------------------------------------------------------------------
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

    def __repr__(self) -> str:
        names = ", ".join(cls.__name__ for cls in self.user_classes)
        return f"<Environment [{names}] host={self.host!r}>"


def _global_events() -> Events:
    return events
