"""The self-contained HTML report: one file that opens offline, from disk, anywhere.

Tables are rendered here as plain HTML (readable without JavaScript); the charts are drawn in
the browser by the same code as the live dashboard's, with uPlot and the run's history inlined
in the file. No CDN, no second file.

Layer: with the console and the result files (``horde.console``, ``horde.output``), above the
runner whose results it shows; the web UI and the modes use it.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import string
from pathlib import Path
from typing import Any

from horde.runner.environment import Environment
from horde.stats.entries import StatsEntry
from horde.stats.history import PERCENTILES
from horde.version import __version__

WEB = Path(__file__).resolve().parent.parent / "web"
VENDOR = WEB / "static" / "vendor"
ASSETS = WEB / "assets"

__all__ = ["ReportError", "render_report", "write_html_report"]


class ReportError(RuntimeError):
    """The report cannot be rendered or written: one sentence for the user."""


def _read(path: Path) -> str:
    if not path.exists():
        raise ReportError(
            f"cannot write the HTML report: horde's web assets are missing ({path.name}); run "
            "`make web-assets` in a clone, or reinstall horde from a wheel or an sdist"
        )
    return path.read_text()


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _when(stamp: float | None) -> str:
    if not stamp:
        return "-"
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _stats_rows(rows: list[StatsEntry]) -> str:
    out = []
    for e in rows:
        empty = e.num_requests == 0
        pcts = e.get_response_time_percentiles([0.5, 0.9, 0.95, 0.99])
        cells = [
            html.escape(e.method), html.escape(e.name), f"{e.num_requests:,}",
            f"{e.num_failures:,}",
            *("-" if empty else _ms(v) for v in (e.avg_response_time, e.min_response_time / 1000,
                                                   e.max_response_time / 1000, *pcts)),
            f"{e.avg_content_length:,.0f}", f"{e.total_rps:,.1f}", f"{e.total_fail_per_sec:,.1f}",
        ]  # fmt: skip
        out.append(
            "<tr>"
            + "".join(f'<td class="{"num" if i > 1 else ""}">{c}</td>' for i, c in enumerate(cells))
            + "</tr>"
        )
    return "\n".join(out)


def _thresholds_html(verdicts: list[dict[str, Any]]) -> str:
    if not verdicts:
        return ""
    rows = []
    for v in verdicts:
        measured = "-" if v["measured"] is None else f"{v['measured']:.4g} {v.get('unit', '')}"
        verdict = "pass" if v["passed"] else "fail"
        rows.append(
            f"<tr><td>{html.escape(v['threshold'])}</td><td>{html.escape(v['row'] or '-')}</td>"
            f'<td class="num">{html.escape(measured)}</td>'
            f'<td class="{verdict}">{verdict.upper()}</td></tr>'
        )
    return (
        '<h2 class="section">Thresholds</h2><table class="data" id="thresholds-table"><thead>'
        '<tr><th>Threshold</th><th>Row</th><th class="num">Measured</th><th>Verdict</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _capacity_html(capacity: dict[str, Any] | None) -> str:
    """The search's answer, its steps, and a box for the chart drawn by charts.js."""
    if not capacity:
        return ""
    rows = []
    for s in capacity["steps"]:
        verdict = "pass" if s["passed"] else "fail"
        mark = " (capacity)" if s["load"] == capacity["max_load"] and s["passed"] else ""
        broken = ", ".join(v["threshold"] for v in s["verdicts"] if not v["passed"])
        if s.get("generator_limited"):
            broken = (broken + "; " if broken else "") + "horde itself saturated: not counted"
        cells = [
            str(s["index"]), s["phase"], f"{s['load']:g}", f"{s['rps']:,.1f}",
            f"{s['fail_ratio']:.2%}", _ms(s["p50"]), _ms(s["p95"]), _ms(s["p99"]), str(s["late"]),
        ]  # fmt: skip
        rows.append(
            "<tr>"
            + "".join(f'<td class="num">{html.escape(c)}</td>' for c in cells)
            + f'<td class="{verdict}">{"met" if s["passed"] else "broken"}{mark}</td>'
            + f"<td>{html.escape(broken)}</td></tr>"
        )
    head = "".join(
        f'<th class="num">{h}</th>'
        for h in ("#", "Phase", "Load", "req/s", "Failed", "p50", "p95", "p99", "Late")
    )
    return (
        '<h2 class="section">Capacity search</h2>'
        f'<p id="capacity-headline"><b>{html.escape(capacity["headline"])}</b><br>'
        f"SLO: {html.escape(', '.join(capacity['slo']))}; search ended: "
        f"{html.escape(capacity['reason'])}.</p>"
        '<div id="capacity-chart"></div>'
        f'<table class="data" id="capacity-table"><thead><tr>{head}<th>SLO</th><th>Broken by</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>" + _usl_html(capacity.get("usl"))
    )


def _health_html(health: dict[str, Any] | None) -> str:
    """A banner when horde itself was saturated: the figures below include its queueing."""
    if not health or not health.get("saturated"):
        return ""
    return (
        '<p class="banner health" id="health-banner" role="alert"><b>horde itself was saturated '
        f"during this run.</b> {html.escape(health['message'])}</p>"
    )


def _health_fact(health: dict[str, Any] | None) -> str:
    if not health or not health.get("sampled"):
        return "not measured"
    cpu, lag = health["cpu_percent"]["max"], health["loop_lag_ms"]["p99"]
    figures = f"CPU at most {cpu:.0f}% of one core, loop lag p99 {lag:.1f} ms"
    if health["saturated"]:
        return f"SATURATED {health['seconds_saturated']} of {health['seconds']} s ({figures})"
    return f"healthy ({figures})"


def _usl_html(fit: dict[str, Any] | None) -> str:
    """The scalability fit's reading and coefficients, and a box for its chart."""
    if not fit:
        return ""
    if "error" in fit:
        return f'<p id="usl-reading" class="muted">{html.escape(fit["reading"])}</p>'

    def value(key: str, digits: str = ".3g") -> str:
        half = fit.get(f"{key}_ci95")
        text = format(fit[key], digits)
        return f"{text} ± {format(half, digits)}" if half else text

    rows = [
        ("λ (throughput of one unit of load alone)", value("lambda", ",.1f") + " req/s"),
        ("σ (contention)", value("sigma")),
        ("κ (coherency)", value("kappa")),
        ("R² (throughput)", f"{fit['r_squared']:.3f}"),
    ]
    if fit.get("peak_load") is not None:
        rows.append((f"N* (peak, in {fit['concurrency']})", value("peak_load", ",.1f")))
    if fit.get("peak_throughput") is not None:
        label = "Peak throughput" if fit.get("peak_load") is not None else "Ceiling (λ/σ)"
        rows.append((label, value("peak_throughput", ",.1f") + " req/s"))
    cells = "".join(
        f'<tr><td>{html.escape(k)}</td><td class="num">{html.escape(v)}</td></tr>' for k, v in rows
    )
    return (
        '<h3 class="section">Scalability (Universal Scalability Law)</h3>'
        f'<p id="usl-reading"><b>{html.escape(fit["reading"])}</b></p>'
        '<div id="usl-chart"></div>'
        f'<table class="data" id="usl-table"><tbody>{cells}</tbody></table>'
        '<p class="muted">X(N) = λN / (1 + σ(N-1) + κN(N-1)), fitted to the steps horde was not '
        "saturated in (successful requests/s); ± are 95% confidence intervals.</p>"
    )


def _open_model_html(results: dict[str, Any] | None) -> str:
    if not results:
        return ""
    service = results["service_time"]["total"]["percentiles"]
    facts = [
        ("Iterations due", f"{results['scheduled_iterations']:,}"),
        ("Started", f"{results['started_iterations']:,}"),
        ("Late (waited for a slot)", f"{results['late_iterations']:,}"),
        ("Dropped", f"{results['dropped_iterations']:,}"),
        ("Max start delay", f"{results['max_start_delay_ms']:,.1f} ms"),
        ("Achieved rate", f"{results['achieved_rate']:,.1f}/s"),
        ("Service time p50 / p95 / p99", f"{service['50']:.1f} / {service['95']:.1f} / "
         f"{service['99']:.1f} ms"),
        ("Max concurrency", f"{results['max_concurrency']:,}"),
    ]  # fmt: skip
    cells = "".join(f"<div><span>{k}</span><b>{html.escape(v)}</b></div>" for k, v in facts)
    return (
        '<h2 class="section">Open model</h2><p class="muted">Response times in this report are '
        "counted from each iteration's planned start, so a slow server cannot hide its slowness "
        "(no coordinated omission); the service time is from sending to the last byte.</p>"
        f'<div class="facts" id="open-model">{cells}</div>'
    )


def render_report(environment: Environment, meta: dict[str, Any]) -> str:
    stats = environment.stats
    entries = stats.sorted_entries()
    history = [
        {k: r.get(k) for k in ("timestamp", "rps", "fail_per_sec", "p50", "p95", "p99",
                               "user_count", "requests", "failures", "target", "achieved",
                               "generator_cpu", "loop_lag", "generator_saturated")}
        for r in stats.history.rows
    ]  # fmt: skip
    # The test's own record, which a "Reset stats" in the web UI leaves alone.
    peak = stats.peak_user_count or max((r["user_count"] or 0 for r in history), default=0)
    failures = sorted(stats.errors.values(), key=lambda e: -e.occurrences)
    exceptions = sorted(stats.exceptions.values(), key=lambda e: -e.count)
    failure_rows = (
        "\n".join(
            f'<tr><td class="num">{e.occurrences:,}</td><td>{html.escape(e.method)}</td>'
            f'<td>{html.escape(e.name)}</td><td class="wrap">{html.escape(e.error)}</td>'
            f'<td class="time">{_when(e.first_seen)}</td><td class="time">{_when(e.last_seen)}</td>'
            "</tr>"
            for e in failures
        )
        or '<tr><td colspan="6">No failures.</td></tr>'
    )
    exception_rows = (
        "\n".join(
            f'<tr><td class="num">{e.count:,}</td><td>{html.escape(e.where)}</td>'
            f'<td class="wrap">{html.escape(e.msg)}</td>'
            f"<td><pre>{html.escape(e.traceback)}</pre></td></tr>"
            for e in exceptions
        )
        or '<tr><td colspan="4">No exceptions.</td></tr>'
    )
    percentile_head = "".join(f"<th>{q * 100:g}%</th>" for q in PERCENTILES)
    percentile_rows = "\n".join(
        f"<tr><td>{html.escape(e.method)}</td><td>{html.escape(e.name)}</td>"
        + "".join(
            f'<td class="num">{"-" if not e.num_requests else _ms(v)}</td>'
            for v in e.get_response_time_percentiles(list(PERCENTILES))
        )
        + "</tr>"
        for e in [*entries, stats.total]
    )
    duration = meta.get("duration") or 0
    facts = [
        ("Scenario", html.escape(str(meta.get("scenario") or "-"))),
        ("Host", html.escape(str(meta.get("host") or "-"))),
        ("User classes", html.escape(", ".join(meta.get("user_classes") or []))),
        (
            "In flight (peak)" if meta.get("open_model") else "Users (peak)",
            f"{peak:,}",
        ),
        ("Start", _when(meta.get("start_time"))),
        ("End", _when(meta.get("end_time"))),
        ("Duration", f"{duration:,.0f} s"),
        ("Ended because", html.escape(str(meta.get("stop_reason") or "-"))),
        ("Load generator", html.escape(_health_fact(meta.get("generator_health")))),
    ]
    if meta.get("load_model"):
        facts.insert(3, ("Load model", html.escape(str(meta["load_model"]))))
    facts_html = "".join(f"<div><span>{k}</span><b>{v}</b></div>" for k, v in facts)
    data = json.dumps(history).replace("</", "<\\/")
    chart_options = json.dumps(
        {
            "openModel": bool(meta.get("open_model")),
            "markers": list(stats.markers),
            "generator": any(r.get("generator_cpu") is not None for r in history),
        }
    ).replace("</", "<\\/")
    capacity = meta.get("capacity")
    from horde.report.comparison import comparison_section

    page = string.Template(_read(Path(__file__).with_name("template.html")))
    return page.substitute(
        title_host=html.escape(str(meta.get("host") or "")),
        uplot_css=_read(VENDOR / "uPlot.min.css"),
        app_css=_read(ASSETS / "app.css"),
        version=__version__,
        facts=facts_html,
        health=_health_html(meta.get("generator_health")),
        thresholds=_thresholds_html(meta.get("thresholds") or []),
        comparison=comparison_section(meta.get("comparison")),
        history_css=_read(ASSETS / "history.css"),
        capacity=_capacity_html(capacity),
        capacity_data=json.dumps(capacity).replace("</", "<\\/") if capacity else "null",
        open_model=_open_model_html(meta.get("open_model")),
        stats_rows=_stats_rows(entries),
        total_row=_stats_rows([stats.total]),
        percentile_head=percentile_head,
        percentile_rows=percentile_rows,
        failure_rows=failure_rows,
        exception_rows=exception_rows,
        uplot_js=_read(VENDOR / "uPlot.iife.min.js"),
        charts_js=_read(ASSETS / "charts.js"),
        data=data,
        chart_options=chart_options,
    )


def write_html_report(environment: Environment, path: str | Path, meta: dict[str, Any]) -> Path:
    """Render and write the report; ReportError (one sentence) when either cannot be done."""
    target = Path(path)
    body = render_report(environment, meta)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    except OSError as exc:
        raise ReportError(
            f"cannot write the HTML report to {target}: {exc.strerror or exc}"
        ) from None
    return target
