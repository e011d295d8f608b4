"""The one place that turns a run's settings into a running mode; the CLI only names the command.

``compose`` checks what a user could get wrong before any load starts (result files that could
not be written, user classes, tags, hosts: ``prepare_environment``; too few open files),
resolves this process's role in a distributed run, and picks
the mode (``choose_mode``); ``Mode.run()`` runs it on a uvloop event loop and returns the exit
code. A mode's module is imported only when it is chosen: a master or a worker brings ZeroMQ and
the web UI aiohttp, which a headless run does without (start-up time).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from horde.distributed.config import DistributedConfig, resolve
from horde.exceptions import ScenarioError
from horde.modes.recording import check_baseline, wants_record
from horde.output import check_output_paths
from horde.runner import file_limit
from horde.runner.environment import Environment
from horde.scenario.loader import Scenario, load_scenario, select_user_classes
from horde.scenario.tasks import all_tags, apply_tag_filter
from horde.settings import Settings
from horde.units import parse_host

__all__ = ["MODES", "Mode", "check_some_load", "choose_mode", "compose", "prepare_environment"]

MODES = ("headless", "web", "master", "worker", "capacity")


@dataclass(frozen=True)
class Mode:
    """A mode, ready to run: its name (one of ``MODES``), environment, settings and role."""

    name: str
    environment: Environment
    settings: Settings
    role: DistributedConfig

    def run(self) -> int:
        """Run the mode to its end; the process's exit code (``quit``'s listeners hear it)."""
        import uvloop

        from horde.modes.hooks import fire_quit

        return fire_quit(self.environment, uvloop.run(self._main()))

    async def _main(self) -> int:
        from horde.modes.exporters import exporting

        async with exporting(self.name, self.environment, self.settings):
            return await self._run_mode()

    async def _run_mode(self) -> int:
        environment, settings, role = self.environment, self.settings, self.role
        if self.name == "headless":
            from horde.modes.headless import run_headless

            return await run_headless(environment, settings)
        if self.name == "web":
            from horde.modes.web import run_web

            return await run_web(environment, settings)
        if self.name == "master":
            from horde.modes.master import run_master

            return await run_master(environment, settings, role)
        if self.name == "worker":
            from horde.modes.worker import run_worker

            return await run_worker(environment, settings, role)
        if self.name == "capacity":
            from horde.modes.capacity import run_capacity

            return await run_capacity(environment, settings, role)
        raise ValueError(f"unknown mode {self.name!r}: one of {', '.join(MODES)}")


def choose_mode(settings: Settings, role: DistributedConfig, capacity: bool = False) -> str:
    """``horde capacity`` is the capacity mode (on a master too); otherwise the role decides,
    then ``--headless``."""
    if capacity:
        return "capacity"
    if role.mode in ("master", "worker"):
        return role.mode
    return "headless" if settings.headless else "web"


def compose(
    settings: Settings,
    scenario: Scenario | None = None,
    *,
    capacity: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Mode:
    """The mode the settings ask for (``capacity``: the ``horde capacity`` command), built."""
    check_output_paths(settings)  # before any load: not after an hour of it
    environment = prepare_environment(settings, scenario)
    file_limit.warn(settings)
    role = resolve(settings, os.environ if environ is None else environ)
    mode = choose_mode(settings, role, capacity)
    if mode in ("headless", "master") and settings.headless:
        check_some_load(settings, environment)
    if role.mode != "worker":  # a master keeps the run's history; its workers do not
        check_baseline(settings, environment)
        if wants_record(settings):
            environment.stats.track_windows()  # each second's histograms, for comparisons
    return Mode(mode, environment, settings, role)


def check_some_load(settings: Settings, environment: Environment) -> None:
    """A headless run of no users would only wait out its run time and report nothing: refuse
    ``-u 0`` unless something else sets the load (stages, an arrival rate, a load shape). The
    web UI may start at 0, since its form sets the users."""
    if settings.users or settings.stages or settings.arrival_rate or environment.shape_class:
        return
    raise ScenarioError(
        "-u 0 starts no user, so the run would test nothing: give at least 1 user, "
        "e.g. -u 10 (or set the load with --arrival-rate or --stages)"
    )


def prepare_environment(options: Settings, scenario: Scenario | None = None) -> Environment:
    """Check everything a user could get wrong before any load starts; build the environment."""
    if scenario is None:
        scenario = load_scenario(options.scenario)
    classes = select_user_classes(scenario, options.user_class_names)
    known_tags = all_tags(classes)
    for flag, wanted in (("-T/--tags", options.tags), ("-E/--exclude-tags", options.exclude_tags)):
        unknown = sorted(set(wanted or ()) - known_tags)
        if unknown:
            listing = ", ".join(sorted(known_tags)) or "none"
            raise ScenarioError(
                f"unknown tag {', '.join(unknown)} in {flag} (tags in {scenario.name}: {listing})"
            )
    classes = apply_tag_filter(classes, options.tags, options.exclude_tags)
    if not classes:
        raise ScenarioError("no task left to run after applying -T/-E tag filters")
    host = options.host
    # A worker may get the host from its master (Locust's rule), so it needs none of its own.
    if host is None and not options.worker:
        missing = [c.__name__ for c in classes if not c.host and _needs_host(c)]
        if missing:
            raise ScenarioError(
                f"no host for {', '.join(missing)}: pass -H http://host:port or set 'host' "
                "on the user class"
            )
    else:
        for cls in classes:
            cls_host = cls.host
            if cls_host:
                try:
                    parse_host(cls_host)
                except ValueError as exc:
                    raise ScenarioError(f"{cls.__name__}.host: {exc}") from None
    environment = Environment(
        user_classes=classes,
        host=host,
        insecure=bool(options.insecure),
        stop_timeout=float(options.stop_timeout or 0),
        parsed_options=options.parsed_options(),
        scenario_path=str(scenario.path),
        shape_class=scenario.shape_class,
    )
    return environment


def _needs_host(cls: type) -> bool:
    from horde.scenario.users import HttpUser

    return issubclass(cls, HttpUser)
