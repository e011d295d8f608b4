"""``--abort-on-threshold``: end a run early when a threshold is clearly broken.

A CI job that already knows its verdict should not spend its whole run time. "Clearly" matters:
early figures are noisy (cold caches, connection set-up), so a threshold only ends the run when

- it can never pass again: ``max`` above its limit, ``failures`` or ``requests`` above theirs,
  ``min`` below its limit; these only move one way as the run goes on;
- or it fails by a wide margin (``MARGIN`` times its limit, or its limit divided by it for ``>``
  rules), once the run has ``MIN_REQUESTS`` requests and ``MIN_SECONDS`` seconds behind it.

``rps`` and rules that can still come good (``requests>1000``) never end a run early. The final
verdicts are computed at the end as usual, from the whole run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from horde.thresholds import Threshold, evaluate

if TYPE_CHECKING:
    from horde.runner.environment import Environment

log = logging.getLogger("horde")

__all__ = ["ThresholdWatch", "clearly_broken"]

CHECK_SECONDS = 2.0
MIN_REQUESTS = 100
MIN_SECONDS = 10.0
MARGIN = 2.0

# Metrics that only grow (or only shrink) during a run: once over the limit, over for good.
_ONLY_GROWS = {"max", "failures", "requests"}
_ONLY_SHRINKS = {"min"}
_STATISTICAL_PREFIXES = ("p",)
_STATISTICAL = {"avg", "med", "fail_ratio"}


def clearly_broken(
    threshold: Threshold, verdict: dict[str, Any], requests: int, seconds: float
) -> bool:
    """Whether a failed ``verdict`` of ``threshold`` is beyond recovery or beyond doubt."""
    measured: float | None = verdict.get("measured")
    if verdict["passed"] or measured is None:
        return False
    below = threshold.op in ("<", "<=")  # the rule wants the value small
    metric = threshold.metric
    if (metric in _ONLY_GROWS and below) or (metric in _ONLY_SHRINKS and not below):
        return True
    statistical = metric in _STATISTICAL or metric.startswith(_STATISTICAL_PREFIXES)
    if not statistical or requests < MIN_REQUESTS or seconds < MIN_SECONDS:
        return False
    if below:
        return measured >= threshold.limit * MARGIN
    return measured <= threshold.limit / MARGIN


class ThresholdWatch:
    """Checks the thresholds every ``CHECK_SECONDS`` and asks the run to stop on a clear break."""

    def __init__(self, environment: Environment, thresholds: list[Threshold]) -> None:
        self.environment = environment
        self.thresholds = thresholds
        self._task: asyncio.Task[None] | None = None
        self._started = time.monotonic()

    def start(self) -> None:
        self._started = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            reason = self.check()
            if reason:
                log.warning("%s: stopping the run", reason)
                self.environment.request_test_stop(reason)
                return

    def check(self) -> str | None:
        """The reason to stop now, or None."""
        stats = self.environment.stats
        seconds = time.monotonic() - self._started
        requests = stats.total.num_requests
        for threshold in self.thresholds:
            for verdict in evaluate([threshold], stats):
                if clearly_broken(threshold, verdict, requests, seconds):
                    unit = verdict.get("unit", "")
                    return (
                        f"threshold {threshold.expression} clearly broken "
                        f"(measured {verdict['measured']:.4g}{' ' + unit if unit else ''})"
                    )
        return None
