"""``MarkovTaskSet``: tasks chained by weighted transitions (Locust's, with its checks).

Each task names the tasks that may follow it (``@transition("browse", weight=3)``, or several
at once with ``@transitions({...})`` or a list); a user starts at the first task of the class
and after each task moves to one of its successors, picked by weight. The chain is checked when
the class is defined, with Locust's errors: no task, a transition to a name that is not a task
of the chain, a task with tags, a method named ``run``; a task no other reaches is warned about.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any, TypeVar

from horde.compat.locust_api.exceptions import LocustError
from horde.scenario.tasks import Task, TaskSet, _compile

__all__ = [
    "InvalidTransitionError",
    "MarkovTaskSet",
    "MarkovTaskTagError",
    "NoMarkovTasksError",
    "NonMarkovTaskTransitionError",
    "transition",
    "transitions",
]

log = logging.getLogger("horde.user")

F = TypeVar("F", bound=Callable[..., Any])


class NoMarkovTasksError(LocustError):
    """A MarkovTaskSet class defines no task with transitions."""


class InvalidTransitionError(LocustError):
    """A transition names something that is not on the class."""


class NonMarkovTaskTransitionError(LocustError):
    """A transition names a method that has no transitions of its own."""


class MarkovTaskTagError(LocustError):
    """Tags are not supported on Markov tasks (filtering could break the chain)."""


def transition(func_name: str, weight: int = 1) -> Callable[[F], F]:
    """Let the decorated task be followed by ``func_name`` (``weight``: how often, relatively)."""

    def mark(fn: F) -> F:
        table: dict[str, int] = fn.__dict__.setdefault("transitions", {})
        table[func_name] = weight
        return fn

    return mark


def transitions(weights: dict[str, int] | list[tuple[str, int] | str]) -> Callable[[F], F]:
    """Several transitions at once: ``{"a": 3, "b": 1}``, ``["a", "b"]`` or
    ``[("a", 3), "b"]`` (a name alone weighs 1)."""

    def mark(fn: F) -> F:
        table: dict[str, int] = fn.__dict__.setdefault("transitions", {})
        if isinstance(weights, dict):
            table.update(weights)
        else:
            for item in weights:
                name, weight = item if isinstance(item, tuple) else (item, 1)
                table[name] = weight
        return fn

    return mark


def _is_markov_task(obj: Any) -> bool:
    return callable(obj) and isinstance(getattr(obj, "transitions", None), dict | list)


class MarkovTaskSet(TaskSet):
    """A task set whose next task follows from the current one (see the module's docstring).

    ``abstract = True`` on a class meant only to be subclassed skips its checks."""

    abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract"):
            return
        cls.abstract = False
        body = cls.__dict__
        chain = [fn for fn in body.values() if _is_markov_task(fn)]
        _check_chain(cls.__name__, chain, body)
        # Each task's successors, repeated by weight, as Locust keeps them.
        cls._horde_markov = {
            fn.__name__: (Task(fn, 1), [n for n, w in fn.transitions.items() for _ in range(w)])
            for fn in chain
        }
        cls._horde_markov_start = chain[0].__name__
        cls._horde_all_tasks = [task for task, _ in cls._horde_markov.values()]
        _compile(cls, list(cls._horde_all_tasks))

    _horde_markov: dict[str, tuple[Task, list[str]]] = {}
    _horde_markov_start = ""

    def __init__(self, parent: Any) -> None:
        super().__init__(parent)
        self._horde_current = type(self)._horde_markov_start

    @property
    def current(self) -> Callable[..., Any]:
        """The task that runs next (Locust's attribute), as a bound method."""
        return getattr(self, self._horde_current)  # type: ignore[no-any-return]

    def next_task(self) -> Task:
        task, successors = self._horde_markov[self._horde_current]
        self._horde_current = random.choice(successors)
        return task

    get_next_task = next_task


def _check_chain(classname: str, chain: list[Any], body: Any) -> None:
    if not chain:
        raise NoMarkovTasksError(
            f"No Markov tasks defined in class {classname}. Use the @transition(s) decorators "
            "to define some."
        )
    for fn in chain:
        for target in fn.transitions:
            found = body.get(target)
            if not found:
                raise InvalidTransitionError(
                    f"Transition to {target} from {fn.__name__} is invalid since no such "
                    f"element exists on class {classname}"
                )
            if not _is_markov_task(found):
                raise NonMarkovTaskTransitionError(
                    f"{classname}.{target} cannot be used as a target for a transition since it "
                    f"does not define any transitions of its own.Used as a transition from "
                    f"{fn.__name__}."
                )
        if fn.__name__ in ("on_stop", "on_start"):
            log.warning(
                "You have tagged your on_stop/start function with @transition. This will make "
                "the method get called both as a step AND on stop/start."
            )
        if fn.__name__ == "run":
            raise Exception(
                "TaskSet.run() is a method used internally by Locust, and you must not override "
                "it or annotate it with transitions"
            )
        if getattr(fn, "horde_tags", None):
            raise MarkovTaskTagError(
                "Tags are unsupported for MarkovTaskSet since they can make the markov chain "
                f"invalid. Tags detected on {classname}.{fn.__name__}: {fn.horde_tags}"
            )
    reached: set[str] = set()
    pending = [chain[0].__name__]
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        pending.extend(t for t, w in body[name].transitions.items() if w > 0)
    unreachable = {fn.__name__ for fn in chain} - reached
    if unreachable:
        log.warning(
            "The following markov tasks are unreachable in class %s: %s", classname, unreachable
        )
