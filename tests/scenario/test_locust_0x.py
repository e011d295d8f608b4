"""Locust 0.x's spelling (the seed article's): HttpLocust, task_set, min_wait/max_wait in ms."""

from __future__ import annotations

import random

from horde import HttpLocust, HttpUser, Locust, TaskSet, User, between, task


class Actions(TaskSet):
    @task
    def look(self):
        pass


def test_task_set_becomes_the_only_task_and_waits_are_milliseconds() -> None:
    class Old(HttpLocust):
        task_set = Actions
        min_wait = 200
        max_wait = 400

    assert Old.tasks == [Actions]
    assert [t.fn for t in Old._horde_tasks] == [Actions]
    random.seed(7)
    waits = [Old.wait_time(None) for _ in range(200)]
    assert 0.2 <= min(waits) < 0.22 and 0.38 < max(waits) <= 0.4


def test_one_bound_given_uses_locust_0x_default_for_the_other() -> None:
    class OnlyMin(Locust):
        task_set = Actions
        min_wait = 0

    # Locust 0.x's max_wait defaulted to 1000 ms.
    waits = [OnlyMin.wait_time(None) for _ in range(200)]
    assert min(waits) >= 0 and 0.5 < max(waits) <= 1.0


def test_a_task_sets_own_min_max_wait_is_its_wait_time() -> None:
    class Paced(TaskSet):
        min_wait = max_wait = 50

        @task
        def look(self):
            pass

    assert Paced.wait_time(None) == 0.05


def test_todays_names_win_over_the_old_ones() -> None:
    class Both(HttpUser):
        task_set = Actions
        tasks = []
        min_wait = 5000
        wait_time = between(0, 0)

    assert Both.tasks == [] and Both.wait_time(None) == 0


def test_old_names_are_todays_classes() -> None:
    assert HttpLocust is HttpUser and Locust is User
    assert HttpLocust.abstract  # importing it into a scenario file adds no user class
