"""Save a run to the history without ever failing the run.

The history is a record kept on the side: a file that cannot be written or a database that
does not answer must not cost the run its summary, its result files or its exit code. Saving
is the last thing a run does, and a failure is one warning sentence.
"""

from __future__ import annotations

from horde.history.record import RunRecord
from horde.history.store import DEFAULT_PATH, HistoryError, describe_location, open_store

__all__ = ["save_run"]


def save_run(location: str | None, record: RunRecord) -> tuple[int | None, str | None]:
    """Save ``record``; (its id, None), or (None, the warning to print)."""
    where = describe_location(location or str(DEFAULT_PATH))
    try:
        store = open_store(location)
        try:
            run_id = store.save(record)
        finally:
            store.close()
    except HistoryError as exc:
        return None, f"the run was not saved: {exc}"
    except Exception as exc:  # whatever it is, the run has its results already
        reason = str(exc) or type(exc).__name__
        return None, f"the run was not saved to the history at {where}: {reason}"
    return run_id, None
