"""``horde history``: list the saved runs, show one, name one (``--tag``), forget one.

horde history                          the last 20 runs, newest first
horde history --scenario basic.py --host http://127.0.0.1:8000 --since 7d
horde history --show last --json       one run's full result document (what --json wrote)
horde history --tag release-1.4 12     name run #12 (a tag names one run: it moves)
horde history --untag release-1.4
horde history --delete 12
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

from horde.commands.common import (
    CommandParser,
    add_store_arguments,
    open_history,
    parse_since,
    settings_of,
)
from horde.exceptions import ScenarioError
from horde.history import (
    HistoryError,
    HistoryStore,
    RunQuery,
    RunRecord,
    describe_location,
    resolve_ref,
    valid_tag,
)
from horde.markup import plain

__all__ = ["build_parser", "run_history"]


def build_parser() -> CommandParser:
    parser = CommandParser(
        prog="horde history",
        description="List the runs saved in the history, show one, tag one, or delete one.",
        epilog="RUN is a run id (12 or #12), a tag, 'last' or 'last~N' (N runs before the last).",
    )
    parser.add_argument("--scenario", metavar="NAME", help="only runs of this scenario file")
    parser.add_argument("--host", metavar="URL", help="only runs against this host")
    parser.add_argument("--tagged", metavar="NAME", help="only the run with this tag")
    parser.add_argument(
        "--since", metavar="WHEN", help="only runs since then: 2d, 12h, 30m, or 2026-11-01"
    )
    parser.add_argument(
        "-n", "--limit", type=int, default=20, metavar="N", help="at most N runs (default 20)"
    )
    parser.add_argument("--all", action="store_true", help="every run (no limit)")
    parser.add_argument("--show", metavar="RUN", help="one run: its facts and statistics")
    parser.add_argument(
        "--tag", nargs=2, metavar=("NAME", "RUN"), help="name a run (moves the tag if it exists)"
    )
    parser.add_argument("--untag", metavar="NAME", help="remove a tag")
    parser.add_argument("--delete", metavar="RUN", help="delete a run from the history")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_store_arguments(parser)
    return parser


def run_history(argv: Sequence[str]) -> int:
    options = build_parser().parse_args(list(argv))
    location = settings_of(options, {"history"}).get("history")
    store = open_history(location)
    try:
        return _act(store, options)
    except HistoryError as exc:
        raise ScenarioError(str(exc)) from None
    finally:
        store.close()


def _act(store: HistoryStore, options: Any) -> int:
    where = describe_location(store.location)
    if options.tag:
        name, ref = options.tag
        try:
            name = valid_tag(name)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
        run_id = resolve_ref(store, ref)
        moved = store.tag(name, run_id)
        note = f" (it named #{moved} before)" if moved is not None else ""
        print(f"tagged run #{run_id} as {name}{note}")
        return 0
    if options.untag:
        if not store.untag(options.untag):
            raise ScenarioError(f"no tag {options.untag!r} in the history at {where}")
        print(f"removed tag {options.untag}")
        return 0
    if options.delete:
        run_id = resolve_ref(store, options.delete)
        store.delete(run_id)
        print(f"deleted run #{run_id}")
        return 0
    if options.show:
        record = store.load(resolve_ref(store, options.show))
        if options.json:
            print(json.dumps({**record.summary(), "document": record.document}, indent=2))
        else:
            _print_run(record)
        return 0
    query = RunQuery(
        scenario=options.scenario,
        host=options.host.rstrip("/") if options.host else None,
        tag=options.tagged,
        since=parse_since(options.since) if options.since else None,
        limit=None if options.all else max(1, options.limit),
    )
    runs = store.runs(query)
    if options.json:
        print(json.dumps([r.summary() for r in runs], indent=2))
        return 0
    if not runs:
        print(f"no runs in the history at {where} match", file=sys.stderr)
        return 0
    _print_list(runs, where)
    return 0


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _print_list(runs: list[RunRecord], where: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Runs in {where}", title_justify="left", header_style="bold")
    # Piped or in a CI log, rows stay whole rather than wrap at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    for column in ("ID", "When", "Scenario", "Host", "Load", "Requests", "Failed", "p95 ms"):
        table.add_column(column, justify="right" if column in ("ID", "Requests", "Failed",
                                                                "p95 ms") else "left")  # fmt: skip
    table.add_column("Verdict")
    table.add_column("Tags")
    for r in runs:
        table.add_row(
            f"#{r.id}",
            _when(r.started_at),
            plain(r.scenario),
            plain(r.host or "-"),
            plain(r.load),
            f"{r.requests:,}",
            f"{r.fail_ratio:.2%}",
            _ms(r.p95),
            plain(r.verdict or "-"),
            plain(", ".join(r.tags)),
        )
    console.print(table)


def _print_run(record: RunRecord) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    commit = record.git_commit or "-"
    if record.git_commit and record.git_dirty:
        commit += " (with uncommitted changes)"
    for label, value in (
        ("Run", f"#{record.id}" + (f" ({', '.join(record.tags)})" if record.tags else "")),
        ("When", f"{_when(record.started_at)}, {record.duration:.0f} s ({record.mode})"),
        ("Scenario", f"{record.scenario} ({(record.scenario_hash or '-')[:12]})"),
        ("Host", record.host or "-"),
        ("Load", record.load),
        ("Generator", record.machine),
        ("Git", commit),
        ("Verdict", record.verdict or "-"),
    ):
        facts.add_row(label, plain(value))
    console.print(facts)
    table = Table(header_style="bold")
    for column in ("Type", "Name", "Requests", "Failed", "Median", "p95", "p99", "req/s"):
        table.add_column(column, justify="left" if column in ("Type", "Name") else "right")
    document = record.document
    for row in [*document.get("stats", []), document.get("total") or {}]:
        if not row:
            continue
        pct = row.get("percentiles", {})
        table.add_row(
            plain(row.get("method", "")),
            plain(row.get("name", "")),
            f"{row.get('num_requests', 0):,}",
            f"{row.get('fail_ratio', 0):.2%}",
            _ms(pct.get("50", 0)),
            _ms(pct.get("95", 0)),
            _ms(pct.get("99", 0)),
            f"{row.get('total_rps', 0):,.1f}",
        )
    console.print(table)
