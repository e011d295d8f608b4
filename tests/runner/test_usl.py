"""The Universal Scalability Law fit recovers the coefficients of simulated systems.

Each system is sampled the way a capacity search samples a target: loads growing by x1.5 from
well below the peak to twice past it, the last four loads measured again (the confirm and refine
steps), each step's throughput off by Gaussian noise of 1% (a 20-s step of 10,000 requests or
more varies about that much). The fit must recover lambda, sigma and kappa within 10%, for
every seed.
"""

from __future__ import annotations

import math
import random

import pytest

from horde.runner.capacity import usl_reading
from horde.runner.usl import UslError, fit_usl, usl

# (lambda, sigma, kappa): from a fast service with a little contention to a slow one with a lot.
SYSTEMS = [
    (1000.0, 0.05, 0.0005),
    (50.0, 0.02, 0.0001),
    (80.0, 0.03, 0.001),
    (300.0, 0.2, 0.002),
    (10.0, 0.08, 0.0004),
]
SEEDS = range(8)


def search_like_loads(peak: float) -> list[float]:
    loads, n = [], peak * 0.08
    while n < peak * 2.2:
        loads.append(round(n, 1))
        n *= 1.5
    return loads + loads[-4:]


def simulate(lam, sigma, kappa, noise, seed, loads=None):
    peak = math.sqrt((1 - sigma) / kappa) if kappa else 30.0
    loads = loads or search_like_loads(peak)
    rng = random.Random(seed)
    return loads, [usl(n, lam, sigma, kappa) * (1 + rng.gauss(0, noise)) for n in loads]


@pytest.mark.parametrize(("lam", "sigma", "kappa"), SYSTEMS)
def test_the_fit_recovers_each_coefficient_within_ten_percent(lam, sigma, kappa):
    peak = math.sqrt((1 - sigma) / kappa)
    for seed in SEEDS:
        loads, throughputs = simulate(lam, sigma, kappa, 0.01, seed)
        fit = fit_usl(loads, throughputs)
        assert fit.lam == pytest.approx(lam, rel=0.10), seed
        assert fit.sigma == pytest.approx(sigma, rel=0.10), seed
        assert fit.kappa == pytest.approx(kappa, rel=0.10), seed
        assert fit.limit == "coherency"
        assert fit.peak_load == pytest.approx(peak, rel=0.10), seed
        assert fit.peak_throughput == pytest.approx(usl(peak, lam, sigma, kappa), rel=0.05)


def test_the_confidence_intervals_cover_the_truth_most_of_the_time():
    covered = total = 0
    for lam, sigma, kappa in SYSTEMS:
        for seed in range(20):
            fit = fit_usl(*simulate(lam, sigma, kappa, 0.01, seed))
            for value, half, truth in (
                (fit.lam, fit.lam_ci, lam),
                (fit.sigma, fit.sigma_ci, sigma),
                (fit.kappa, fit.kappa_ci, kappa),
            ):
                total += 1
                covered += half is not None and abs(value - truth) <= half
    assert covered / total >= 0.85, f"{covered} of {total}"


def test_with_twice_the_noise_the_peak_is_still_found_within_ten_percent():
    for lam, sigma, kappa in SYSTEMS:
        peak = math.sqrt((1 - sigma) / kappa)
        for seed in SEEDS:
            fit = fit_usl(*simulate(lam, sigma, kappa, 0.02, seed))
            assert fit.peak_load == pytest.approx(peak, rel=0.10)
            assert fit.peak_throughput == pytest.approx(usl(peak, lam, sigma, kappa), rel=0.10)


def test_one_bad_step_does_not_move_the_fit():
    lam, sigma, kappa = SYSTEMS[0]
    for seed in SEEDS:
        loads, throughputs = simulate(lam, sigma, kappa, 0.01, seed)
        odd = random.Random(seed).randrange(len(loads))
        throughputs[odd] *= 0.7  # a hiccup: a GC pause on the target, a noisy neighbour
        fit = fit_usl(loads, throughputs)
        assert fit.sigma == pytest.approx(sigma, rel=0.10), (seed, odd)
        assert fit.kappa == pytest.approx(kappa, rel=0.10), (seed, odd)


def test_contention_alone_levels_off_without_a_peak():
    """No coherency cost: kappa is 0 (not a small number conjured from noise), and the ceiling
    lambda/sigma is found."""
    lam, sigma = 200.0, 0.1
    loads = [1, 2, 4, 6, 9, 14, 20, 30, 45, 68, 100, 150]
    for seed in SEEDS:
        fit = fit_usl(*simulate(lam, sigma, 0.0, 0.01, seed, loads=loads))
        assert fit.kappa == 0.0 and fit.peak_load is None
        assert fit.limit == "contention"
        assert fit.sigma == pytest.approx(sigma, rel=0.10)
        assert fit.peak_throughput == pytest.approx(lam / sigma, rel=0.10)  # the ceiling
        reading = usl_reading(fit, "users")
        assert reading.startswith("Throughput levels off towards")
        assert "contention" in reading and "users" in reading


def test_a_linear_system_shows_no_limit():
    loads = [2, 4, 8, 16, 32, 64]
    fit = fit_usl(*simulate(25.0, 0.0, 0.0, 0.005, 1, loads=loads))
    assert fit.limit == "none" and fit.peak_throughput is None
    assert "no limit is visible yet" in usl_reading(fit, "users")


def test_the_reading_names_the_peak_and_its_cause():
    lam, sigma, kappa = SYSTEMS[2]
    fit = fit_usl(*simulate(lam, sigma, kappa, 0.01, 0))
    reading = usl_reading(fit, "users")
    assert reading.startswith(f"Throughput stops growing at about {fit.peak_load:.3g} users")
    assert "coherency" in reading and "contention" in reading
    # The open model: N is requests in flight, and the offered rate that brings it about.
    open_reading = usl_reading(fit, "arrival_rate", requests_per_iteration=2.0)
    assert "requests in flight (by Little's law; about" in open_reading
    assert "iterations/s" in open_reading


@pytest.mark.parametrize(
    ("loads", "throughputs"),
    [
        ([10, 20, 30], [100, 190, 260]),  # three steps
        ([10, 10, 20, 20, 20], [100, 101, 190, 191, 189]),  # two loads
        ([], []),
    ],
)
def test_too_few_steps_to_fit(loads, throughputs):
    with pytest.raises(UslError, match="not enough steps to fit"):
        fit_usl(loads, throughputs)


def test_the_same_throughput_everywhere_cannot_be_fitted():
    with pytest.raises(UslError, match="the same at every step"):
        fit_usl([5, 10, 20, 40], [300, 300, 300, 300])


def test_throughput_that_only_falls_reads_as_past_the_limit():
    loads = [10, 15, 22, 33, 50, 75]
    fit = fit_usl(loads, [500 / (1 + 0.02 * n) for n in loads])
    assert fit.limit == "saturated"
    assert "did not grow with load" in usl_reading(fit, "users")
