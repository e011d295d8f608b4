"""A comparison on the console: one row per name, each figure's change over its interval.

Names and hosts come from the scenario and the target: they go through ``horde.markup.plain``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from rich.console import Group
from rich.table import Table
from rich.text import Text

from horde.comparison.compare import (
    IMPROVED,
    NOT_ENOUGH_DATA,
    REGRESSED,
    UNCHANGED,
    Comparison,
    MetricChange,
    RunInfo,
    metric_value_text,
)
from horde.comparison.estimate import METRICS
from horde.markup import plain

__all__ = ["VERDICT_STYLES", "comparison_renderable"]

SHORT_LABELS = {"p50": "median", "p95": "p95", "p99": "p99", "rps": "req/s", "fail_ratio": "failed"}
COLUMNS = (
    ("", 8), ("Baseline", 9), ("Candidate", 9), ("Change", 8), ("Interval", 15), ("Verdict", 16),
)  # fmt: skip
VERDICT_STYLES = {
    REGRESSED: "bold red",
    IMPROVED: "green",
    UNCHANGED: "",
    NOT_ENOUGH_DATA: "yellow",
}


def _change(change: MetricChange) -> tuple[Text, Text]:
    """The change and its interval, styled by the verdict."""
    style = VERDICT_STYLES[change.verdict]
    if change.change is None or change.low is None or change.high is None:
        return Text("n/a", style="dim"), Text("")
    if change.relative:
        top = f"{change.change:+.1%}"
        interval = f"{change.low * 100:+.1f}..{change.high * 100:+.1f}%"
    else:
        top = f"{change.change * 100:+.2f}pp"
        interval = f"{change.low * 100:+.2f}..{change.high * 100:+.2f}pp"
    return Text(top, style=style), Text(interval, style="dim")


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


def _run_line(role: str, run: RunInfo, where: bool) -> Text:
    text = Text(f"  {role:<10} ", style="bold")
    text.append(f"{run.label:<9} {_when(run.started_at)}  {run.duration:.0f} s  ")
    text.append(plain(run.load))
    if run.git_commit:
        text.append(f"  git {run.git_commit[:10]}")
    if where:
        text.append("  ")
        text.append(plain(f"{run.scenario} on {run.host or '-'}"))
    return text


def _table(header: bool) -> Table:
    """Every name's figures in columns of the same widths, so the groups line up."""
    table = Table(box=None, show_header=header, header_style="bold", padding=(0, 1))
    for column, width in COLUMNS:
        justify: Literal["left", "right"] = "left" if column in ("", "Verdict") else "right"
        table.add_column(column, justify=justify, width=width, no_wrap=True)
    return table


def comparison_renderable(comparison: Comparison, headline: bool = True) -> Any:
    """The header (the two runs), the table, the warnings and (``headline``) the verdict."""
    tables: list[Any] = [
        Text(
            f"Changes, with confidence intervals (tolerance {comparison.tolerance:.0%}):",
            style="bold",
        ),
        _table(header=True),
    ]
    for row in comparison.rows:
        name = Text("  ")
        name.append(plain(row.label))
        name.append(": ")
        name.append(row.verdict, style=VERDICT_STYLES[row.verdict] or "bold")
        name.append(
            f" ({row.baseline_requests:,} and {row.candidate_requests:,} requests)", style="dim"
        )
        if row.note:
            name.append(f" ({row.note})", style="dim")
        table = _table(header=False)
        for metric in METRICS:
            change = row.metrics[metric]
            shown, interval = _change(change)
            verdict = Text(change.verdict, style=VERDICT_STYLES[change.verdict])
            if change.verdict == NOT_ENOUGH_DATA and change.change is None:
                verdict = Text("too few requests", style="dim")
            table.add_row(
                "  " + SHORT_LABELS[metric],
                metric_value_text(metric, change.baseline),
                metric_value_text(metric, change.candidate),
                shown,
                interval,
                verdict,
            )
        tables += [name, table]
    a, b = comparison.baseline, comparison.candidate
    same = (a.scenario, a.host) == (b.scenario, b.host)
    parts: list[Any] = [
        Text.assemble(("Comparing ", "bold"), plain(f"{b.scenario} on {b.host or '-'}"))
        if same
        else Text("Comparing", style="bold"),
        _run_line("baseline", a, not same),
        _run_line("candidate", b, not same),
        *tables,
    ]
    aggregate = comparison.rows[-1].metrics["p95"]
    if aggregate.detectable is not None:
        parts.append(
            Text(
                f"These two runs would catch a change of the aggregate p95 of "
                f"{aggregate.detectable:.1%} or more nine times in ten.",
                style="dim",
            )
        )
    for warning in comparison.warnings:
        parts.append(Text("warning: " + warning, style="yellow"))
    if headline:
        style = VERDICT_STYLES[comparison.verdict] or "bold"
        parts.append(Text(comparison.headline(), style=style))
    return Group(*parts)
