"""What the rest of horde sees of a runner, whichever makes the load.

Three runners make load in different ways: ``LocalRunner`` runs users on this process's loop (the
closed model), ``ArrivalRateRunner`` starts iterations on a schedule (the open model), and a
distributed ``MasterRunner`` has workers do either. The console, the web UI, load shapes, the
capacity search and the modes drive all of them through ``Runner`` alone, and reach what only
some runners have through two typed views instead of probing attributes:

- ``runner.open_model``: the open model's counters and raw service times, while the runner runs
  the open model (None otherwise);
- ``runner.workers_view``: the master's view of its workers (None for a runner in this process).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.lifecycle import RunnerState
    from horde.runner.load import Load
    from horde.stats import RequestStats

__all__ = ["OpenModel", "Runner", "WorkersView"]


class OpenModel(Protocol):
    """The open model's own figures (iterations rather than users)."""

    @property
    def current_rate(self) -> float:
        """The planned arrival rate now, iterations/s."""
        ...

    @property
    def started(self) -> int:
        """Iterations started so far in this test (on time or late)."""
        ...

    @property
    def late(self) -> int:
        """Iterations that waited for a free slot."""
        ...

    @property
    def dropped(self) -> int:
        """Iterations that never started (backlog full, or still waiting at the end)."""
        ...

    @property
    def pending(self) -> int:
        """Iterations started and not finished, plus those waiting for a free slot."""
        ...

    @property
    def service_stats(self) -> RequestStats:
        """Raw service times (send to last byte), beside the run's corrected ones."""
        ...

    def summary(self) -> dict[str, Any]:
        """The counters of the test, for the summary and the JSON results."""
        ...


class WorkersView(Protocol):
    """A master's view of its workers, for the web UI, the summary and the files."""

    @property
    def worker_count(self) -> int:
        """Workers connected now."""
        ...

    @property
    def cpu_percent(self) -> float:
        """The master's own CPU use, % of one core."""
        ...

    def workers_info(self) -> list[dict[str, Any]]:
        """One row per worker that ever joined, in order of joining."""
        ...

    def pass_on_options(self, changes: Mapping[str, Any]) -> None:
        """Give workers that join from now on these values of the scenario's own options."""
        ...


class Runner(Protocol):
    """Makes the load of a test: its load model, then start, change and stop.

    ``start`` begins a test (stats reset, ``test_start`` fired) at a ``Load``; ``change`` moves
    the test that runs to another one (a shape's next target, a capacity step, the web form);
    ``stop`` ends it, with the load in flight drained and recorded. Both ``start`` and
    ``change`` return at once: ramps and schedules run on the loop.
    """

    environment: Environment
    state: RunnerState
    started_at: float | None
    """When the test that runs (or ran last) began, Unix time; None before the first."""
    planned: float | None
    """The load a shape, stages or the capacity search plan for now (the chart's planned
    curve); None: the target is the plan."""

    @property
    def model(self) -> str:
        """``users`` or ``arrival_rate``: the kind of ``Load`` that start and change take."""
        ...

    def use_model(self, model: str, max_concurrency: int | None = None) -> bool:
        """Run ``model`` from the next start, if this runner can; False if it cannot (then a
        runner of that model is needed)."""
        ...

    def start(self, load: Load) -> None:
        """Begin a test and move towards ``load``."""
        ...

    def change(self, load: Load) -> None:
        """Move the test that runs towards ``load``."""
        ...

    def stop(self) -> Awaitable[None]:
        """End the test: no new load, the load in flight drained, the last second closed.
        Await what it returns for the end (scenario code may call it and carry on)."""
        ...

    def stop_users_now(self) -> None:
        """Cut a graceful stop short (a second Ctrl-C): users stop at their next request."""
        ...

    def close_second(self, now: float) -> None:
        """Close the second of stats that ends at ``now`` (the stop does it last)."""
        ...

    @property
    def user_count(self) -> int:
        """Users running now (iterations in flight, in the open model)."""
        ...

    @property
    def spawn_rate(self) -> float | None:
        """Users started (or stopped) per second in a ramp; None in the open model."""
        ...

    @property
    def target_user_count(self) -> int:
        """The users aimed for (the concurrency limit, in the open model)."""
        ...

    @property
    def user_classes_count(self) -> dict[str, int]:
        """Users running now per class name."""
        ...

    @property
    def open_model(self) -> OpenModel | None:
        """The open model's figures, while this runner runs it; else None."""
        ...

    @property
    def workers_view(self) -> WorkersView | None:
        """The view of the workers that make the load, for a master; else None."""
        ...
