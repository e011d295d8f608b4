"""Locust's own example locustfiles, run as written with `horde run`, compared with Locust.

Each example runs with the same Locust flags against the example site (example_site.py) or its
XML-RPC server; what Locust recorded with the same command is in locust_results.json (written
by record_locust.py). An example passes when horde records the same request rows with the same
failures, in the same proportions (or, where users wait between tasks, about the same numbers),
the server served exactly what horde counted, and what the example prints appears. Examples
that need what horde does not have yet are expected failures whose reason names the missing item
of issue 13; they run anyway (strict), so one that starts passing must lose its mark. Examples
that send requests to internet hosts run offline: their host names are the example site, in
namespaces of their own (offline.py).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.compat import offline
from tests.compat.examples import EXAMPLES, Example, args_for, locust_args
from tests.compat.harness import EXAMPLES as EXAMPLE_DIR
from tests.compat.harness import HERE, Outcome, Server, run

RECORDED = json.loads((HERE / "locust_results.json").read_text())
PARALLEL_RUNS = 4  # examples mostly wait; a few are CPU-bound
STATS_PRINT_INTERVAL = 2  # seconds between the tables Locust's stats_printer prints


def _params() -> list:
    params = []
    why_not_offline = offline.available()
    for example in EXAMPLES:
        marks = []
        if example.offline and why_not_offline:
            marks.append(pytest.mark.skip(reason=f"it needs an offline run: {why_not_offline}"))
        elif example.missing:
            marks.append(pytest.mark.xfail(strict=True, reason=example.missing))
        params.append(pytest.param(example, id=example.id, marks=marks))
    return params


def _run_one(example: Example) -> tuple[Outcome, dict[str, int]]:
    path = EXAMPLE_DIR / example.path
    timeout = example.seconds + 45
    if example.offline:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run("horde", path, locust_args(example, None), Path(tmp), timeout=timeout,
                          offline=example.offline, script=example.script)  # fmt: skip
        return outcome, outcome.served or {}
    server = Server("xmlrpc_site.py" if example.target == "xmlrpc" else "example_site.py")
    try:
        env = {k: v.format(url=server.url) for k, v in example.env.items()}
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run("horde", path, args_for(example, server.url), Path(tmp), env, timeout)
        served = server.served() if example.target == "site" else {}
    finally:
        server.stop()
    return outcome, served


@pytest.fixture(scope="module")
def horde_runs(request: pytest.FixtureRequest) -> dict[str, tuple[Outcome, dict[str, int]]]:
    """Every selected example run once by horde, several at a time (each with its own site)."""
    selected = [
        callspec.params["example"]
        for item in request.session.items
        if item.module is request.module
        and (callspec := getattr(item, "callspec", None)) is not None
        and "example" in callspec.params
    ]
    why_not_offline = offline.available()
    wanted = [e for e in selected if not (e.offline and why_not_offline)]
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        results = dict(zip([e.id for e in wanted], pool.map(_run_one, wanted), strict=True))
    return results


def compare(example: Example, horde: Outcome, served: dict[str, int], locust: dict) -> list[str]:
    """What differs between horde's run and Locust's recorded one (empty: the same)."""
    problems = []
    if horde.exit_code not in (0, 1):
        problems.append(f"horde exited with {horde.exit_code}")
    elif locust["exit_code"] in (0, 1) and horde.exit_code != locust["exit_code"]:
        problems.append(f"horde exited with {horde.exit_code}, Locust {locust['exit_code']}")
    for line in horde.output.splitlines():
        expected = any(error in line for error in example.errors)
        if (
            (" ERROR " in line and not expected)
            or line.startswith("Traceback")
            or "horde: error:" in line
        ):
            problems.append(f"horde said: {line.strip()[:300]}")
        if "blocked the event loop" in line and Path(example.path).name in line:
            # A wait in the example's code that stalled every user (a busy machine can make
            # the loop late elsewhere; that is not the example's doing).
            problems.append(f"horde warned: {line.strip()[:300]}")
    for error in example.errors:
        if error not in horde.output:
            problems.append(f"horde did not log Locust's error {error!r}")
    # Stalled users make a run overrun its time (Locust's quickstart took 27 s for 5 s before
    # the cooperative layer). What comes before and after the load (imports, an offline run's
    # namespaces and site, requests at import) took Locust as long: its time is the floor.
    allowed = max(example.seconds, locust.get("seconds", 0)) + 10
    if horde.seconds > allowed:
        problems.append(
            f"horde took {horde.seconds:.0f} s for a {example.seconds} s run (Locust "
            f"{locust.get('seconds', '?')} s)"
        )
    locust_rows = _named(example, {n: (c[0], c[1]) for n, c in locust["rows"].items()})
    horde_rows = _named(
        example, {n: c for n, c in horde.rows.items() if n not in example.redirect_hops}
    )
    for hop in example.redirect_hops:
        if hop not in horde.rows:
            problems.append(f"horde did not record the redirect hop {hop!r} as its own request")
    if set(horde_rows) != set(locust_rows):
        problems.append(f"rows differ: horde {sorted(horde_rows)}, Locust {sorted(locust_rows)}")
        return problems
    horde_total = sum(r for r, _ in horde_rows.values())
    locust_total = sum(r for r, _ in locust_rows.values())
    for name, (requests, failures) in horde_rows.items():
        l_requests, l_failures = locust_rows[name]
        pattern = _failure_pattern(requests, failures)
        if pattern != _failure_pattern(l_requests, l_failures):
            problems.append(
                f"{name}: horde {failures} of {requests} failed, Locust {l_failures} of "
                f"{l_requests}"
            )
        if example.throughput_bound:
            # Without waits each tool runs as fast as it can: compare each row's share.
            share, l_share = requests / horde_total, l_requests / locust_total
            noise = 3 * math.sqrt(l_share * (1 - l_share) / min(horde_total, locust_total))
            if abs(share - l_share) > 0.05 + noise:
                problems.append(f"{name}: {share:.0%} of horde's requests, Locust {l_share:.0%}")
        elif example.random_counts:
            if requests == 0:
                problems.append(f"{name}: horde made no request, Locust {l_requests}")
        elif abs(requests - l_requests) > 3 * math.sqrt(requests + l_requests) + 0.25 * max(
            requests, l_requests
        ):
            # Counts of a few seconds of random waits and task choices are noisy (3 sigma),
            # and Locust's -t ends early by about its start-up time (gevent's timer starts
            # from the loop's cached clock), hence the proportional allowance.
            problems.append(f"{name}: horde made {requests} requests, Locust {l_requests}")
    # When every row is an HTTP request to the site, the counts must be the server's.
    every_row_http = all(n.split()[0].isupper() for n in horde.rows)
    served_here = example.target == "site" and not example.needs_web_ui
    sent = sum(r for n, (r, _) in horde.rows.items() if n not in example.unserved)
    sent += example.unrecorded
    served_total = sum(served.values())
    if served_here and every_row_http and example.script:
        # A library script's rows are the table it printed last, up to an interval of its
        # stats_printer before the end (Locust's too: 14,097 printed, 14,738 served): the site
        # served at least those, and not more than two intervals' worth besides.
        rate = sent / max(horde.seconds, 1.0)
        if not sent <= served_total <= sent + 2 * STATS_PRINT_INTERVAL * rate:
            problems.append(
                f"horde's last table shows {sent} requests, the site served {served_total} "
                f"({served})"
            )
    elif served_here and every_row_http and sent != served_total:
        problems.append(
            f"horde recorded {sent} requests, the site served {served_total} ({served})"
        )
    for text in (*example.prints, *locust.get("printed", [])):
        if text not in horde.output:
            problems.append(f"the example's output {text!r} is missing")
    return problems


def _named(example: Example, rows: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """``rows`` with the example's changing part of names replaced (counts added up)."""
    if example.row_names is None:
        return rows
    pattern, replacement = example.row_names
    merged: dict[str, tuple[int, int]] = {}
    for name, (requests, failures) in rows.items():
        key = re.sub(pattern, replacement, name)
        before = merged.get(key, (0, 0))
        merged[key] = (before[0] + requests, before[1] + failures)
    return merged


def _failure_pattern(requests: int, failures: int) -> str:
    return "none" if failures == 0 else "all" if failures == requests else "some"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("example", _params())
def test_example_runs_as_under_locust(
    example: Example, horde_runs: dict[str, tuple[Outcome, dict[str, int]]]
) -> None:
    horde, served = horde_runs[example.id]
    problems = compare(example, horde, served, RECORDED["examples"][example.id])
    assert not problems, "\n".join(problems) + "\n--- horde's output ---\n" + horde.output[-3000:]


def test_the_recorded_reference_covers_every_example_run_here() -> None:
    recorded = RECORDED["examples"]
    assert RECORDED["locust_version"] == "2.47.0"
    assert sorted(e.id for e in EXAMPLES) == sorted(recorded)
    # 37 examples need nothing but HTTP and the standard library, plus the XML-RPC one.
    assert len(EXAMPLES) == 38


def test_the_vendored_examples_keep_locusts_licence() -> None:
    licence = (EXAMPLE_DIR / "LICENSE").read_text()
    assert "The MIT License" in licence and "Carl Byström, Jonatan Heyman, Lars Holmberg" in licence
    assert all((EXAMPLE_DIR / e.path).exists() for e in EXAMPLES)
