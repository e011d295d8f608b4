"""The console view of a run: live progress while it runs, and the final summary.

On a terminal the live table refreshes in place every 2 s, under a progress bar when the run has
a run time. When output goes to a file or a CI log, a table every 2 s would bury the log (270
lines for a 30-second run), so one short progress line is printed at a steady pace instead
(``progress_interval``) and the full tables once, at the end. ``--only-summary`` prints only
the summary. Reads the stats only; never touches the runner.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any

from rich.console import Console as RichConsole
from rich.console import Group
from rich.table import Table
from rich.text import Text

from horde.markup import plain
from horde.runner.environment import Environment
from horde.settings import Settings

if TYPE_CHECKING:  # imported when a live view starts: headless summaries do without them
    from rich.live import Live
    from rich.progress import Progress

__all__ = ["Console", "plain", "progress_interval", "progress_line", "stats_table"]

REFRESH_SECONDS = 2.0
# In a log: a progress line every 5 s, or, for runs longer than 5 minutes, about 60 lines a run
# (in whole multiples of 5 s), so that an hour's run is not 720 lines.
PROGRESS_SECONDS = 5.0
PROGRESS_LINES_PER_RUN = 60
SUMMARY_PERCENTILES = (0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0)


def progress_interval(run_time: float | None) -> float:
    """Seconds between two progress lines in a log."""
    if not run_time or run_time <= PROGRESS_SECONDS * PROGRESS_LINES_PER_RUN:
        return PROGRESS_SECONDS
    steps = math.ceil(run_time / PROGRESS_LINES_PER_RUN / PROGRESS_SECONDS)
    return PROGRESS_SECONDS * steps


def _clock(seconds: float) -> str:
    """``45s``, ``2m05s``, ``1h02m``: short enough for a log line, exact enough to read."""
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def progress_line(environment: Environment, elapsed: float, run_time: float | None) -> str:
    """One line for a log: elapsed (of the run time), users, requests, failures, the current
    rate and p95 (both over the last ~10 s)."""
    stats = environment.stats
    total = stats.total
    runner = environment.runner
    users = runner.user_count if runner is not None else 0
    clock = _clock(elapsed) + (f"/{_clock(run_time)}" if run_time else "")
    fail_pct = 100.0 * total.num_failures / total.num_requests if total.num_requests else 0.0
    window = stats.current_histogram()
    p95 = f"{_ms(window.percentile(95) / 1000)} ms" if window.count else "-"
    return (
        f"[{clock}] {users} users, {total.num_requests} requests, "
        f"{total.num_failures} failures ({fail_pct:.2f}%), {total.current_rps:.1f} req/s, "
        f"p95 {p95}" + saturation_note(environment)
    )


def saturation_note(environment: Environment) -> str:
    """Said plainly while horde itself is saturated (its figures then include its own
    queueing); empty otherwise."""
    if not any(s.saturated for s in environment.health.latest().values()):
        return ""
    distributed = environment.health.distributed
    return (
        f" · {'WORKERS' if distributed else 'HORDE'} SATURATED: latencies include its own "
        "queueing; " + ("add workers" if distributed else "use --processes")
    )


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def stats_table(environment: Environment, title: str | Text, current: bool = True) -> Table:
    """Per-name rows and the aggregated row: Locust's console columns."""
    stats = environment.stats
    table = Table(title=plain(title), title_justify="left", header_style="bold")
    for col in ("Type", "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "fail/s"):
        table.add_column(col, justify="left" if col in ("Type", "Name") else "right")
    rows = [*stats.sorted_entries(), stats.total]
    for i, e in enumerate(rows):
        fail_pct = 100.0 * e.num_failures / e.num_requests if e.num_requests else 0.0
        rps = e.current_rps if current else e.total_rps
        fps = e.current_fail_per_sec if current else e.total_fail_per_sec
        table.add_row(
            plain(e.method),
            plain(e.name),
            str(e.num_requests),
            f"{e.num_failures}({fail_pct:.2f}%)",
            _ms(e.avg_response_time if e.num_requests else None),
            _ms(e.min_response_time / 1000 if e.num_requests else None),
            _ms(e.max_response_time / 1000 if e.num_requests else None),
            _ms(e.median_response_time if e.num_requests else None),
            f"{rps:.2f}",
            f"{fps:.2f}",
            end_section=(i == len(rows) - 2),
        )
    return table


def percentiles_table(environment: Environment) -> Table:
    stats = environment.stats
    table = Table(
        title="Response time percentiles (ms, HDR histogram: within 1% of exact)",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("Type")
    table.add_column("Name")
    for q in SUMMARY_PERCENTILES:
        table.add_column(f"{q * 100:g}%", justify="right")
    table.add_column("# reqs", justify="right")
    rows = [*stats.sorted_entries(), stats.total]
    for i, e in enumerate(rows):
        values = [
            _ms(e.get_response_time_percentile(q)) if e.num_requests else "-"
            for q in SUMMARY_PERCENTILES
        ]
        table.add_row(
            plain(e.method),
            plain(e.name),
            *values,
            str(e.num_requests),
            end_section=(i == len(rows) - 2),
        )
    return table


def failures_table(environment: Environment) -> Table | None:
    errors = sorted(environment.stats.errors.values(), key=lambda e: -e.occurrences)
    if not errors:
        return None
    table = Table(title="Failures", title_justify="left", header_style="bold")
    table.add_column("# occurrences", justify="right")
    table.add_column("Type")
    table.add_column("Name")
    table.add_column("Error")
    for err in errors:
        table.add_row(str(err.occurrences), plain(err.method), plain(err.name), plain(err.error))
    return table


def exceptions_table(environment: Environment) -> Table | None:
    exceptions = sorted(environment.stats.exceptions.values(), key=lambda e: -e.count)
    if not exceptions:
        return None
    table = Table(title="Exceptions in user code", title_justify="left", header_style="bold")
    table.add_column("Count", justify="right")
    table.add_column("Where")
    table.add_column("Message")
    for exc in exceptions:
        table.add_row(str(exc.count), plain(exc.where), plain(exc.msg))
    return table


def live_health(environment: Environment) -> Text:
    """The load generator's last second, for the live table's title: its CPU and loop lag, and
    plainly when it is saturated (the figures below then include horde's own queueing)."""
    latest = list(environment.health.latest().values())
    if not latest:
        return Text()
    worst = max(latest, key=lambda s: s.cpu + s.cpu_wait)
    lag = max(s.lag_p99 for s in latest)
    who = "workers" if environment.health.distributed else "horde"
    waiting = f" (+{worst.cpu_wait:.0f}% waiting for one)" if worst.cpu_wait >= 5 else ""
    text = Text(f" · {who} CPU {worst.cpu:.0f}%{waiting}, loop lag {lag:.0f} ms")
    text.append(saturation_note(environment), style="bold red")
    return text


def health_line(summary: dict[str, Any]) -> Text:
    """The run's verdict on the load generator (``meta.generator_health``), after the summary."""
    if summary["saturated"]:
        text = Text("Load generator saturated: ", style="bold red")
        text.append(summary["message"], style="red")
        return text
    text = Text("Load generator: ", style="bold")
    text.append(summary["message"])
    return text


class Console:
    """Live view plus summary for one run."""

    def __init__(self, environment: Environment, options: Settings) -> None:
        self.environment = environment
        self.options = options
        self.console = RichConsole(stderr=False)
        if not self.console.is_terminal:
            # Logs and CI: wide enough that names and percentiles are never cut.
            self.console = RichConsole(stderr=False, width=200)
        self._task: asyncio.Task[None] | None = None
        self._live: Live | None = None
        self._progress: Progress | None = None
        self._progress_task: Any = None
        self._started = time.monotonic()

    def _header(self) -> Text:
        runner = self.environment.runner
        state = runner.state.value if runner else "-"
        users = runner.user_count if runner else 0
        header = Text(state, style="bold")
        header.append(f" · {users} users · host {self.environment.host or '(per class)'}")
        header.append_text(live_health(self.environment))
        return header

    def _renderable(self) -> Group:
        parts: list[Any] = []
        if self._progress is not None and self.options.run_time:
            elapsed = time.monotonic() - self._started
            self._progress.update(
                self._progress_task,
                completed=min(elapsed, self.options.run_time),
                clock=f"{_clock(elapsed)} of {_clock(self.options.run_time)}",
            )
            parts.append(self._progress)
        parts.append(stats_table(self.environment, self._header()))
        return Group(*parts)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.options.only_summary:
            return
        self._started = time.monotonic()
        if self.console.is_terminal:
            from rich.live import Live
            from rich.progress import BarColumn, Progress, TextColumn

            if self.options.run_time:
                self._progress = Progress(
                    TextColumn("run time"),
                    BarColumn(),
                    TextColumn("{task.fields[clock]}"),
                    console=self.console,
                )
                self._progress_task = self._progress.add_task(
                    "run", total=self.options.run_time, clock=""
                )
            self._live = Live(
                self._renderable(), console=self.console, refresh_per_second=1, transient=True
            )
            self._live.start()
        self._task = loop.create_task(self._refresh())

    async def _refresh(self) -> None:
        if self._live is None:  # a log: a line at a steady pace, on the run's clock
            interval = progress_interval(self.options.run_time)
            beats = 0
            while True:
                beats += 1
                await asyncio.sleep(max(0.0, self._started + beats * interval - time.monotonic()))
                elapsed = time.monotonic() - self._started
                line = progress_line(self.environment, elapsed, self.options.run_time)
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            self._live.update(self._renderable())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.stop_display()

    def stop_display(self) -> None:
        """End the live table; safe from another thread (the stop guard's last resort)."""
        if self._live is not None:
            self._live.stop()

    def print_summary(self) -> None:
        env = self.environment
        reason = f" ({env.stop_reason})" if env.stop_reason else ""
        self.console.print()
        self.console.print(stats_table(env, f"Summary{reason}", current=False))
        self.console.print(percentiles_table(env))
        for table in (failures_table(env), exceptions_table(env)):
            if table is not None:
                self.console.print(table)
