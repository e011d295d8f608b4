"""Users per class: fixed counts first, weights share the rest exactly."""

from horde.runner.distribution import distribute, interleave


class A:
    weight = 1
    fixed_count = 0


class B:
    weight = 3
    fixed_count = 0


class Admin:
    weight = 1
    fixed_count = 2


def test_weights_share_users_and_always_add_up():
    for total in range(0, 50):
        counts = distribute([A, B], total)
        assert sum(counts.values()) == total
        assert abs(counts[B] - 3 * total / 4) <= 1


def test_fixed_count_comes_first_and_is_capped_by_total():
    assert distribute([A, Admin], 10) == {A: 8, Admin: 2}
    assert distribute([A, Admin], 1) == {A: 0, Admin: 1}


def test_interleave_keeps_the_mix_at_every_prefix():
    order = interleave({A: 25, B: 75})
    assert len(order) == 100
    for n in range(4, 101, 4):
        assert order[:n].count(B) == 3 * n // 4
