"""Tasks, tags and task sets: what a simulated user does, and in which order.

Class bodies are compiled once, when the class is created, into a list of ``Task`` records (the
function, whether it is ``async``, whether it is a nested task set) and a selection list with each
task repeated by its weight. The task loop then only picks from that list: no decorator lookups or
``inspect`` calls on the path of every task.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from horde.exceptions import InterruptTaskSet
from horde.scenario.wait_time import between

if TYPE_CHECKING:
    from horde.scenario.users import User

F = TypeVar("F", bound=Callable[..., Any])
H = TypeVar("H", bound="type[TaskHolder]")  # users or task sets, filtered by tag

__all__ = ["SequentialTaskSet", "Task", "TaskSet", "apply_tag_filter", "tag", "task"]


def task(weight: int | Callable[..., Any] = 1) -> Any:
    """Mark a method as a task; ``@task`` or ``@task(3)`` (picked three times as often)."""

    def mark(fn: F) -> F:
        if not isinstance(weight, int) or weight < 0:
            raise ValueError(f"@task weight for {fn.__name__} must be a non-negative integer")
        fn.horde_task_weight = weight  # type: ignore[attr-defined]  # a mark on the function
        return fn

    if callable(weight) and not isinstance(weight, int):
        fn, weight = weight, 1
        return mark(fn)
    return mark


def tag(*tags: str) -> Callable[[F], F]:
    """Tag a task or task set so a run can include (``-T``) or exclude (``-E``) it by name."""
    for t in tags:
        if not isinstance(t, str) or not t:
            raise ValueError("@tag takes non-empty strings")

    def mark(obj: F) -> F:
        existing = set(getattr(obj, "horde_tags", ()))
        obj.horde_tags = existing | set(tags)  # type: ignore[attr-defined]  # a mark, as above
        return obj

    return mark


class Task:
    """One entry of a user's or task set's task list, resolved once at class creation."""

    __slots__ = ("fn", "is_async", "is_taskset", "name", "tags", "weight")

    def __init__(self, fn: Any, weight: int) -> None:
        self.fn = fn
        self.weight = weight
        self.is_taskset = isinstance(fn, type) and issubclass(fn, TaskSet)
        self.is_async = (not self.is_taskset) and inspect.iscoroutinefunction(fn)
        self.name: str = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
        self.tags: frozenset[str] = frozenset(getattr(fn, "horde_tags", ()))

    def __repr__(self) -> str:
        return f"<Task {self.name} weight={self.weight}>"


def collect_tasks(cls: type) -> list[Task]:
    """Tasks of a class: its ``tasks`` attribute (list or dict) plus ``@task`` methods, in order."""
    found: list[Task] = []
    declared = cls.__dict__.get("tasks")
    if declared is None:
        # Inherited ``tasks`` lists are honoured, like Locust, unless the class defines its own.
        for base in cls.__mro__[1:]:
            if "tasks" in base.__dict__:
                declared = base.__dict__["tasks"]
                break
    if isinstance(declared, dict):
        found.extend(Task(fn, int(w)) for fn, w in declared.items())
    elif declared:
        for item in declared:
            if isinstance(item, tuple):
                found.append(Task(item[0], int(item[1])))
            else:
                found.append(Task(item, getattr(item, "horde_task_weight", 1)))
    methods: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in klass.__dict__.items():
            # Only the definition the class actually resolves to counts (overrides replace).
            if hasattr(value, "horde_task_weight") and getattr(cls, attr, None) is value:
                methods[attr] = value
    found.extend(Task(fn, fn.horde_task_weight) for fn in methods.values())
    return found


def _build_schedule(tasks: Iterable[Task]) -> list[Task]:
    schedule: list[Task] = []
    for t in tasks:
        schedule.extend([t] * t.weight)
    return schedule


def _picker(schedule: list[Task]) -> Callable[[], Task]:
    """A function choosing a task by weight, made once per class (not per user)."""
    if len(set(schedule)) == 1:
        only = schedule[0]
        return lambda: only
    size = len(schedule)
    rand = random.random
    return lambda: schedule[int(rand() * size)]


def _compile(cls: type[TaskHolder], tasks: list[Task]) -> None:
    cls._horde_tasks = tasks
    cls._horde_schedule = _build_schedule(tasks)
    cls._horde_pick = staticmethod(_picker(cls._horde_schedule) if cls._horde_schedule else _none)


def _none() -> Task:
    raise LookupError("no task to run")


class TaskHolder:
    """Shared class machinery of users and task sets: compiled task lists and tag filtering."""

    tasks: list[Any] | dict[Any, int] = []
    _horde_all_tasks: list[Task] = []
    _horde_tasks: list[Task] = []
    _horde_schedule: list[Task] = []
    _horde_pick: Callable[[], Task]
    # A user's (or a task set's own) wait between tasks; declared here for the Locust 0.x reader.
    wait_time: Callable[[Any], float] | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _read_locust_0x_names(cls)
        cls._horde_all_tasks = collect_tasks(cls)
        _compile(cls, list(cls._horde_all_tasks))


# Locust 0.x waited random.randint(min_wait, max_wait) milliseconds, 1000 each by default.
_LOCUST_0X_WAIT_MS = 1000


def _read_locust_0x_names(cls: type[TaskHolder]) -> None:
    """Read Locust 0.x's spelling, which the seed article and many old locustfiles use.

    ``task_set = UserActions`` means ``tasks = [UserActions]``; ``min_wait``/``max_wait`` (in
    milliseconds) mean ``wait_time = between(min_wait / 1000, max_wait / 1000)``. Today's names
    win when a class gives both.
    """
    body = cls.__dict__
    if "task_set" in body and "tasks" not in body:
        cls.tasks = [body["task_set"]]
    if ("min_wait" in body or "max_wait" in body) and "wait_time" not in body:
        low = getattr(cls, "min_wait", _LOCUST_0X_WAIT_MS)
        high = getattr(cls, "max_wait", _LOCUST_0X_WAIT_MS)
        cls.wait_time = between(low / 1000, max(low, high) / 1000)


class TaskSet(TaskHolder):
    """A group of tasks a user runs until one of them calls ``interrupt()``; sets can nest.

    Inside a task set's tasks, ``self.user`` is the simulated user, ``self.client`` its client and
    ``self.parent`` the user or task set that entered this one.
    """

    wait_time: Callable[[Any], float] | None = None

    def __init__(self, parent: User | TaskSet) -> None:
        self.parent = parent
        self.user: User = parent if not isinstance(parent, TaskSet) else parent.user

    @property
    def client(self) -> Any:
        """The user's client (Locust's shortcut), for users that have one (``HttpUser``)."""
        return self.user.client  # type: ignore[attr-defined]  # only some User classes have one

    @property
    def locust(self) -> User:
        """Locust 0.x's name for ``self.user``."""
        return self.user

    def on_start(self) -> Any:
        """Called when a user enters this task set (may be ``async``)."""

    def on_stop(self) -> Any:
        """Called when a user leaves this task set (may be ``async``)."""

    def interrupt(self, reschedule: bool = True) -> None:
        """Leave this task set; the parent picks its next task at once (or after a wait)."""
        raise InterruptTaskSet(reschedule)

    def next_task(self) -> Task:
        return self._horde_pick()


class SequentialTaskSet(TaskSet):
    """A task set whose tasks run in declaration order, over and over (weights repeat a task)."""

    def __init__(self, parent: User | TaskSet) -> None:
        super().__init__(parent)
        self._position = 0

    def next_task(self) -> Task:
        schedule = self._horde_schedule
        t = schedule[self._position % len(schedule)]
        self._position += 1
        return t


def _filter(cls: type[TaskHolder], tags: frozenset[str] | None, exclude: frozenset[str]) -> bool:
    """Filter ``cls`` in place; True when anything is left to run."""
    kept: list[Task] = []
    for t in cls._horde_all_tasks:
        if t.tags & exclude:
            continue
        if t.is_taskset:
            # A tagged task set counts as a whole; an untagged one by what its tasks keep.
            inner_tags = None if (tags is not None and t.tags & tags) else tags
            if _filter(t.fn, inner_tags, exclude):
                kept.append(t)
        elif tags is None or t.tags & tags:
            kept.append(t)
    _compile(cls, kept)
    return bool(cls._horde_schedule)


def apply_tag_filter(
    classes: Iterable[H], tags: Iterable[str] | None, exclude: Iterable[str] | None
) -> list[H]:
    """Keep only tasks matching ``tags`` and not ``exclude``; returns classes with tasks left.

    Without any filter every class is kept, one without a task too: as under Locust it runs,
    and its users say they have nothing to do (``horde.scenario.users``)."""
    tag_set = frozenset(tags) if tags else None
    exclude_set = frozenset(exclude or ())
    unfiltered = tag_set is None and not exclude_set
    return [cls for cls in classes if _filter(cls, tag_set, exclude_set) or unfiltered]


def all_tags(classes: Iterable[type[TaskHolder]]) -> set[str]:
    """Every tag used anywhere under ``classes`` (to reject an unknown ``-T`` name)."""
    found: set[str] = set()
    for cls in classes:
        for t in cls._horde_all_tasks:
            found |= t.tags
            if t.is_taskset:
                found |= all_tags([t.fn])
    return found
