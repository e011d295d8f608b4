"""Record what Locust does with each example, for the compatibility suite to compare against.

    .tools/bin/uv sync --frozen --group bench     # Locust 2.47.0 into .venv
    .venv/bin/python tests/compat/record_locust.py [EXAMPLE_ID ...]
    .venv/bin/python tests/compat/record_locust.py --csv       # Locust's CSV files, as fixtures
    .venv/bin/python tests/compat/record_locust.py --single-user [ID ...]   # run_single_user
    make setup                                    # back to the usual environment

Writes tests/compat/locust_results.json: for each example, the command line, Locust's exit
code, the requests and failures of each row of its stats CSV, what the server served, and the
lines the example printed. Recorded once and committed, rather than Locust being run by the
tests: Locust and its dependencies (gevent, Flask...) need not be installed for `make test`, the
suite does not pay Locust's run time on every run, and the reference does not move between runs.
Run it again when the examples or the Locust version change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.compat.examples import BY_ID, EXAMPLES, Example, args_for, locust_args
from tests.compat.harness import EXAMPLES as EXAMPLE_DIR
from tests.compat.harness import HERE, Server, run

RESULTS = HERE / "locust_results.json"


def record(example: Example) -> dict:
    if example.offline:
        args = locust_args(example, None)
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run("locust", EXAMPLE_DIR / example.path, args, Path(tmp),
                          timeout=example.seconds + 60, offline=example.offline,
                          script=example.script)  # fmt: skip
        served = outcome.served or {}
        url = "{url}"
    else:
        server = Server("xmlrpc_site.py" if example.target == "xmlrpc" else "example_site.py")
        url = server.url
        try:
            args = args_for(example, server.url)
            env = {k: v.format(url=server.url) for k, v in example.env.items()}
            with tempfile.TemporaryDirectory() as tmp:
                outcome = run(
                    "locust",
                    EXAMPLE_DIR / example.path,
                    args,
                    Path(tmp),
                    env,
                    timeout=example.seconds + 60,
                    stop_after=example.seconds + 1.5 if example.shape else None,
                )
            served = server.served() if example.target == "site" else {}
        finally:
            server.stop()
    printed = list(
        dict.fromkeys(
            line.strip()
            for line in outcome.output.splitlines()
            if any(p in line for p in example.prints)
        )
    )
    return {
        "args": [a.replace(url, "{url}") for a in args],
        "exit_code": outcome.exit_code,
        "rows": {name: list(counts) for name, counts in outcome.rows.items()},
        "served": served,
        "printed": printed[:20],
        "seconds": round(outcome.seconds, 1),
    }


CSV_FIXTURES = HERE / "locust_csv"
CSV_EXAMPLES = ("basic", "x-forwarded-for")  # failures; exceptions (a class without tasks)


def record_csv() -> None:
    """Locust's CSV files for a run of examples with failures and exceptions, kept as they
    are (tests/compat/locust_csv/): horde's header rows must be the same, byte for byte, and
    its values of the same kinds (test_csv_files.py)."""
    import shutil

    CSV_FIXTURES.mkdir(exist_ok=True)
    for example_id in CSV_EXAMPLES:
        example = BY_ID[example_id]
        server = Server("example_site.py")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                run("locust", EXAMPLE_DIR / example.path, args_for(example, server.url), Path(tmp))
                for made in Path(tmp).glob("locust-*.csv"):
                    name = made.name.removeprefix("locust-").replace(Path(example.path).stem,
                                                                      example_id)  # fmt: skip
                    shutil.copy(made, CSV_FIXTURES / name)
        finally:
            server.stop()
        print("recorded Locust's CSV files of", example_id)


def record_single_user(wanted: list[str]) -> None:
    """What Locust's examples print when run as a script (``run_single_user``): the section
    "single_user" of locust_results.json (test_single_user.py)."""
    from tests.compat.single_user import BY_ID as SINGLE
    from tests.compat.single_user import SINGLE_USER, run_script

    results = json.loads(RESULTS.read_text())
    section = results.setdefault("single_user", {})
    for example in SINGLE_USER:
        if wanted and example.id not in wanted:
            continue
        found = run_script("locust", SINGLE[example.id])
        section[example.id] = {
            "exit_code": found.exit_code,
            "requests": sorted(list(r) for r in found.requests),
            "lines": found.lines,
        }
        print(example.id, found.exit_code, sorted(found.requests), found.lines)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def main() -> int:
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        print("Locust is not installed: .tools/bin/uv sync --frozen --group bench")
        return 1
    if sys.argv[1:] == ["--csv"]:
        record_csv()
        return 0
    if sys.argv[1:2] == ["--single-user"]:
        record_single_user(sys.argv[2:])
        return 0
    version = subprocess.run([str(locust), "--version"], capture_output=True, text=True).stdout
    wanted = sys.argv[1:] or [e.id for e in EXAMPLES]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["locust_version"] = version.split()[1] if version else "?"
    examples = results.setdefault("examples", {})
    for example_id in wanted:
        examples[example_id] = record(BY_ID[example_id])
        print(example_id, examples[example_id]["exit_code"], examples[example_id]["rows"])
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
