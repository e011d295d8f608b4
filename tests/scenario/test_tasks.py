"""Task collection, weights, tags and task-set nesting, as compiled at class creation."""

import pytest

from horde import SequentialTaskSet, TaskSet, User, tag, task
from horde.scenario.tasks import all_tags, apply_tag_filter


def test_task_weights_expand_into_the_schedule():
    class U(User):
        @task(3)
        def a(self):
            pass

        @task
        def b(self):
            pass

    names = [t.fn.__name__ for t in U._horde_schedule]
    assert names.count("a") == 3
    assert names.count("b") == 1


def test_tasks_attribute_as_list_and_dict():
    def f(user):
        pass

    def g(user):
        pass

    class L(User):
        tasks = [f, g]

    class D(User):
        tasks = {f: 2, g: 5}

    assert [t.fn for t in L._horde_schedule] == [f, g]
    assert [t.fn for t in D._horde_schedule].count(g) == 5


def test_overridden_task_method_is_not_run_twice():
    class Base(User):
        abstract = True

        @task
        def a(self):
            pass

    class Child(Base):
        @task(2)
        def a(self):
            pass

    assert len(Child._horde_schedule) == 2
    assert all(t.fn is Child.__dict__["a"] for t in Child._horde_schedule)


def test_async_and_blocking_tasks_are_told_apart():
    class U(User):
        @task
        def sync_task(self):
            pass

        @task
        async def async_task(self):
            pass

    kinds = {t.fn.__name__: t.is_async for t in U._horde_tasks}
    assert kinds == {"sync_task": False, "async_task": True}


def test_tag_filter_includes_and_excludes_tasks_and_task_sets():
    class Inner(TaskSet):
        @tag("api")
        @task
        def api_call(self):
            pass

        @task
        def browse(self):
            pass

    class U(User):
        tasks = [Inner]

        @tag("web")
        @task
        def page(self):
            pass

    assert all_tags([U]) == {"api", "web"}
    kept = apply_tag_filter([U], ["api"], None)
    assert kept == [U]
    assert [t.fn for t in U._horde_tasks] == [Inner]
    assert [t.fn.__name__ for t in Inner._horde_tasks] == ["api_call"]

    apply_tag_filter([U], None, ["api"])
    assert {t.fn.__name__ for t in Inner._horde_tasks} == {"browse"}
    assert len(U._horde_tasks) == 2

    assert apply_tag_filter([U], ["nothing-has-this"], None) == []


def test_sequential_task_set_runs_in_declaration_order():
    class Steps(SequentialTaskSet):
        @task
        def first(self):
            pass

        @task(2)
        def second(self):
            pass

        @task
        def third(self):
            pass

    class U(User):
        tasks = [Steps]

    steps = Steps(U.__new__(U))
    order = [steps.next_task().fn.__name__ for _ in range(8)]
    assert order == ["first", "second", "second", "third", "first", "second", "second", "third"]


def test_task_weight_must_be_a_non_negative_integer():
    with pytest.raises(ValueError, match="non-negative integer"):

        @task(-1)
        def bad(self):
            pass
