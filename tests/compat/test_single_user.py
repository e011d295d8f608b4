"""``run_single_user``: Locust's examples run as scripts with ``horde exec``, compared with
what ``python FILE`` printed with Locust (locust_results.json, section "single_user").

Each prints its requests through Locust's PrintListener (the same lines under horde) and its own
lines; both tools must print the same requests (type, name, failed or not), the same lines,
and end the same way (by themselves, or by Ctrl-C).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.compat import offline
from tests.compat.harness import HERE
from tests.compat.single_user import SINGLE_USER, ScriptRun, SingleUser, run_script

RECORDED = json.loads((HERE / "locust_results.json").read_text())["single_user"]


def _params() -> list:
    why_not = offline.available()
    return [
        pytest.param(
            example,
            id=example.id,
            marks=[pytest.mark.skip(reason=why_not)] if example.offline and why_not else [],
        )
        for example in SINGLE_USER
    ]


@pytest.fixture(scope="module")
def horde_runs() -> dict[str, ScriptRun]:
    runnable = [e for e in SINGLE_USER if not (e.offline and offline.available())]
    with ThreadPoolExecutor(4) as pool:
        return dict(
            zip(
                [e.id for e in runnable],
                pool.map(lambda e: run_script("horde", e), runnable),
                strict=True,
            )
        )


@pytest.mark.timeout(300)
@pytest.mark.parametrize("example", _params())
def test_run_single_user_prints_what_locust_prints(example: SingleUser, horde_runs):
    horde = horde_runs[example.id]
    locust = RECORDED[example.id]
    assert horde.exit_code == locust["exit_code"], horde.output[-3000:]
    assert sorted(list(r) for r in horde.requests) == locust["requests"], horde.output[-3000:]
    assert horde.lines == locust["lines"], horde.output[-3000:]
    assert "Traceback" not in horde.output or example.id in ("rest", "bottlenecked_server")


def test_every_example_that_calls_run_single_user_is_here():
    calls = {
        path.relative_to(HERE / "locust_examples").as_posix().removesuffix(".py")
        for path in (HERE / "locust_examples").rglob("*.py")
        if "run_single_user(" in path.read_text()
    }
    assert calls == {e.id for e in SINGLE_USER} == set(RECORDED)
