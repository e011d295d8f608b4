"""The store, on both backends: a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from horde.history import (
    HistoryError,
    RunQuery,
    describe_location,
    open_store,
    resolve_ref,
)
from horde.history import schema as schema_module
from horde.history.saving import save_run

from .records import make_record


def test_a_run_comes_back_as_it_was_saved(store_location):
    meta = {"generator_health": {"saturated": True, "cpu_p95": 97.0}, "stop_reason": "x"}
    record = make_record(seconds=5, meta=meta)
    record.tags = ["first"]
    store = open_store(store_location)
    try:
        run_id = store.save(record)
        back = store.load(run_id)
    finally:
        store.close()
    assert back.id == run_id == record.id
    assert back.uuid == record.uuid
    assert back.tags == ["first"]
    assert (back.requests, back.failures, back.load) == (
        record.requests,
        record.failures,
        "10 users",
    )
    assert back.p95 == pytest.approx(record.p95)
    # The whole result document is kept: fields added by other parts of horde survive.
    assert back.document["meta"]["generator_health"] == {"saturated": True, "cpu_p95": 97.0}
    assert back.samples == record.samples
    assert back.settings == {"users": 10}


def test_listing_filters_and_orders_newest_first(store_location):
    store = open_store(store_location)
    try:
        ids = []
        for i, (scenario, host) in enumerate(
            [("a.py", "http://x"), ("b.py", "http://x"), ("a.py", "http://y"), ("a.py", "http://x")]
        ):
            record = make_record(seconds=3, scenario=scenario, host=host, started_at=1000.0 + i)
            ids.append(store.save(record))
        store.tag("keep", ids[1])
        assert [r.id for r in store.runs()] == ids[::-1]
        assert [r.id for r in store.runs(RunQuery(scenario="a.py"))] == [ids[3], ids[2], ids[0]]
        assert [r.id for r in store.runs(RunQuery(scenario="a.py", host="http://x"))] == [
            ids[3],
            ids[0],
        ]
        assert [r.id for r in store.runs(RunQuery(tag="keep"))] == [ids[1]]
        assert [r.id for r in store.runs(RunQuery(since=1002.0))] == [ids[3], ids[2]]
        assert [r.id for r in store.runs(RunQuery(limit=2))] == [ids[3], ids[2]]
        # Listing leaves the blobs out; loading one run brings them.
        assert store.runs(RunQuery(limit=1))[0].samples == {}
    finally:
        store.close()


def test_refs_tags_and_deletion(store_location):
    store = open_store(store_location)
    try:
        first = store.save(make_record(seconds=2, started_at=1.0))
        second = store.save(make_record(seconds=2, started_at=2.0, host="http://other"))
        third = store.save(make_record(seconds=2, started_at=3.0))
        assert resolve_ref(store, str(first)) == first
        assert resolve_ref(store, f"#{second}") == second
        assert resolve_ref(store, "last") == third
        assert resolve_ref(store, "last~1") == second
        # Within a scope (a scenario and a host), other runs do not count.
        assert resolve_ref(store, "last~1", "shop.py", "http://127.0.0.1:8000") == first
        assert store.tag("release", first) is None
        assert resolve_ref(store, "release") == first
        assert store.tag("release", third) == first  # a tag names one run: it moves
        assert resolve_ref(store, "release") == third
        assert store.delete(third)
        with pytest.raises(HistoryError, match="no run or tag 'release'"):
            resolve_ref(store, "release")  # the tag went with the run
        with pytest.raises(HistoryError, match=f"no run #{third}"):
            store.load(third)
        with pytest.raises(HistoryError, match="no run last~5"):
            resolve_ref(store, "last~5")
        assert not store.delete(third)
        assert store.untag("nothing") is False
    finally:
        store.close()


def test_migrations_are_applied_once_and_later_ones_on_old_files(store_location, monkeypatch):
    store = open_store(store_location)
    try:
        run_id = store.save(make_record(seconds=2))
        assert store.schema_versions() == [1]
    finally:
        store.close()
    # A later horde adds a migration: opening the old store applies it, and only it.
    later = [
        *schema_module.MIGRATIONS,
        (2, "a column for later", ["ALTER TABLE horde_runs ADD COLUMN later_column TEXT"]),
    ]
    monkeypatch.setattr("horde.history.store.MIGRATIONS", later)
    monkeypatch.setattr("horde.history.store.SCHEMA_VERSION", 2)
    for _ in range(2):
        store = open_store(store_location)
        try:
            assert store.schema_versions() == [1, 2]
            assert store.load(run_id).requests > 0
        finally:
            store.close()
    # ...and the older horde refuses the newer store rather than misreading it.
    monkeypatch.setattr("horde.history.store.MIGRATIONS", schema_module.MIGRATIONS)
    monkeypatch.setattr("horde.history.store.SCHEMA_VERSION", 1)
    with pytest.raises(HistoryError, match=r"written by a newer horde \(schema 2"):
        open_store(store_location)


def test_saving_to_an_unusable_place_is_one_warning(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run_id, warning = save_run(str(blocker / "history.db"), make_record(seconds=2))
    assert run_id is None
    assert warning is not None and warning.startswith(
        "the run was not saved: cannot create the history at "
    )
    assert warning.endswith("a-file is not a folder")
    assert "\n" not in warning


def test_an_unreachable_postgresql_is_one_sentence():
    pytest.importorskip("psycopg")
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://someone:secret@127.0.0.1:{port}/db"
    with pytest.raises(HistoryError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.startswith("cannot reach the history at postgresql://someone:***@127.0.0.1")
    assert "secret" not in message and "\n" not in message


def test_reading_a_missing_default_file_does_not_create_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HistoryError, match="no runs saved yet"):
        open_store(None, create=False)
    assert not (tmp_path / ".horde").exists()
    store = open_store(None)  # the default: .horde/history.db here, which ignores itself for git
    store.close()
    assert (tmp_path / ".horde" / "history.db").exists()
    assert (tmp_path / ".horde" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_corrupt_file_is_one_sentence(tmp_path):
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match=r"history at .*history\.db: file is not a database"):
        open_store(str(path))


def test_the_sqlite_file_is_plain_sqlite(tmp_path):
    """Teams can read their history with any SQLite tool: the tables are documented."""
    path = tmp_path / "h.db"
    store = open_store(str(path))
    store.save(make_record(seconds=2, scenario="plain.py"))
    store.close()
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT scenario, load, requests FROM horde_runs").fetchall()
    assert rows == [("plain.py", "10 users", 400)]


def test_passwords_are_not_shown():
    assert describe_location("postgresql://u:p4ss@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert describe_location("postgresql://db/x") == "postgresql://db/x"
    assert describe_location(str(Path("a/b.db"))) == "a/b.db"


ROUNDS = 8
SAVE_WHEN_TOLD = f"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from tests.history.records import make_record
from horde.history.saving import save_run
folder, go = Path(sys.argv[1]), Path(sys.argv[2])
record = make_record(seconds=2)
(go.parent / f"ready-{{sys.argv[4]}}").touch()
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
first = float(go.read_text())
for round in range({ROUNDS}):
    while time.time() < first + 0.25 * round:
        pass  # spin: every saver starts the round within a few microseconds
    run_id, warning = save_run(str(folder / f"history-{{round}}.db"), record)
    print(warning or run_id)
"""


def test_runs_ending_together_all_land_in_a_new_history(tmp_path):
    """Several runs saving at the same moment into a history that does not exist yet (runs
    started together, a CI matrix): one creates the tables, the others wait, all are saved.
    The race is won or lost by microseconds, so it is run in several new histories."""
    root = str(Path(__file__).resolve().parents[2])
    folder, go = tmp_path / "new", tmp_path / "go"
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", SAVE_WHEN_TOLD, str(folder), str(go), root, str(number)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(4)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < len(savers) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.write_text(str(time.time() + 0.3))
    answers = [saver.communicate(timeout=90) for saver in savers]
    warnings = [line for out, _ in answers for line in out.splitlines() if not line.isdigit()]
    assert not warnings, answers
    for round in range(ROUNDS):
        store = open_store(str(folder / f"history-{round}.db"), create=False)
        try:
            assert len(store.runs(RunQuery())) == len(savers)
        finally:
            store.close()
