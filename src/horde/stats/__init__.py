"""Statistics of a run: exact histograms, rows per request name, failures, history, exports.

Layer: just above the bottom (units, version, events, exceptions). It knows nothing about HTTP,
scenarios or the runner: clients record into it, and the runner, the console, the web UI and
the exporters read from it.
"""

from horde.stats.entries import StatsEntry
from horde.stats.errors import ExceptionEntry, StatsError
from horde.stats.histogram import Histogram
from horde.stats.history import PERCENTILES, StatsHistory
from horde.stats.request_stats import AGGREGATED_NAME, RequestStats

__all__ = [
    "AGGREGATED_NAME",
    "PERCENTILES",
    "ExceptionEntry",
    "Histogram",
    "RequestStats",
    "StatsEntry",
    "StatsError",
    "StatsHistory",
]
