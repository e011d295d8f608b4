"""Comparing runs: did the candidate get slower than the baseline, beyond the noise?

``estimate`` measures how precisely each run measured each figure (a block bootstrap over its
seconds, since latencies within a run are autocorrelated); ``compare`` turns two runs into
changes with confidence intervals and verdicts, holding the family's false-positive rate with
Holm's procedure; ``tdist`` is Student's t; ``table`` prints a comparison on the console.
docs/comparing-runs.md describes the method and publishes its measured error rates.

Layer: above the history (it compares stored records), below the console, report and web UI.
"""

from horde.comparison.compare import (
    DEFAULT_FAIL_TOLERANCE,
    DEFAULT_TOLERANCE,
    IMPROVED,
    NOT_ENOUGH_DATA,
    REGRESSED,
    UNCHANGED,
    Comparison,
    compare_runs,
)

__all__ = [
    "DEFAULT_FAIL_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "IMPROVED",
    "NOT_ENOUGH_DATA",
    "REGRESSED",
    "UNCHANGED",
    "Comparison",
    "compare_runs",
]
