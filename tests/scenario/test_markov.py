"""MarkovTaskSet: tasks chained by weighted transitions, checked when the class is made."""

import asyncio
import logging
from itertools import pairwise

import pytest
import uvloop

from horde import MarkovTaskSet, User, constant, tag, transition, transitions
from horde.runner.environment import Environment
from horde.runner.load import Users
from horde.runner.local import LocalRunner
from horde.scenario.markov import (
    InvalidTransitionError,
    MarkovTaskTagError,
    NoMarkovTasksError,
    NonMarkovTaskTransitionError,
)
from horde.stats import RequestStats

pytestmark = pytest.mark.timeout(60)


def test_a_user_follows_the_chain_from_its_first_task():
    visited: list[str] = []

    class Shop(MarkovTaskSet):
        @transition("browse")
        def home(self):
            visited.append("home")

        @transitions({"cart": 1, "home": 3})
        def browse(self):
            visited.append("browse")

        @transitions([("home", 1)])
        def cart(self):
            visited.append("cart")

    class Shopper(User):
        tasks = [Shop]
        wait_time = constant(0)

    async def main() -> None:
        env = Environment(user_classes=[Shopper], stats=RequestStats())
        runner = LocalRunner(env)
        runner.start(Users(1, 1))
        await asyncio.sleep(0.3)
        await runner.stop()

    uvloop.run(main())
    assert visited[0] == "home" and len(visited) > 50
    successors = {"home": {"browse"}, "browse": {"cart", "home"}, "cart": {"home"}}
    for current, following in pairwise(visited):
        assert following in successors[current], (current, following)
    after_browse = [b for a, b in pairwise(visited) if a == "browse"]
    # Weights 3:1 towards home: clearly more often home than cart.
    assert after_browse.count("home") > after_browse.count("cart")


def test_the_chain_is_checked_with_locusts_errors(caplog):
    with pytest.raises(NoMarkovTasksError, match="No Markov tasks defined in class Empty"):
        type("Empty", (MarkovTaskSet,), {})
    with pytest.raises(InvalidTransitionError, match="Transition to nowhere from a is invalid"):

        class Broken(MarkovTaskSet):
            @transition("nowhere")
            def a(self):
                pass

    with pytest.raises(NonMarkovTaskTransitionError, match=r"Plain\.helper cannot be used"):

        class Plain(MarkovTaskSet):
            @transition("helper")
            def a(self):
                pass

            def helper(self):
                pass

    with pytest.raises(MarkovTaskTagError, match="Tags are unsupported"):

        class Tagged(MarkovTaskSet):
            @tag("x")
            @transition("a")
            def a(self):
                pass

    with caplog.at_level(logging.WARNING):

        class Island(MarkovTaskSet):
            @transition("a")
            def a(self):
                pass

            @transition("a")
            def b(self):  # nothing leads here
                pass

    assert "unreachable in class Island: {'b'}" in caplog.text


def test_an_abstract_chain_is_not_checked():
    class Base(MarkovTaskSet):
        abstract = True

    assert Base.abstract
