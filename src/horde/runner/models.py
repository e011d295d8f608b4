"""Which load model a run uses, decided once from the options and the scenario.

- closed model (default): ``-u`` users at ``-r`` per second (``LocalRunner``);
- open model: ``--arrival-rate`` iterations per second (``ArrivalRateRunner``);
- either one following a plan over time: ``--stages``, or a ``LoadShape`` in the scenario file.

Precedence when several are given: ``--stages``, then ``--arrival-rate``, then the scenario's
shape, then ``-u``/``-r``. Conflicts a user can cause are reported as one sentence before any
load is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from horde.exceptions import ScenarioError
from horde.runner.load import ArrivalRate, Load, Users
from horde.scenario.shape import ARRIVAL_RATE, USERS, LoadShape, Stage, StagesShape
from horde.settings import Settings

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.interface import Runner
    from horde.runner.shapes import ShapeDriver

__all__ = ["LoadPlan", "build_runner", "choose_load_plan", "start_load"]


@dataclass
class LoadPlan:
    """What to run: the model, and either a fixed target or a shape to follow."""

    model: str  # USERS or ARRIVAL_RATE
    users: int = 0
    spawn_rate: float = 1.0
    rate: float = 0.0
    shape: LoadShape | None = None

    def load(self) -> Load:
        """The fixed load of a plan without a shape."""
        if self.model == ARRIVAL_RATE:
            return ArrivalRate(self.rate)
        return Users(self.users, self.spawn_rate)

    def describe(self) -> str:
        if self.shape is not None:
            kind = "stages" if isinstance(self.shape, StagesShape) else "load shape"
            unit = "iterations/s" if self.model == ARRIVAL_RATE else "users"
            return f"{kind} ({type(self.shape).__name__}, targets in {unit})"
        if self.model == ARRIVAL_RATE:
            return f"arrival rate {self.rate:g}/s"
        return f"{self.users} users at {self.spawn_rate:g}/s"


def choose_load_plan(environment: Environment, options: Settings) -> LoadPlan:
    stages = options.stages
    arrival = options.arrival_rate
    if stages is not None:
        model, plan = stages
        if arrival is not None:
            raise ScenarioError(
                "--stages and --arrival-rate both set the load: give the rates in --stages "
                "(e.g. '30s:50/s,1m:50/s')"
            )
        return LoadPlan(model, shape=StagesShape(plan, model))
    if arrival is not None:
        first, last = arrival
        if first == last:
            return LoadPlan(ARRIVAL_RATE, rate=first)
        if not options.run_time:
            raise ScenarioError(
                f"--arrival-rate {first:g}/s..{last:g}/s ramps over the run time: add -t, "
                "e.g. -t 2m"
            )
        shape = StagesShape([Stage(options.run_time, last)], ARRIVAL_RATE, start=first)
        return LoadPlan(ARRIVAL_RATE, shape=shape)
    shape_class = environment.shape_class
    if shape_class is not None:
        try:
            shape = shape_class()
        except Exception as exc:
            raise ScenarioError(
                f"cannot create load shape {shape_class.__name__}: {type(exc).__name__}: {exc}"
            ) from None
        return LoadPlan(shape.model, shape=shape)
    return LoadPlan(USERS, users=int(options.users), spawn_rate=float(options.spawn_rate))


def build_runner(environment: Environment, plan: LoadPlan, options: Settings) -> Runner:
    """The runner for the plan's model (it sets itself as ``environment.runner``)."""
    return runner_for_model(environment, plan.model, options.max_concurrency)


def runner_for_model(
    environment: Environment,
    model: str,
    max_concurrency: int | None = None,
    current: Runner | None = None,
) -> Runner:
    """A runner for ``model``, keeping ``current`` where it can run it (``use_model``).

    A distributed master runs either model itself (its workers switch), so it is kept; a local
    runner of users is kept for users; anything else is replaced, since a runner in this
    process serves one model for its whole life.
    """
    if current is not None and current.use_model(model, max_concurrency):
        return current
    if model == ARRIVAL_RATE:
        from horde.runner.arrival_rate import ArrivalRateRunner

        return ArrivalRateRunner(environment, max_concurrency)
    from horde.runner.local import LocalRunner

    return LocalRunner(environment)


def start_load(environment: Environment, runner: Runner, plan: LoadPlan) -> ShapeDriver | None:
    """Start the runner on the plan; returns the driver of a shape (stop it before the runner)."""
    if plan.shape is not None:
        from horde.runner.shapes import ShapeDriver

        driver = ShapeDriver(environment, runner, plan.shape)
        driver.start()
        return driver
    runner.start(plan.load())
    return None
