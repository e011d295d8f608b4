"""The run's exporters for monitoring systems, around a mode: ``--metrics-port`` and ``--otel``.

Started before the mode (so a scraper sees the run from its first second, and a port that cannot
be bound stops the run before any load) and stopped after it: the last OTLP export carries the
final figures, after the summary. A worker exports nothing of its own: its master has the run's
figures (a worker's stats are the deltas it sends).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from horde.metrics import RunInfo
from horde.metrics.run_info import name_run
from horde.runner.environment import Environment
from horde.settings import Settings

__all__ = ["exporting"]

log = logging.getLogger("horde")


@asynccontextmanager
async def exporting(mode: str, environment: Environment, options: Settings) -> AsyncIterator[None]:
    name_run(options.run_id)  # also /metrics of the web UI
    wanted = options.metrics_port is not None or options.otel
    if not wanted:
        yield
        return
    if mode == "worker":
        log.warning("--metrics-port and --otel are ignored on a worker: its master exports the run")
        yield
        return
    run = RunInfo(mode, environment.scenario_path or "")
    server = None
    otlp = None
    try:
        if options.metrics_port is not None:
            from horde.web.metrics_server import start_metrics_server

            server, url = await start_metrics_server(environment, options, run)
            print(f"horde metrics on {url} (Prometheus)", file=sys.stderr, flush=True)
        if options.otel:
            from horde.metrics.otel import OtlpExport, resolve_otlp

            settings = resolve_otlp(
                options.otel_protocol, options.otel_endpoint, options.otel_interval
            )
            otlp = OtlpExport(environment, run, settings)
            otlp.start()
            print(
                f"horde exports metrics over OTLP to {settings.describe()} (run {run.run_id})",
                file=sys.stderr,
                flush=True,
            )
        yield
    finally:
        if otlp is not None:
            await otlp.close()
        if server is not None:
            await server.cleanup()
