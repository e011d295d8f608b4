"""How every run ends, however it was driven (console, web UI, distributed master).

Users are stopped by then; what is left is the same everywhere and must stay the same: print the
summary, write every file that was asked for, tell listeners, and choose the exit code.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from horde.history import DEFAULT_PATH, describe_location
from horde.modes.recording import compare_with_baseline, record_run, save_record, wants_record
from horde.output import write_results
from horde.runner.environment import Environment
from horde.settings import Settings
from horde.thresholds import evaluate

if TYPE_CHECKING:
    from horde.console import Console

__all__ = ["FILES_NOT_WRITTEN", "conclude", "exit_code", "no_user_could_start", "run_meta"]

# The exit code when a result file asked for (--csv, --json, --html) could not be written.
FILES_NOT_WRITTEN = 2


def run_meta(
    environment: Environment, options: Settings, started: float, ended: float
) -> dict[str, Any]:
    """What the result files say about the run itself."""
    return {
        "scenario": environment.scenario_path,
        "host": environment.host,
        "user_classes": [c.__name__ for c in environment.user_classes],
        "users": options.users,
        "spawn_rate": options.spawn_rate,
        "run_time": options.run_time,
        "start_time": started,
        "end_time": ended,
        "duration": ended - started,
        "stop_reason": environment.stop_reason,
    }


LISTENER_FAILED = 2
"""The exit code when an event listener raised and nothing else failed (Locust's)."""


def exit_code(environment: Environment, options: Settings) -> int:
    """Locust's rule: ``environment.process_exit_code`` when scenario code set one; else
    ``--exit-code-on-error`` when requests failed or scenario code raised; else 2 when an event
    listener raised; else 0. Never 0 when no user could start, whatever
    ``--exit-code-on-error`` says: such a run tested nothing."""
    if environment.process_exit_code is not None:
        return int(environment.process_exit_code)
    stats = environment.stats
    code = 0
    if stats.total.num_failures or stats.exceptions:
        code = int(options.exit_code_on_error)
    elif environment.listener_failures:
        code = LISTENER_FAILED
    if no_user_could_start(environment):
        code = code or 1
    return code


_START_STEPS = (".__init__", ".on_start")


def no_user_could_start(environment: Environment) -> str | None:
    """Why no user could start (its first start failure), or None when one could.

    Read from the stats, so it holds for a distributed master too: users failed in their
    constructor or ``on_start``, and nothing else happened (no request, no other exception).
    """
    stats = environment.stats
    if stats.total.num_requests or not stats.exceptions:
        return None
    failures = list(stats.exceptions.values())
    if not all(e.where.endswith(_START_STEPS) for e in failures):
        return None
    first = max(failures, key=lambda e: e.count)
    return f"{first.where} raised {first.msg}"


def conclude(
    environment: Environment,
    options: Settings,
    meta: dict[str, Any],
    console: Console,
    extra: Any = None,
    *,
    record: bool = True,
) -> int:
    """Summary (and ``extra``, a table to print after it), thresholds, the comparison with
    ``--baseline``, files, ``quitting``, the run saved to the history (unless ``record`` is
    false: the web UI saved it already); the exit code (1 when a threshold failed or the run
    regressed, if nothing else set one; 2 when a file asked for could not be written or the
    baseline could not be read)."""
    from horde.runner.stop_guard import claim_conclusion

    claim_conclusion()  # one thread writes the results (the stop guard may be at it)
    thresholds = list(options.thresholds)
    verdicts = evaluate(thresholds, environment.stats) if thresholds else []
    if verdicts:
        meta["thresholds"] = verdicts
    open_model = _open_model_results(environment)
    if open_model is not None:
        meta["open_model"] = open_model
    # Whether horde itself was the bottleneck of these figures (horde.runner.health); the
    # history saves it with the run, so it comes first.
    health = meta["generator_health"] = environment.health.summary()
    warnings: list[str] = []
    run_record, comparison, baseline_problem = None, None, None
    if (record and wants_record(options)) or options.baseline is not None:
        run_record, problem = record_run(environment, options, meta)
        warnings += [problem] if problem else []
    if options.baseline is not None:
        if run_record is None:
            baseline_problem = f"--baseline {options.baseline}: this run has no record to compare"
        else:
            comparison, baseline_problem = compare_with_baseline(options, run_record)
        if comparison is not None:
            meta["comparison"] = comparison.to_dict()
    try:
        console.print_summary()
        if open_model is not None:
            console.console.print(open_model_table(open_model))
        if extra is not None:
            console.console.print(extra)
        if verdicts:
            console.console.print(thresholds_table(verdicts))
        if comparison is not None:
            from horde.comparison.table import comparison_renderable

            console.console.print(comparison_renderable(comparison, headline=False))
        if health["sampled"]:
            from horde.console import health_line

            console.console.print(health_line(health))
    except Exception as exc:  # e.g. stdout piped to a closed `head`: the files come first
        print(f"horde: error: cannot print the summary: {exc}", file=sys.stderr)
    written, problems = write_results(environment, options, meta)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    for problem in problems:
        print(f"horde: error: {problem}", file=sys.stderr)
    why = no_user_could_start(environment)
    if why is not None:
        print(f"horde: error: no user could start: {why}", file=sys.stderr)
    if baseline_problem is not None:
        print(f"horde: error: {baseline_problem}", file=sys.stderr)
    elif comparison is not None:
        print(f"horde: {comparison.headline()}", file=sys.stderr)
    environment.events.quitting.fire(environment=environment, reverse=True)
    code = exit_code(environment, options)
    if problems or baseline_problem is not None:
        # A file asked for is missing, or the comparison asked for could not run: say so,
        # whatever the run did.
        code = FILES_NOT_WRITTEN
    elif any(not v["passed"] for v in verdicts) or (
        comparison is not None and comparison.regressed
    ):
        code = code or 1
    if record and run_record is not None:
        saved, problem = save_record(options, run_record, comparison, code)
        warnings += [problem] if problem else []
        if saved is not None:
            where = describe_location(options.history or str(DEFAULT_PATH))
            print(f"saved run #{saved} to {where}", file=sys.stderr)
    for warning in warnings:
        print(f"horde: warning: {warning}", file=sys.stderr)
    return code


def thresholds_table(verdicts: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    from horde.markup import plain

    table = Table(title="Thresholds", title_justify="left", header_style="bold")
    for column in ("Threshold", "Row", "Measured", "Verdict"):
        table.add_column(column, justify="right" if column == "Measured" else "left")
    for v in verdicts:
        measured = "-" if v["measured"] is None else f"{v['measured']:.4g} {v.get('unit', '')}"
        verdict = "[green]PASS[/]" if v["passed"] else "[red]FAIL[/]"
        table.add_row(plain(v["threshold"]), plain(v["row"] or "-"), measured.strip(), verdict)
    return table


def _open_model_results(environment: Environment) -> dict[str, Any] | None:
    """The open model's counters and its raw service times (latency without start delay)."""
    open_model = environment.runner.open_model if environment.runner is not None else None
    if open_model is None:
        return None
    from horde.stats.json_export import entry_to_json

    service = open_model.service_stats
    results = dict(open_model.summary())
    results["service_time"] = {
        "total": entry_to_json(service.total),
        "stats": [entry_to_json(e) for e in service.sorted_entries()],
    }
    return results


def open_model_table(results: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(
        title="Open model (response times above are from each iteration's planned start)",
        title_justify="left",
        header_style="bold",
    )
    for column in ("Iterations due", "Started", "Late", "Dropped", "Max start delay", "Rate"):
        table.add_column(column, justify="right")
    table.add_column("Service time p50 / p95 / p99 (send to last byte)", justify="right")
    service = results["service_time"]["total"]["percentiles"]
    table.add_row(
        str(results["scheduled_iterations"]),
        str(results["started_iterations"]),
        str(results["late_iterations"]),
        str(results["dropped_iterations"]),
        f"{results['max_start_delay_ms']:.1f} ms",
        f"{results['achieved_rate']:.1f}/s",
        f"{service['50']:.1f} / {service['95']:.1f} / {service['99']:.1f} ms",
    )
    return table
