"""The Universal Scalability Law (Gunther), fitted to a capacity search's steps.

    X(N) = λN / (1 + σ(N-1) + κN(N-1))

X is the throughput at concurrency N; λ the throughput of one unit of concurrency alone; σ
(contention) the share of the work that waits its turn for something shared (a lock, a pool, one
busy worker), which makes throughput level off towards λ/σ; κ (coherency) the cost of keeping
shared state consistent between the units (cache invalidation, locks held across requests,
chatty nodes), which grows with N² and makes throughput fall past its peak at
N* = sqrt((1-σ)/κ).

The fit is small and in pure Python, no NumPy or SciPy: three parameters and a dozen points need
a 3x3 linear solve per iteration, not a numerical library (and horde's start-up time and wheel
stay as they are). It is:

1. a first guess from the usual linearisation: N/X = ((1-σ) + (σ-κ)N + κN²)/λ is a quadratic
   in N, solved by weighted linear least squares;
2. Levenberg-Marquardt on the residuals of ln X (throughput noise is roughly proportional to
   throughput, so relative errors weigh every step alike), with σ in [0, 1] and κ >= 0: each
   combination of the bounds (both free, σ = 0, κ = 0, both 0) is fitted and the best is kept,
   so a coefficient the data do not support is 0 rather than negative;
3. robust to an odd step (a hiccup the search confirmed away, a step with failures): Huber
   weights, re-fitted a few times (iteratively reweighted least squares);
4. 95% confidence intervals from the Jacobian at the optimum (Student's t), and by the delta
   method for the peak.

``tests/runner/test_usl.py`` holds it to recovering simulated systems' coefficients within 10%.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MIN_LOADS", "MIN_POINTS", "UslError", "UslFit", "fit_usl", "usl"]

MIN_POINTS = 4  # three parameters, and one degree of freedom for their uncertainty
MIN_LOADS = 3  # a quadratic needs three different loads
HUBER = 1.345  # Huber's tuning constant (95% efficiency under normal noise)
IRLS_ROUNDS = 6
# Student's t, 97.5% quantile, by degrees of freedom (1..30); 1.96 beyond.
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


class UslError(ValueError):
    """The steps cannot be fitted; the message says why, in a sentence for the user."""


def usl(n: float, lam: float, sigma: float, kappa: float) -> float:
    """The law: throughput at concurrency ``n``."""
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def t975(dof: int) -> float:
    if dof <= 0:
        return math.inf
    return T975[dof - 1] if dof <= len(T975) else 1.96


@dataclass(frozen=True)
class UslFit:
    """The fitted law and what it predicts. ``*_ci`` are 95% half-widths (None when the
    parameter sits on a bound, or there is no degree of freedom left)."""

    lam: float
    sigma: float
    kappa: float
    lam_ci: float | None
    sigma_ci: float | None
    kappa_ci: float | None
    points: int
    loads: int
    min_load: float  # the lowest N measured
    max_load: float  # the highest
    r_squared: float
    peak_load: float | None  # N*, where throughput peaks (None: it never does, κ = 0)
    peak_load_ci: float | None
    peak_throughput: float | None  # X(N*), or the ceiling λ/σ when κ = 0 (None: neither)
    peak_throughput_ci: float | None

    def predict(self, n: float) -> float:
        return usl(n, self.lam, self.sigma, self.kappa)

    @property
    def limit(self) -> str:
        """What stops throughput growing: coherency, contention, or none seen."""
        if self.sigma >= 1 or (self.peak_load is not None and self.peak_load < self.min_load):
            return "saturated"  # throughput only fell over the loads measured
        if self.kappa > 0 and self.peak_load is not None:
            return "coherency"
        if self.sigma > 0:
            return "contention"
        return "none"

    @property
    def levels_off_at(self) -> float | None:
        """With contention only: the load at which throughput reaches 90% of its ceiling."""
        if self.kappa > 0 or not 0 < self.sigma < 1:
            return None
        return 9 * (1 - self.sigma) / self.sigma

    def curve(self, up_to: float, points: int = 80) -> list[list[float]]:
        """[N, X(N)] from 0 to ``up_to``, for drawing the fit over the measured steps."""
        if up_to <= 0:
            return []
        step = up_to / points
        return [[round(i * step, 4), round(self.predict(i * step), 4)] for i in range(points + 1)]

    def to_dict(self) -> dict[str, Any]:
        reach = max(self.max_load, self.peak_load or 0.0) * 1.25
        if self.peak_load is not None:
            reach = min(reach, 4 * self.max_load)
        return {
            "lambda": self.lam,
            "sigma": self.sigma,
            "kappa": self.kappa,
            "lambda_ci95": self.lam_ci,
            "sigma_ci95": self.sigma_ci,
            "kappa_ci95": self.kappa_ci,
            "points": self.points,
            "loads": self.loads,
            "r_squared": self.r_squared,
            "limit": self.limit,
            "peak_load": self.peak_load,
            "peak_load_ci95": self.peak_load_ci,
            "peak_throughput": self.peak_throughput,
            "peak_throughput_ci95": self.peak_throughput_ci,
            "levels_off_at": self.levels_off_at,
            "curve": self.curve(reach),
        }


# The fit ----------------------------------------------------------------------------------------
def fit_usl(loads: Sequence[float], throughputs: Sequence[float]) -> UslFit:
    """Fit the law to (N, X) points; ``UslError`` when they cannot support a fit."""
    points = [(float(n), float(x)) for n, x in zip(loads, throughputs, strict=True)]
    points = [(n, x) for n, x in points if n > 0 and x > 0 and math.isfinite(n + x)]
    distinct = len({round(n, 9) for n, _ in points})
    if len(points) < MIN_POINTS or distinct < MIN_LOADS:
        raise UslError(
            f"not enough steps to fit: {len(points)} with throughput at {distinct} different "
            f"loads; the fit needs at least {MIN_POINTS} steps at {MIN_LOADS} loads"
        )
    n = [p[0] for p in points]
    x = [p[1] for p in points]
    if max(x) / min(x) < 1.0 + 1e-9:
        raise UslError("the throughput was the same at every step: there is nothing to fit")
    result = _robust_fit(n, x, ALL_FREE)
    # Parsimony: a coefficient whose 95% interval reaches 0 is not measured; the simpler law
    # without it reads better (no peak conjured from noise) and fits about as well.
    if result.kappa > 0 and (result.kappa_ci is None or result.kappa_ci >= result.kappa):
        result = _robust_fit(n, x, NO_COHERENCY)
    if result.sigma > 0 and result.sigma_ci is not None and result.sigma_ci >= result.sigma:
        free = NO_CONTENTION if result.kappa > 0 else NEITHER
        result = _robust_fit(n, x, free)
    return result


ALL_FREE = ((True, True), (True, False), (False, True), (False, False))
NO_COHERENCY = ((True, False), (False, False))
NO_CONTENTION = ((False, True), (False, False))
NEITHER = ((False, False),)


def _robust_fit(
    n: list[float], x: list[float], combinations: tuple[tuple[bool, bool], ...]
) -> UslFit:
    """Huber-weighted fit (IRLS) over the given combinations of σ and κ free or held at 0."""
    weights = [1.0] * len(n)
    theta = _best_fit(n, x, weights, combinations)
    for _ in range(IRLS_ROUNDS):
        residuals = _residuals(theta, n, x)
        scale = 1.4826 * _median([abs(r) for r in residuals])
        if scale <= 1e-12:
            break
        updated = [min(1.0, HUBER * scale / abs(r)) if r else 1.0 for r in residuals]
        if max(abs(a - b) for a, b in zip(updated, weights, strict=True)) < 1e-3:
            break
        weights = updated
        theta = _best_fit(n, x, weights, combinations)
    return _result(theta, n, x, weights)


def _best_fit(
    n: list[float],
    x: list[float],
    w: list[float],
    combinations: tuple[tuple[bool, bool], ...],
) -> list[float]:
    """The best of the fits with each combination of σ and κ free or held at 0."""
    start = _linearised(n, x, w)
    best: tuple[float, list[float]] | None = None
    for free in combinations:
        guess = [start[0], start[1] if free[0] else 0.0, start[2] if free[1] else 0.0]
        theta = _levenberg_marquardt(guess, free, n, x, w)
        cost = _cost(theta, n, x, w)
        if best is None or cost < best[0] * (1 - 1e-9):
            best = (cost, theta)
    assert best is not None
    return best[1]


def _linearised(n: list[float], x: list[float], w: list[float]) -> list[float]:
    """[ln λ, σ, κ] from N/X = c0 + c1·N + c2·N², fitted in relative terms, then clamped."""
    scale = max(n)
    rows, targets, weights = [], [], []
    for ni, xi, wi in zip(n, x, w, strict=True):
        u = ni / scale
        rows.append([1.0, u, u * u])
        targets.append(ni / xi)
        weights.append(wi * (xi / ni) ** 2)  # relative errors of N/X
    c = _weighted_least_squares(rows, targets, weights)
    if c is not None:
        c0, c1, c2 = c[0], c[1] / scale, c[2] / scale**2
        total = c0 + c1 + c2
        if total > 0:
            lam = 1 / total
            kappa = max(0.0, c2 * lam)
            sigma = min(1.0, max(0.0, c1 * lam + kappa))
            return [math.log(lam), sigma, kappa]
    return [math.log(max(xi / ni for ni, xi in zip(n, x, strict=True))), 0.0, 0.0]


def _levenberg_marquardt(
    theta: list[float], free: tuple[bool, bool], n: list[float], x: list[float], w: list[float]
) -> list[float]:
    """Minimise the weighted squares of ln X - ln X(N) over ln λ and the free coefficients,
    projecting σ into [0, 1] and κ onto [0, ∞)."""
    columns = [0] + [i + 1 for i, f in enumerate(free) if f]
    theta = _project(list(theta))
    cost = _cost(theta, n, x, w)
    damping = 1e-3
    for _ in range(200):
        residuals = _residuals(theta, n, x)
        jacobian = _jacobian(theta, n)
        a = [[sum(w[k] * jacobian[k][i] * jacobian[k][j] for k in range(len(n)))
              for j in columns] for i in columns]  # fmt: skip
        g = [sum(w[k] * jacobian[k][i] * residuals[k] for k in range(len(n))) for i in columns]
        improved = False
        while damping < 1e12:
            damped = [row[:] for row in a]
            for i in range(len(columns)):
                damped[i][i] += damping * (a[i][i] or 1.0)
            step = _solve(damped, [-v for v in g])
            if step is None:
                damping *= 10
                continue
            trial = theta[:]
            for i, column in enumerate(columns):
                trial[column] += step[i]
            trial = _project(trial)
            trial_cost = _cost(trial, n, x, w)
            if trial_cost < cost:
                change = max(
                    abs(t - o) / (abs(o) + 1e-12) for t, o in zip(trial, theta, strict=True)
                )
                theta, relative = trial, (cost - trial_cost) / (cost + 1e-300)
                cost = trial_cost
                damping = max(damping / 3, 1e-12)
                improved = True
                if relative < 1e-12 or change < 1e-10:
                    return theta
                break
            damping *= 4
        if not improved:
            break
    return theta


def _project(theta: list[float]) -> list[float]:
    return [theta[0], min(1.0, max(0.0, theta[1])), max(0.0, theta[2])]


def _denominator(theta: list[float], n: float) -> float:
    return 1 + theta[1] * (n - 1) + theta[2] * n * (n - 1)


def _residuals(theta: list[float], n: list[float], x: list[float]) -> list[float]:
    """ln X - ln X(N) for each point."""
    out = []
    for ni, xi in zip(n, x, strict=True):
        d = _denominator(theta, ni)
        out.append(math.log(xi) - theta[0] - math.log(ni) + math.log(d) if d > 0 else 1e3)
    return out


def _jacobian(theta: list[float], n: list[float]) -> list[list[float]]:
    """d(residual)/d(ln λ, σ, κ) for each point."""
    rows = []
    for ni in n:
        d = max(_denominator(theta, ni), 1e-12)
        rows.append([-1.0, (ni - 1) / d, ni * (ni - 1) / d])
    return rows


def _cost(theta: list[float], n: list[float], x: list[float], w: list[float]) -> float:
    return sum(wi * r * r for wi, r in zip(w, _residuals(theta, n, x), strict=True))


def _result(theta: list[float], n: list[float], x: list[float], w: list[float]) -> UslFit:
    lam, sigma, kappa = math.exp(theta[0]), theta[1], theta[2]
    # Parameters on a bound are held there: their uncertainty is not that of a free estimate.
    columns = [0] + ([1] if 0 < sigma < 1 else []) + ([2] if kappa > 0 else [])
    dof = len(n) - len(columns)
    covariance = _covariance(theta, columns, n, x, w, dof)
    t = t975(dof)

    def half_width(column: int) -> float | None:
        if covariance is None or column not in columns:
            return None
        i = columns.index(column)
        return t * math.sqrt(max(0.0, covariance[i][i]))

    lam_ci = half_width(0)
    fit = UslFit(
        lam=lam,
        sigma=sigma,
        kappa=kappa,
        lam_ci=lam * lam_ci if lam_ci is not None else None,  # d λ = λ d ln λ
        sigma_ci=half_width(1),
        kappa_ci=half_width(2),
        points=len(n),
        loads=len({round(v, 9) for v in n}),
        min_load=min(n),
        max_load=max(n),
        r_squared=_r_squared(theta, n, x),
        peak_load=None,
        peak_load_ci=None,
        peak_throughput=None,
        peak_throughput_ci=None,
    )
    return UslFit(
        **{
            **fit.__dict__,
            "peak_load": _peak_load(theta),
            "peak_load_ci": _delta_method(_peak_load, theta, columns, covariance, t),
            "peak_throughput": _peak_throughput(theta),
            "peak_throughput_ci": _delta_method(_peak_throughput, theta, columns, covariance, t),
        }
    )


def _peak_load(theta: list[float]) -> float | None:
    """N* = sqrt((1-σ)/κ); None when throughput never peaks (κ = 0) or never grew (σ = 1)."""
    if theta[2] <= 0 or theta[1] >= 1:
        return None
    return math.sqrt((1 - theta[1]) / theta[2])


def _peak_throughput(theta: list[float]) -> float | None:
    """X(N*), or with contention alone the ceiling λ/σ throughput levels off towards."""
    lam = math.exp(theta[0])
    load = _peak_load(theta)
    if load is not None:
        return usl(load, lam, theta[1], theta[2])
    if theta[1] > 0 and theta[2] <= 0:
        return lam / theta[1]
    return None


def _delta_method(
    f: Callable[[list[float]], float | None],
    theta: list[float],
    columns: list[int],
    covariance: list[list[float]] | None,
    t: float,
) -> float | None:
    value = f(theta)
    if value is None or covariance is None:
        return None
    gradient = []
    for column in columns:
        h = 1e-6 * max(abs(theta[column]), 1e-9)
        shifted = theta[:]
        shifted[column] += h
        moved = f(shifted)
        if moved is None:
            return None
        gradient.append((moved - value) / h)
    variance = sum(
        gradient[i] * covariance[i][j] * gradient[j]
        for i in range(len(columns))
        for j in range(len(columns))
    )
    return t * math.sqrt(max(0.0, variance))


def _covariance(
    theta: list[float],
    columns: list[int],
    n: list[float],
    x: list[float],
    w: list[float],
    dof: int,
) -> list[list[float]] | None:
    """s²(JᵀWJ)⁻¹ over the free parameters; None without a degree of freedom."""
    if dof <= 0:
        return None
    residuals = _residuals(theta, n, x)
    jacobian = _jacobian(theta, n)
    s2 = sum(wi * r * r for wi, r in zip(w, residuals, strict=True)) / dof
    a = [[sum(w[k] * jacobian[k][i] * jacobian[k][j] for k in range(len(n))) for j in columns]
         for i in columns]  # fmt: skip
    inverse = _invert(a)
    if inverse is None:
        return None
    return [[s2 * v for v in row] for row in inverse]


def _r_squared(theta: list[float], n: list[float], x: list[float]) -> float:
    lam = math.exp(theta[0])
    mean = sum(x) / len(x)
    total = sum((xi - mean) ** 2 for xi in x)
    residual = sum(
        (xi - usl(ni, lam, theta[1], theta[2])) ** 2 for ni, xi in zip(n, x, strict=True)
    )
    return 1 - residual / total if total > 0 else 0.0


# Small linear algebra ---------------------------------------------------------------------------
def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None for a singular system."""
    size = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-300:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, size):
            factor = m[r][col] / m[col][col]
            for c in range(col, size + 1):
                m[r][c] -= factor * m[col][c]
    out = [0.0] * size
    for r in range(size - 1, -1, -1):
        out[r] = (m[r][size] - sum(m[r][c] * out[c] for c in range(r + 1, size))) / m[r][r]
    return out if all(math.isfinite(v) for v in out) else None


def _invert(a: list[list[float]]) -> list[list[float]] | None:
    size = len(a)
    columns = []
    for i in range(size):
        column = _solve(a, [1.0 if j == i else 0.0 for j in range(size)])
        if column is None:
            return None
        columns.append(column)
    return [[columns[j][i] for j in range(size)] for i in range(size)]


def _weighted_least_squares(
    rows: list[list[float]], targets: list[float], weights: list[float]
) -> list[float] | None:
    width = len(rows[0])
    a = [[sum(w * r[i] * r[j] for r, w in zip(rows, weights, strict=True)) for j in range(width)]
         for i in range(width)]  # fmt: skip
    b = [sum(w * r[i] * t for r, t, w in zip(rows, targets, weights, strict=True))
         for i in range(width)]  # fmt: skip
    return _solve(a, b)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
