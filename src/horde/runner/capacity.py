"""Capacity search: the most load an application takes while it still meets its latency goal.

The search drives a runner (either model) through load steps. Each step first settles (the
runner reaches the load, queues left by the step before drain), then is measured on its own
requests only (a window of the run's stats), and passes when every SLO threshold holds in it.

1. Ramp: multiply the load by ``growth`` after each passing step.
2. Confirm: the first step that breaks the SLO is run once more; a single bad step can be a
   hiccup (a GC pause, a cron job), so the ramp only stops when the SLO breaks twice at the same
   load. If the second try passes, the ramp goes on.
3. Refine: bisect between the highest passing load and the lowest failing one until they are
   within ``precision`` of each other.

After a broken step of the open model, no iteration starts until those in flight have finished:
an overloaded server holds a queue that a lower load drains only slowly, and it would fail the
next step for the step before's sake.

The answer is the highest passing load, with the throughput it achieved; the steps table and the
throughput/latency-against-load chart (in the HTML report) show the knee. A search also ends at
``max_load``, after ``max_steps``, or when the user interrupts it; what was measured so far is
reported either way.

A step during which horde itself was saturated (``horde.runner.health``: hot for most of its
seconds) measured horde as much as the target: it is never taken for the target's limit. The
search stops there; the answer is then "at least" the highest passing load, generator-limited.

The steps' throughput against their concurrency is fitted with the Universal Scalability Law
(``horde.runner.usl``): contention, coherency, the predicted peak and where it is reached. The
concurrency N is the users in the closed model; in the open model, the requests in flight at the
target by Little's law (throughput x mean service time), since an offered rate is not a
concurrency and the law's σ and κ are about how many requests the target serves at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from horde.runner.health import SpanHealth, advice, cause_of
from horde.runner.load import ArrivalRate, Load, Users
from horde.runner.usl import UslError, UslFit, fit_usl
from horde.scenario.shape import ARRIVAL_RATE, USERS
from horde.thresholds import Threshold, evaluate

if TYPE_CHECKING:
    from horde.runner.environment import Environment
    from horde.runner.interface import OpenModel, Runner

log = logging.getLogger("horde.capacity")

# The open model's queue test: iterations in flight may grow over a step by this share of the
# iterations started in it (or by this many, for short steps at low rates) and still count as
# kept up with; jitter of arrivals and latency stays well within both.
QUEUE_GROWTH_RATIO = 0.02
QUEUE_GROWTH_MIN = 10

__all__ = ["CapacityResult", "CapacitySearch", "CapacitySettings", "Step", "parse_slo"]


def parse_slo(text: str) -> list[Threshold]:
    """``"p95<300ms,fail_ratio<1%"``: thresholds separated by commas (or ';')."""
    from horde.thresholds import parse_threshold

    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("--slo is empty: use e.g. 'p95<300ms,fail_ratio<1%'")
    return [parse_threshold(p) for p in parts]


@dataclass
class CapacitySettings:
    model: str = ARRIVAL_RATE  # or USERS
    start: float = 10.0  # iterations/s, or users
    growth: float = 1.5
    step_time: float = 20.0  # measured part of each step, seconds
    settle_time: float = 5.0  # before measuring, seconds
    precision: float = 0.05  # stop refining when bad/good - 1 is at most this
    max_load: float | None = None
    max_steps: int = 20
    spawn_rate: float = 100.0  # closed model: users started per second between steps

    def check(self) -> None:
        if not self.start > 0:
            raise ValueError("the start load of a capacity search must be greater than 0")
        if not self.growth > 1:
            raise ValueError("--growth must be greater than 1, e.g. 1.5")
        if not 0 < self.precision < 1:
            raise ValueError("--precision must be between 0 and 100%, e.g. 5%")
        if self.max_load is not None and self.max_load < self.start:
            raise ValueError("--max-load is below the start load")
        if self.max_steps < 1:
            raise ValueError("--max-steps must be at least 1")


@dataclass
class Step:
    index: int
    phase: str  # ramp, confirm, refine
    load: float  # iterations/s or users, as planned
    passed: bool
    seconds: float
    requests: int
    failures: int
    rps: float
    fail_ratio: float
    p50: float
    p95: float
    p99: float
    avg: float
    in_flight: int  # users (closed model) or iterations in flight at the end of the step
    late: int = 0
    dropped: int = 0
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    started_at: float = 0.0
    # The concurrency the USL fit uses: users (closed model), or requests in flight at the
    # target by Little's law (open model: throughput x mean service time).
    concurrency: float = 0.0
    # horde's own health over the step (horde.runner.health.SpanHealth.to_dict), and whether it
    # was saturated: then the step measured horde as much as the target.
    generator: dict[str, Any] | None = None
    generator_limited: bool = False

    @property
    def goodput(self) -> float:
        """Successful requests per second."""
        return self.rps * (1 - self.fail_ratio)


@dataclass
class CapacityResult:
    model: str
    slo: list[str]
    steps: list[Step]
    reason: str
    _fit: UslFit | UslError | None = field(default=None, repr=False, compare=False)

    @property
    def best(self) -> Step | None:
        """The highest load that met the SLO (a pass holds even when horde was saturated: its
        own queueing only made the latencies look worse)."""
        passing = [s for s in self.steps if s.passed]
        return max(passing, key=lambda s: s.load) if passing else None

    @property
    def knee(self) -> Step | None:
        """The lowest load above the answer at which the SLO broke, horde not saturated."""
        best = self.best
        failing = [
            s
            for s in self.steps
            if not s.passed and not s.generator_limited and (best is None or s.load > best.load)
        ]
        return min(failing, key=lambda s: s.load) if failing else None

    @property
    def generator_limit(self) -> Step | None:
        """The step at which horde itself was saturated (the search stops there)."""
        return next((s for s in self.steps if s.generator_limited), None)

    def usl(self) -> UslFit:
        """The Universal Scalability Law fitted to the steps horde was not saturated in;
        ``UslError`` when they cannot support a fit. Fitted once, on first use."""
        if self._fit is None:
            steps = [s for s in self.steps if not s.generator_limited and s.requests > 0]
            try:
                self._fit = fit_usl([s.concurrency for s in steps], [s.goodput for s in steps])
            except UslError as exc:
                self._fit = exc
        if isinstance(self._fit, UslError):
            raise self._fit
        return self._fit

    def requests_per_iteration(self) -> float | None:
        """Open model: requests per iteration (from the steps that kept up with their rate);
        None in the closed model, whose loads are users, not rates."""
        if self.model != ARRIVAL_RATE:
            return None
        ratios = sorted(s.rps / s.load for s in self.steps if s.passed and s.load > 0)
        return ratios[len(ratios) // 2] if ratios else None

    def usl_dict(self) -> dict[str, Any]:
        """The fit for the JSON and the report, with its reading; or why there is none."""
        try:
            fit = self.usl()
        except UslError as exc:
            return {"error": str(exc), "reading": f"No scalability fit: {exc}."}
        data = fit.to_dict()
        data["concurrency"] = "users" if self.model == USERS else "requests in flight"
        data["reading"] = self.usl_reading(fit)
        return data

    def usl_reading(self, fit: UslFit) -> str:
        """The fit in plain words: where throughput stops growing, and why."""
        return usl_reading(fit, self.model, self.requests_per_iteration())

    def usl_text(self) -> str:
        """The fit for the console: its coefficients with their 95% intervals, then its
        reading; or why there is no fit."""
        try:
            fit = self.usl()
        except UslError as exc:
            return f"Scalability: no fit ({exc})."
        unit = "users" if self.model == USERS else "requests in flight"
        line = (
            f"Scalability (Universal Scalability Law over {fit.points} steps, N in {unit}): "
            f"λ = {_plus_minus(fit.lam, fit.lam_ci)} requests/s, "
            f"σ = {_plus_minus(fit.sigma, fit.sigma_ci)}, "
            f"κ = {_plus_minus(fit.kappa, fit.kappa_ci)}, R² = {fit.r_squared:.3f}"
        )
        if fit.peak_load is not None and fit.peak_throughput is not None:
            line += (
                f"; peak {_plus_minus(fit.peak_throughput, fit.peak_throughput_ci)} requests/s "
                f"at N* = {_plus_minus(fit.peak_load, fit.peak_load_ci)} {unit}"
            )
        elif fit.peak_throughput is not None:
            line += (
                f"; ceiling λ/σ = {_plus_minus(fit.peak_throughput, fit.peak_throughput_ci)} "
                "requests/s"
            )
        return line + ".\n" + self.usl_reading(fit)

    @property
    def unit(self) -> str:
        return "iterations/s" if self.model == ARRIVAL_RATE else "users"

    def headline(self) -> str:
        best, knee, limit = self.best, self.knee, self.generator_limit
        if best is None:
            if limit is not None:
                return (
                    f"no capacity measured: horde itself was saturated at the first step "
                    f"({_fmt(limit.load)} {self.unit}), before the target's limit"
                )
            first = self.steps[0].load if self.steps else 0
            return f"no load met the SLO, not even the first step ({_fmt(first)} {self.unit})"
        figures = (
            f"({best.rps:.1f} requests/s, p95 {best.p95:.0f} ms, {best.fail_ratio:.2%} failed)"
        )
        if limit is not None:
            return (
                f"capacity: at least {_fmt(best.load)} {self.unit} {figures}, generator-limited: "
                f"horde itself was saturated at {_fmt(limit.load)} {self.unit}, so the target's "
                "limit was not reached"
            )
        text = f"capacity: {_fmt(best.load)} {self.unit} {figures}"
        if knee is not None:
            text += f"; the SLO broke at {_fmt(knee.load)} {self.unit}"
        else:
            text += "; the SLO never broke (" + self.reason + ")"
        return text

    def to_dict(self, fit: bool = True) -> dict[str, Any]:
        """The result for the JSON and the report; ``fit=False`` leaves the scalability fit out
        (a live view polled while load runs: the fit takes milliseconds of the loop)."""
        best, knee = self.best, self.knee
        return {
            "model": self.model,
            "unit": self.unit,
            "slo": self.slo,
            "reason": self.reason,
            "max_load": best.load if best else None,
            "max_rps": best.rps if best else None,
            "knee_load": knee.load if knee else None,
            "generator_limited": self.generator_limit is not None,
            "generator_limited_at": limit.load if (limit := self.generator_limit) else None,
            "headline": self.headline(),
            "steps": [{**asdict(s), "goodput": s.goodput} for s in self.steps],
            **({"usl": self.usl_dict()} if fit else {}),
        }


def _fmt(load: float) -> str:
    return f"{load:.0f}" if load >= 10 else f"{load:.3g}"


class CapacitySearch:
    """Runs the search on ``runner`` (started and stopped by the caller's session)."""

    def __init__(
        self,
        environment: Environment,
        runner: Runner,
        slo: list[Threshold],
        settings: CapacitySettings,
        on_step: Callable[[Step], None] | None = None,
    ) -> None:
        settings.check()
        self.environment = environment
        self.runner = runner
        self.slo = slo
        self.settings = settings
        self.on_step = on_step
        self.steps: list[Step] = []
        self.current_load: float | None = None
        self._started = False  # the first step starts the runner's test; later ones change it

    def _move(self, load: Load) -> None:
        if self._started:
            self.runner.change(load)
        else:
            self._started = True
            self.runner.start(load)

    async def run(self) -> CapacityResult:
        s = self.settings
        good: float | None = None
        bad: float | None = None
        load, phase = self._round(s.start), "ramp"
        reason = "max steps reached"
        while len(self.steps) < s.max_steps:
            step = await self._measure(load, phase)
            if step is None:
                reason = self.environment.stop_reason or "stopped"
                break
            self.steps.append(step)
            log.info("step %d (%s): load %s -> %s", step.index, phase, load, step.passed)
            if self.on_step is not None:
                self.on_step(step)
            if step.generator_limited:
                # Beyond this, the figures would be horde's, not the target's: stop here.
                reason = (
                    f"the load generator was saturated at {_fmt(load)} "
                    f"{'iterations/s' if s.model == ARRIVAL_RATE else 'users'}: "
                    + advice(self.runner.workers_view is not None, _cause(step))
                )
                log.warning("capacity search stopped: %s", reason)
                break
            if step.passed:
                good = load if good is None else max(good, load)
                if phase == "confirm":
                    phase = "ramp"  # the break was a hiccup: keep ramping
            elif phase == "ramp":
                phase = "confirm"
                continue  # same load again
            else:
                bad = load if bad is None else min(bad, load)
                phase = "refine"
            if bad is None:
                if s.max_load is not None and load >= s.max_load:
                    reason = "max load reached"
                    break
                following = load * s.growth
                if s.max_load is not None:
                    following = min(following, s.max_load)
                load = self._round(following)
                continue
            if good is None:
                reason = "the SLO broke at the start load"
                break
            if bad / good - 1 <= s.precision:
                reason = "refined to the precision asked for"
                break
            middle = self._round((good + bad) / 2)
            if middle in (good, bad):  # whole users: nothing left between them
                reason = "refined to a single user"
                break
            load = middle
        else:
            reason = "max steps reached"
        return self.result(reason)

    def result(self, reason: str) -> CapacityResult:
        """The result from the steps measured so far (also for a search stopped half-way)."""
        self.current_load = None
        slo = [t.expression for t in self.slo]
        return CapacityResult(self.settings.model, slo, list(self.steps), reason)

    def _round(self, load: float) -> float:
        if self.settings.model == USERS:
            return float(max(1, round(load)))
        # Rates to three significant figures or so: 507/s, 42.2/s, 3.16/s.
        digits = 0 if load >= 100 else 1 if load >= 10 else 2
        return round(load, digits) or round(load, 3)

    async def _measure(self, load: float, phase: str) -> Step | None:
        """Settle at ``load``, then measure it; None when the run was told to stop."""
        s, runner, env = self.settings, self.runner, self.environment
        # An overloaded server holds a queue that would spill into the next step's figures (a
        # load below capacity drains it only slowly): pause until it has answered.
        after_overload = self.steps and not self.steps[-1].passed
        if after_overload and s.model == ARRIVAL_RATE and await self._drain():
            return None
        self.current_load = load
        runner.planned = load
        settle = s.settle_time
        if s.model == USERS:
            change = abs(load - runner.user_count)
            self._move(Users(int(load), s.spawn_rate))
            settle += change / s.spawn_rate
        else:
            self._move(ArrivalRate(load))
        moved = time.time()
        if await self._wait(settle):
            return None
        snapshot = env.stats.snapshot()
        open_model = runner.open_model
        service0 = open_model.service_stats.snapshot() if open_model is not None else None
        late0, dropped0, pending0, started0 = _open_counts(runner.open_model)
        started = time.time()
        if await self._wait(s.step_time):
            return None
        window = env.stats.since(snapshot)
        ended = time.time()
        total = window.total
        verdicts = evaluate(self.slo, window)
        late1, dropped1, pending1, started1 = _open_counts(runner.open_model)
        late, dropped = late1 - late0, dropped1 - dropped0
        seconds = max(ended - started, 1e-9)
        percentiles = total.get_response_time_percentiles([0.5, 0.95, 0.99])
        passed = all(v["passed"] for v in verdicts) and total.num_requests > 0
        if s.model == ARRIVAL_RATE:
            verdicts += self._open_model_verdicts(dropped, pending1 - pending0, started1 - started0)
            passed = passed and all(v["passed"] for v in verdicts)
        rps = total.num_requests / seconds
        concurrency = load
        if open_model is not None and service0 is not None:
            service = open_model.service_stats.since(service0).total
            concurrency = rps * service.avg_response_time / 1000  # Little's law: L = X * W
        # horde's own health at this load: from a second after the move (the ramp's own burst
        # aside) to the end, settling included, so that short steps have seconds enough to judge.
        health = env.health.span(min(moved + 1.0, started), ended)
        return Step(
            index=len(self.steps) + 1,
            phase=phase,
            load=load,
            passed=passed,
            seconds=seconds,
            requests=total.num_requests,
            failures=total.num_failures,
            rps=rps,
            fail_ratio=total.fail_ratio,
            p50=percentiles[0],
            p95=percentiles[1],
            p99=percentiles[2],
            avg=total.avg_response_time,
            in_flight=runner.user_count,
            late=late,
            dropped=dropped,
            verdicts=verdicts,
            started_at=started,
            concurrency=concurrency,
            generator=health.to_dict() if health is not None else None,
            generator_limited=self._horde_decided(health, verdicts, passed),
        )

    def _horde_decided(
        self, health: SpanHealth | None, verdicts: list[dict[str, Any]], passed: bool
    ) -> bool:
        """Did horde's own saturation decide the step (``horde.runner.health``)?

        - It used (or waited for) a whole core: yes, pass or not. It could not have made more
          load, nor read in time the answers to what it made; nothing above can be measured.
        - Only its loop fell behind, CPU to spare (a blocking call, a busy machine): its
          queueing is bounded by that lag. A pass stands (the lag only added to the latencies);
          a break is horde's only if every goal broken is a latency that, less the lag (p99),
          would have been met. A target answering in seconds is not excused by 30 ms of horde's.
        """
        if health is None or not health.saturated:
            return False
        if health.cpu_bound:
            return True
        if passed:
            return False
        broken = [(t, v) for t, v in zip(self.slo, verdicts, strict=False) if not v["passed"]]
        if len(broken) != sum(not v["passed"] for v in verdicts):
            return False  # the open model's own goals broke: dropped, or a growing queue
        return all(
            v["unit"] == "ms"
            and t.op in ("<", "<=")
            and v["measured"] is not None
            and v["measured"] - health.lag_p99 <= t.limit
            for t, v in broken
        )

    @staticmethod
    def _open_model_verdicts(dropped: int, growth: int, started: int) -> list[dict[str, Any]]:
        """What the open model adds to the SLO: the load was delivered and was kept up with.

        A server just above its capacity answers every request, but its queue grows; over a
        short step the latency goal may still hold. Iterations in flight then grow with time
        (started minus finished), which is measured exactly, whatever the latency.
        """
        allowed = max(QUEUE_GROWTH_MIN, QUEUE_GROWTH_RATIO * started)
        return [
            {
                "threshold": "no dropped iterations",
                "row": None,
                "measured": float(dropped),
                "unit": "",
                "passed": dropped == 0,
            },
            {
                "threshold": f"iterations in flight grew by <= {allowed:.0f}",
                "row": None,
                "measured": float(growth),
                "unit": "",
                "passed": growth <= allowed,
            },
        ]

    async def _drain(self) -> bool:
        """Stop starting iterations until those in flight are done (bounded); True on stop."""
        runner = self.runner
        runner.planned = 0.0
        self._move(ArrivalRate(0.0))
        limit = time.monotonic() + max(30.0, 2 * self.settings.step_time)
        while runner.user_count and time.monotonic() < limit:
            if await self._wait(0.1):
                return True
        return False

    async def _wait(self, seconds: float) -> bool:
        """Sleep, or return True at once when the run is told to stop."""
        if seconds <= 0:
            return self.environment.test_stop_event.is_set()
        try:
            await asyncio.wait_for(self.environment.test_stop_event.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True


def _cause(step: Step) -> str:
    """Why horde was saturated in a step (``horde.runner.health.cause_of``)."""
    figures = step.generator or {}
    return cause_of(
        figures.get("cpu_percent_mean", 100.0), figures.get("cpu_wait_percent_mean", 0.0)
    )


def _plus_minus(value: float, half_width: float | None) -> str:
    """``value ± half_width`` to the precision the interval allows."""
    if half_width is None or not math.isfinite(half_width) or half_width <= 0:
        return f"{value:.3g}"
    digits = max(0, 1 - math.floor(math.log10(half_width)))
    return f"{value:.{digits}f} ± {half_width:.{digits}f}"


def _fmt_number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def usl_reading(fit: UslFit, model: str, requests_per_iteration: float | None = None) -> str:
    """What the fit says, for a person: where throughput stops growing, and why."""
    open_model = model == ARRIVAL_RATE
    unit = "requests in flight" if open_model else "users"
    if not open_model:
        requests_per_iteration = None  # users are not a rate: there is nothing to convert
    contention = (
        f"contention (σ = {fit.sigma:.3g}: about {fit.sigma:.0%} of the work waits its turn for "
        "something shared, such as a lock, a connection pool or one busy worker)"
    )
    coherency = (
        f"coherency (κ = {fit.kappa:.3g}: keeping shared state consistent, such as locks held "
        "across requests, cache invalidation or chatty nodes, costs more with every added unit "
        "of load, and past the peak more load means less throughput)"
    )
    if fit.limit == "saturated":
        return (
            "Throughput did not grow with load over the steps measured: the search started "
            "at or above the target's limit (start lower to see it grow)."
        )
    if fit.limit == "none":
        return (
            "Throughput grew in proportion to the load over every step: no limit is visible "
            "yet (raise --max-load to find it)."
        )
    if fit.limit == "contention":
        ceiling = fit.peak_throughput or 0.0
        at = fit.levels_off_at or 0.0
        return (
            f"Throughput levels off towards {_fmt_number(ceiling)} requests/s, reaching 90% of "
            f"it at about {_fmt_number(at)} {unit}{_as_rate(at, fit, requests_per_iteration)}, "
            f"because of {contention}; no coherency cost was measured (κ = 0), so more load "
            "should not lower the throughput."
        )
    peak_load = fit.peak_load or 0.0
    text = (
        f"Throughput stops growing at about {_fmt_number(peak_load)} {unit}"
        f"{_as_rate(peak_load, fit, requests_per_iteration)}, at "
        f"{_fmt_number(fit.peak_throughput or 0.0)} requests/s, because of {coherency}"
    )
    if fit.sigma > 0:
        text += f"; before that, {contention} slows its growth"
    text += "."
    if peak_load > 2 * fit.max_load:
        text += (
            f" The peak lies well beyond the highest load measured ({_fmt_number(fit.max_load)}"
            f" {unit}): it is an extrapolation."
        )
    return text


def _as_rate(load: float, fit: UslFit, requests_per_iteration: float | None) -> str:
    """Open model: the offered rate that brings a concurrency about, in the search's unit."""
    if not requests_per_iteration:
        return ""
    rate = fit.predict(load) / requests_per_iteration
    return f" (by Little's law; about {_fmt_number(rate)} iterations/s)"


def _open_counts(figures: OpenModel | None) -> tuple[int, int, int, int]:
    """Late, dropped, pending and started iterations (all 0 in the closed model)."""
    if figures is None:
        return 0, 0, 0, 0
    return figures.late, figures.dropped, figures.pending, figures.started


def steps_table(result: CapacityResult) -> Any:
    from rich.table import Table

    table = Table(title=f"Capacity search ({result.unit})", title_justify="left")
    columns = ("#", "Phase", "Load", "req/s", "Failures", "p50", "p95", "p99", "Late", "horde CPU")
    for column in (*columns, "SLO"):
        table.add_column(column, justify="left" if column in ("Phase", "SLO") else "right")
    best = result.best
    for s in result.steps:
        verdict = "[green]met[/]" if s.passed else "[red]broken[/]"
        if best is not None and s is best:
            verdict += " [bold]<- capacity[/]"
        if s.generator_limited:
            verdict += " [bold red](horde saturated)[/]"
        cpu = f"{s.generator['cpu_percent_mean']:.0f}%" if s.generator else "-"
        table.add_row(
            str(s.index),
            s.phase,
            _fmt(s.load),
            f"{s.rps:.1f}",
            f"{s.fail_ratio:.2%}",
            f"{s.p50:.0f}",
            f"{s.p95:.0f}",
            f"{s.p99:.0f}",
            str(s.late),
            cpu,
            verdict,
        )
    return table
