"""The run history: every run's results, saved when it ends, read back to list and compare runs.

``record`` makes a run's record (columns, the full result document, exact histograms per name
and per second); ``store`` keeps records in SQLite or PostgreSQL behind one interface; ``refs``
turns what users type (``12``, a tag, ``last~1``) into run ids; ``saving`` saves a run without
ever failing it.

Layer: above the runner (a record is made from a run's environment), below the console, the
result files, the report and the web UI, which show what it holds.
"""

from horde.history.record import RunRecord, build_record
from horde.history.refs import resolve_ref, valid_tag
from horde.history.store import (
    DEFAULT_PATH,
    HistoryError,
    HistoryStore,
    RunQuery,
    describe_location,
    open_store,
)

__all__ = [
    "DEFAULT_PATH",
    "HistoryError",
    "HistoryStore",
    "RunQuery",
    "RunRecord",
    "build_record",
    "describe_location",
    "open_store",
    "resolve_ref",
    "valid_tag",
]
