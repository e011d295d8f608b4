"""horde's CSV files are Locust's: header rows byte for byte, values of the same kinds.

Locust 2.47's files for two examples are kept in locust_csv/ (recorded with
``record_locust.py --csv``): basic.py (failures) and x-forwarded-for.py (exceptions, from its
class without tasks). horde runs the same examples with the same command line; its four files
must have the same header rows and line endings, the same columns on every row, and in each
column a value of the kind Locust writes there (whole milliseconds, float text, N/A, Unix
seconds, UTC times, Locust's error texts).
"""

from __future__ import annotations

import csv
import re
import tempfile
from pathlib import Path

import pytest

from tests.compat.examples import BY_ID, args_for
from tests.compat.harness import EXAMPLES, HERE, Server, run

FIXTURES = HERE / "locust_csv"
FILES = ("stats", "stats_history", "failures", "exceptions")
KINDS = {
    "int": re.compile(r"-?\d+"),
    "float": re.compile(r"-?\d+\.\d+(e-?\d+)?"),
    "N/A": re.compile(r"N/A"),
    "utc": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"),
    "repr": re.compile(r"[A-Za-z]+\(.*\)", re.S),
}


def kind(value: str) -> str:
    for name, pattern in KINDS.items():
        if pattern.fullmatch(value):
            return name
    return "text"


@pytest.fixture(scope="module", params=["basic", "x-forwarded-for"])
def files(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """horde's four CSV files of one example's run, by file kind."""
    example = BY_ID[request.param]
    server = Server("example_site.py")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run("horde", EXAMPLES / example.path, args_for(example, server.url),
                          Path(tmp))  # fmt: skip
            stem = Path(example.path).stem
            found = {
                name: (Path(tmp) / f"horde-{stem}_{name}.csv").read_bytes().decode()
                for name in FILES
            }
    finally:
        server.stop()
    assert outcome.exit_code in (0, 1), outcome.output[-2000:]
    return request.param, found


def locust_file(example_id: str, name: str) -> str:
    return (FIXTURES / f"{example_id}_{name}.csv").read_bytes().decode()


@pytest.mark.parametrize("name", FILES)
def test_header_rows_are_locusts_byte_for_byte(files, name):
    example_id, horde_files = files
    locust_header = locust_file(example_id, name).split("\r\n", 1)[0] + "\r\n"
    text = horde_files[name]
    assert text.startswith(locust_header)
    # Every row ends in "\r\n" (a traceback inside a quoted field keeps its own "\n").
    rows = list(csv.reader(text.splitlines(keepends=True)))
    assert text.endswith("\r\n") and text.count("\r\n") == len(rows)


@pytest.mark.parametrize("name", FILES)
def test_values_are_of_the_kinds_locust_writes(files, name):
    example_id, horde_files = files
    locust_rows = list(csv.reader(locust_file(example_id, name).splitlines()))
    horde_rows = list(csv.reader(horde_files[name].splitlines()))
    if len(locust_rows) < 2 or len(horde_rows) < 2:
        assert len(locust_rows) == len(horde_rows) == 1  # both files hold a header only
        return
    columns = locust_rows[0]
    # The kinds a column holds in Locust's rows with requests (its first history row, before
    # any request, has zeros where later rows have floats).
    wanted: dict[str, set[str]] = {c: set() for c in columns}
    for row in locust_rows[1:]:
        for column, value in zip(columns, row, strict=True):
            wanted[column].add(kind(value))
    for row in horde_rows[1:]:
        assert len(row) == len(columns)
        for column, value in zip(columns, row, strict=True):
            found = kind(value)
            allowed = wanted[column] | ({"int"} if "float" in wanted[column] else set())
            assert found in allowed, f"{name}: {column} = {value!r}, Locust: {wanted[column]}"


def test_failures_say_what_locust_says(files):
    example_id, horde_files = files
    locust_errors = {
        r["Error"] for r in csv.DictReader(locust_file(example_id, "failures").splitlines())
    }
    horde_errors = {r["Error"] for r in csv.DictReader(horde_files["failures"].splitlines())}
    assert horde_errors == locust_errors


def test_the_history_counts_unix_seconds(files):
    _, horde_files = files
    rows = list(csv.DictReader(horde_files["stats_history"].splitlines()))
    assert rows and all(KINDS["int"].fullmatch(r["Timestamp"]) for r in rows)
    assert abs(int(rows[-1]["Timestamp"]) - __import__("time").time()) < 120
