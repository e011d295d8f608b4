"""The comparison of two runs as one self-contained HTML file (``horde compare --html``).

Like the run report (``horde.report``): the verdict, the warnings and the table of changes are
plain HTML, readable without JavaScript; the charts, each run's per-second history overlaid on
seconds since its start, are drawn in the browser by ``web/assets/compare.js`` (the web UI's
comparison view uses it too) with uPlot, all inlined: no CDN, no second file.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import string
from pathlib import Path
from typing import Any

from horde.comparison.compare import (
    METRIC_LABELS,
    NOT_ENOUGH_DATA,
    Comparison,
    metric_value_text,
)
from horde.comparison.estimate import METRICS
from horde.history.record import RunRecord
from horde.report import ASSETS, VENDOR, ReportError, _read
from horde.version import __version__

__all__ = [
    "chart_data",
    "comparison_section",
    "comparison_table",
    "render_comparison_report",
    "write_comparison_report",
]


def verdict_class(verdict: str) -> str:
    return "verdict-" + verdict.replace(" ", "-")


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _change_cells(change: dict[str, Any]) -> str:
    value, low, high = change.get("change"), change.get("low"), change.get("high")
    if value is None or low is None or high is None:
        return '<td class="num">-</td><td class="num interval">-</td>'
    if change.get("unit") == "ratio":
        shown = f"{value:+.1%}"
        interval = f"{low:+.1%} to {high:+.1%}"
    else:
        shown = f"{value * 100:+.2f} pp"
        interval = f"{low * 100:+.2f} to {high * 100:+.2f} pp"
    level = change.get("confidence")
    title = f' title="{level:.2%} confidence"' if level is not None else ""
    return (
        f'<td class="num {verdict_class(change["verdict"])}">{shown}</td>'
        f'<td class="num interval"{title}>{interval}</td>'
    )


def comparison_table(data: dict[str, Any]) -> str:
    """The changes of every name as an HTML table, from ``Comparison.to_dict()``."""
    rows = []
    for row in data["rows"]:
        label = f"{row['method']} {row['name']}".strip()
        note = f" ({html.escape(row['note'])})" if row.get("note") else ""
        rows.append(
            f'<tr class="group"><td colspan="6">{html.escape(label)}: '
            f'<span class="{verdict_class(row["verdict"])}">{html.escape(row["verdict"])}</span>'
            f'<span class="muted"> ({row["baseline_requests"]:,} and '
            f"{row['candidate_requests']:,} requests){note}</span></td></tr>"
        )
        for metric in METRICS:
            change = row["metrics"][metric]
            verdict = change["verdict"]
            if verdict == NOT_ENOUGH_DATA and change.get("reason"):
                verdict = f"{verdict}: {change['reason']}"
            rows.append(
                f"<tr><td>{METRIC_LABELS[metric]}</td>"
                f'<td class="num">{metric_value_text(metric, change["baseline"])}</td>'
                f'<td class="num">{metric_value_text(metric, change["candidate"])}</td>'
                + _change_cells(change)
                + f'<td class="{verdict_class(change["verdict"])}">{html.escape(verdict)}</td>'
                "</tr>"
            )
    head = (
        "<tr><th>Figure</th><th class=num>Baseline</th><th class=num>Candidate</th>"
        "<th class=num>Change</th><th class=num>Confidence interval</th><th>Verdict</th></tr>"
    )
    return (
        f'<div class="table-box"><table class="data comparison" id="comparison-table">'
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def method_note(data: dict[str, Any]) -> str:
    """How the figures were judged, in one paragraph (plain text)."""
    p95 = data["rows"][-1]["metrics"]["p95"]
    detectable = (
        f"These two runs would catch a change of the aggregate p95 of {p95['detectable']:.1%} "
        "or more nine times in ten. "
        if p95.get("detectable") is not None
        else ""
    )
    return (
        f"{detectable}Intervals from a block bootstrap over each run's seconds, with Holm's "
        f"correction across names and figures (family-wise error {data['alpha']:.0%}); "
        f"tolerance {data['tolerance']:.0%} for latency and throughput, "
        f"{data['fail_tolerance'] * 100:g} percentage points for the failure ratio. "
        "See docs/comparing-runs.md."
    )


def comparison_section(data: dict[str, Any] | None) -> str:
    """The comparison with ``--baseline`` inside a run's own report (empty without one)."""
    if not data:
        return ""
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in data.get("warnings", []))
    return (
        f'<h2 class="section">Comparison with {html.escape(data["baseline"]["label"])}</h2>'
        f'<p class="verdict-banner {verdict_class(data["verdict"])}" id="comparison-verdict">'
        f"{html.escape(data['headline'])}</p>"
        + (f'<ul class="warnings">{warnings}</ul>' if warnings else "")
        + comparison_table(data)
        + f'<p class="muted">{html.escape(method_note(data))}</p>'
    )


def _facts(role: str, run: dict[str, Any]) -> str:
    commit = f", git {html.escape(run['git_commit'][:10])}" if run.get("git_commit") else ""
    return (
        f"<div><span>{role}</span><b>{html.escape(run['label'])}</b> "
        f"{_when(run['started_at'])}, {run['duration']:,.0f} s, {html.escape(run['load'])}, "
        f"{run['requests']:,} requests{commit}<br>{html.escape(run['scenario'])} on "
        f"{html.escape(run.get('host') or '-')}</div>"
    )


def chart_data(record: RunRecord, label: str) -> dict[str, Any]:
    """A run's per-second history as compare.js draws it."""
    keys = ("timestamp", "p50", "p95", "p99", "rps", "requests")
    rows = [{k: r.get(k) for k in keys} for r in record.document.get("history", [])]
    return {"label": label, "start": record.started_at, "rows": rows}


def render_comparison_report(
    comparison: Comparison, baseline: RunRecord, candidate: RunRecord
) -> str:
    data = comparison.to_dict()
    a, b = data["baseline"], data["candidate"]
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in comparison.warnings)
    charts = json.dumps(
        {
            "baseline": chart_data(baseline, f"{a['label']} (baseline)"),
            "candidate": chart_data(candidate, f"{b['label']} (candidate)"),
        }
    ).replace("</", "<\\/")
    page = string.Template(_read(Path(__file__).with_name("comparison.html")))
    return page.substitute(
        title=html.escape(f"{b['label']} against {a['label']}"),
        uplot_css=_read(VENDOR / "uPlot.min.css"),
        app_css=_read(ASSETS / "app.css"),
        history_css=_read(ASSETS / "history.css"),
        version=__version__,
        facts=_facts("Baseline", a) + _facts("Candidate", b),
        verdict_class=verdict_class(comparison.verdict),
        headline=html.escape(comparison.headline()),
        warnings=f'<ul class="warnings">{warnings}</ul>' if warnings else "",
        table=comparison_table(data),
        method=html.escape(method_note(data)),
        uplot_js=_read(VENDOR / "uPlot.iife.min.js"),
        compare_js=_read(ASSETS / "compare.js"),
        data=charts,
    )


def write_comparison_report(
    comparison: Comparison, baseline: RunRecord, candidate: RunRecord, path: Path
) -> Path:
    body = render_comparison_report(comparison, baseline, candidate)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    except OSError as exc:
        raise ReportError(
            f"cannot write the comparison report to {path}: {exc.strerror or exc}"
        ) from None
    return path
