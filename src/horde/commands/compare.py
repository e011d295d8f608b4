"""``horde compare [BASELINE] [CANDIDATE]``: did the candidate run regress against the baseline?

Without arguments, the last run is compared with the run before it of the same scenario and
host; with one, that run is the baseline and the last run of its scenario and host the
candidate. Exit code 1 when the candidate regressed, 0 otherwise, 2 for a usage error (an
unknown run, a bad flag). ``--json`` prints the comparison as JSON, ``--html PATH`` writes a
self-contained report with the two runs' charts overlaid.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from horde.commands.common import CommandParser, add_store_arguments, open_history, settings_of
from horde.comparison import DEFAULT_FAIL_TOLERANCE, DEFAULT_TOLERANCE, compare_runs
from horde.exceptions import ScenarioError
from horde.history import HistoryError, HistoryStore, RunQuery, describe_location, resolve_ref
from horde.options import add_tolerance_arguments

__all__ = ["build_parser", "run_compare"]


def build_parser() -> CommandParser:
    parser = CommandParser(
        prog="horde compare",
        description="Compare two saved runs: for each request name and the aggregate, the "
        "change in median, p95, p99, throughput and failure ratio, with confidence intervals, "
        "and a verdict (regressed, improved, unchanged, not enough data). Exit code 1 when the "
        "candidate regressed.",
        epilog="A run is a run id (12 or #12), a tag, 'last' or 'last~N'. Without runs: the last "
        "run against the one before it of the same scenario and host. See "
        "docs/comparing-runs.md for the method and its measured error rates.",
    )
    parser.add_argument("baseline", nargs="?", metavar="BASELINE", help="the reference run")
    parser.add_argument("candidate", nargs="?", metavar="CANDIDATE", help="the run to judge")
    add_tolerance_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.add_argument(
        "--html", metavar="PATH", help="write a self-contained HTML comparison report"
    )
    add_store_arguments(parser)
    return parser


def _pick(store: HistoryStore, baseline: str | None, candidate: str | None) -> tuple[int, int]:
    """The ids of the two runs, with the defaults described above."""
    where = describe_location(store.location)
    if candidate is not None:
        assert baseline is not None
        return resolve_ref(store, baseline), resolve_ref(store, candidate)
    if baseline is not None:
        base = store.load(resolve_ref(store, baseline), with_data=False)
        latest = [
            r.id
            for r in store.runs(RunQuery(scenario=base.scenario, host=base.host, limit=2))
            if r.id is not None and r.id != base.id
        ]
        if not latest:
            raise HistoryError(
                f"no other run of {base.scenario} on {base.host} in the history at {where} to "
                f"compare with #{base.id}"
            )
        return int(base.id or 0), latest[0]
    last = store.nth_latest(0, None, None)
    if last is None:
        raise HistoryError(f"no runs in the history at {where}")
    newest = store.load(last, with_data=False)
    before = store.nth_latest(1, newest.scenario, newest.host)
    if before is None:
        raise HistoryError(
            f"only one run of {newest.scenario} on {newest.host} in the history at {where}: "
            "nothing to compare it with yet"
        )
    return before, last


def run_compare(argv: Sequence[str]) -> int:
    options = build_parser().parse_args(list(argv))
    values = settings_of(options, {"history", "tolerance", "fail_tolerance"})
    store = open_history(values.get("history"))
    try:
        baseline_id, candidate_id = _pick(store, options.baseline, options.candidate)
        if baseline_id == candidate_id:
            raise ScenarioError(f"#{baseline_id} is both the baseline and the candidate")
        baseline, candidate = store.load(baseline_id), store.load(candidate_id)
    except HistoryError as exc:
        raise ScenarioError(str(exc)) from None
    finally:
        store.close()
    comparison = compare_runs(
        baseline,
        candidate,
        values.get("tolerance", DEFAULT_TOLERANCE),
        values.get("fail_tolerance", DEFAULT_FAIL_TOLERANCE),
    )
    if options.json:
        print(json.dumps(comparison.to_dict(), indent=2))
    else:
        from rich.console import Console

        from horde.comparison.table import comparison_renderable

        Console().print(comparison_renderable(comparison))
    if options.html:
        from horde.report import ReportError
        from horde.report.comparison import write_comparison_report

        try:
            path = write_comparison_report(comparison, baseline, candidate, Path(options.html))
        except ReportError as exc:
            print(f"horde: error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {path}", file=sys.stderr)
    return 1 if comparison.regressed else 0
