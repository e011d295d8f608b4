"""What a run leaves in the history, and its comparison with a baseline (``--baseline``).

Every mode ends through ``horde.modes.conclusion``, which calls these: ``check_baseline`` before
any load (a baseline that does not exist is a usage error, not a surprise after an hour),
``record_run`` and ``compare_with_baseline`` before the summary and the files (so that the
JSON and the HTML report carry the comparison), and ``save_record`` last, after the files: the
history never costs a run its other outputs or its exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from horde.exceptions import ScenarioError
from horde.history import HistoryError, RunRecord, build_record, open_store, resolve_ref
from horde.history.saving import save_run
from horde.runner.environment import Environment
from horde.settings import Settings

if TYPE_CHECKING:
    from horde.comparison import Comparison

__all__ = [
    "check_baseline",
    "compare_with_baseline",
    "mode_of",
    "record_run",
    "save_record",
    "wants_record",
]


def wants_record(options: Settings) -> bool:
    """Whether the run is recorded: to be saved, or to be compared with its baseline."""
    return not options.no_history or options.baseline is not None


def _scope(environment: Environment) -> tuple[str | None, str | None]:
    """The scenario and host a run's ``last`` refers to."""
    from pathlib import Path

    from horde.history.record import target_host

    path = environment.scenario_path
    return (Path(path).name if path else None), target_host(environment)


def check_baseline(options: Settings, environment: Environment) -> None:
    """Before any load: the baseline named by ``--baseline`` exists (else ScenarioError)."""
    if options.baseline is None:
        return
    scenario, host = _scope(environment)
    try:
        store = open_store(options.history, create=False)
        try:
            resolve_ref(store, options.baseline, scenario, host)
        finally:
            store.close()
    except HistoryError as exc:
        raise ScenarioError(f"--baseline {options.baseline}: {exc}") from None


def mode_of(options: Settings, meta: dict[str, Any]) -> str:
    if meta.get("capacity") is not None:
        return "capacity"
    if meta.get("workers") is not None:
        return "master"
    return "headless" if options.headless else "web"


def record_run(
    environment: Environment, options: Settings, meta: dict[str, Any]
) -> tuple[RunRecord | None, str | None]:
    """The run's record, or (None, a warning) when it cannot be made (never raises)."""
    try:
        return build_record(environment, options, meta, mode_of(options, meta)), None
    except Exception as exc:  # the history is on the side: the run goes on without it
        return None, f"the run could not be recorded for the history: {exc}"


def compare_with_baseline(
    options: Settings, record: RunRecord
) -> tuple[Comparison | None, str | None]:
    """The comparison of this run with ``--baseline``, or (None, why it could not run)."""
    from horde.comparison import compare_runs

    assert options.baseline is not None
    try:
        store = open_store(options.history, create=False)
        try:
            baseline_id = resolve_ref(store, options.baseline, record.scenario, record.host)
            baseline = store.load(baseline_id)
        finally:
            store.close()
    except HistoryError as exc:
        return None, f"--baseline {options.baseline}: the comparison could not run: {exc}"
    try:
        comparison = compare_runs(
            baseline, record, options.tolerance, options.fail_tolerance, candidate_label="this run"
        )
    except Exception as exc:  # the summary and the files come first, whatever happens here
        return None, f"--baseline {options.baseline}: the comparison failed: {exc!r}"
    return comparison, None


def save_record(
    options: Settings, record: RunRecord, comparison: Comparison | None, code: int
) -> tuple[int | None, str | None]:
    """Save the run (unless ``--no-history``); (its id, None) or (None, a warning)."""
    if options.no_history:
        return None, None
    if comparison is not None:
        verdict = f"{comparison.verdict} vs {comparison.baseline.label}"
        record.verdict = f"{record.verdict}; {verdict}" if record.verdict else verdict
        record.document.setdefault("meta", {})["comparison"] = comparison.to_dict()
    record.exit_code = code
    return save_run(options.history, record)
