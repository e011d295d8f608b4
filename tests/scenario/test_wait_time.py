"""Wait-time functions: ranges, pacing and argument checks."""

import time

import pytest

from horde import between, constant, constant_pacing, constant_throughput, poisson


class Holder:
    pass


def test_between_stays_in_range():
    wait = between(1, 2)
    values = [wait(Holder()) for _ in range(1000)]
    assert min(values) >= 1
    assert max(values) <= 2


def test_constant_and_bad_arguments():
    assert constant(0.5)(Holder()) == 0.5
    for make in (
        lambda: between(2, 1),
        lambda: constant(-1),
        lambda: constant_pacing(0),
        lambda: constant_throughput(0),
        lambda: poisson(0),
    ):
        with pytest.raises(ValueError):
            make()


def test_constant_pacing_subtracts_the_time_the_task_took():
    wait = constant_pacing(10)
    user = Holder()
    assert wait(user) == 10
    user._horde_pacing_last -= 4  # as if the last task started 4 s ago... and took 4 s
    remaining = wait(user)
    assert 5.9 < remaining <= 6.0


def test_constant_throughput_is_inverse_pacing():
    assert constant_throughput(4)(Holder()) == 0.25


def test_poisson_has_the_requested_mean():
    wait = poisson(2.0)
    values = [wait(Holder()) for _ in range(20000)]
    assert 1.9 < sum(values) / len(values) < 2.1
    assert time.monotonic() > 0
