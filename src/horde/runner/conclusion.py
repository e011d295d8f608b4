"""How every run ends, however it was driven (console, web UI, distributed master).

Users are stopped by then; what is left is the same everywhere and must stay the same: print the
summary, write every file that was asked for, tell listeners, and choose the exit code.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from horde.output import write_results
from horde.runner.environment import Environment

if TYPE_CHECKING:
    from horde.console import Console

__all__ = ["conclude", "exit_code", "run_meta"]


def run_meta(
    environment: Environment, options: argparse.Namespace, started: float, ended: float
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


def exit_code(environment: Environment, options: argparse.Namespace) -> int:
    """0, or ``--exit-code-on-error`` when requests failed or scenario code raised (Locust's)."""
    stats = environment.stats
    if stats.total.num_failures or stats.exceptions:
        return int(options.exit_code_on_error)
    return 0


def conclude(
    environment: Environment,
    options: argparse.Namespace,
    meta: dict[str, Any],
    console: Console,
    extra: Any = None,
) -> int:
    """Summary (and ``extra``, a table to print after it), files, ``quitting``; the exit code."""
    console.print_summary()
    if extra is not None:
        console.console.print(extra)
    for path in write_results(environment, options, meta):
        print(f"wrote {path}", file=sys.stderr)
    environment.events.quitting.fire(environment=environment)
    return exit_code(environment, options)
