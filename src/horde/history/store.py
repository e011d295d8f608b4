"""Where runs are kept: one small interface, SQLite (the default) or PostgreSQL behind it.

``open_store(location)`` picks the backend from the location: a ``postgresql://`` (or
``postgres://``) URL is a PostgreSQL database, reached through psycopg 3
(``pip install 'horde[postgres]'``); anything else is the path of an SQLite file, by default
``.horde/history.db`` in the folder horde runs from (see ``DEFAULT_PATH``). Both run the same
SQL (``horde.history.schema``) through ``SQLStore``; only the connection differs.

Every failure a user can meet (a file that cannot be created, a server that does not answer, a
schema from a newer horde, a run that is not there) is a ``HistoryError`` with one sentence.
"""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from horde.history.record import RunRecord
from horde.history.schema import (
    CREATE_SCHEMA_TABLE,
    MIGRATIONS,
    POSTGRES,
    SCHEMA_VERSION,
    SQLITE,
    Dialect,
)

__all__ = [
    "DEFAULT_PATH",
    "HistoryError",
    "HistoryStore",
    "RunQuery",
    "SQLStore",
    "describe_location",
    "open_store",
]

# Project-local, as horde.toml is: the runs of a project stay with it (and a CI job caches one
# folder to keep its baseline), runs of unrelated projects do not mix, and nothing is written
# outside the folder the user chose to run in. The folder ignores itself for git.
DEFAULT_PATH = Path(".horde") / "history.db"

_COLUMNS = (
    "uuid", "started_at", "ended_at", "scenario", "scenario_path", "scenario_hash", "host",
    "machine", "git_commit", "git_dirty", "mode", "load", "users", "rate", "requests",
    "failures", "rps", "p50", "p95", "p99", "verdict", "exit_code", "horde_version", "settings",
)  # fmt: skip


class HistoryError(RuntimeError):
    """The history cannot do what was asked: one sentence for the user."""


@dataclass(frozen=True)
class RunQuery:
    """Which runs to list, newest first."""

    scenario: str | None = None
    host: str | None = None
    tag: str | None = None
    since: float | None = None
    limit: int | None = 20


class Connection(Protocol):
    """The part of DB-API 2 the store uses (sqlite3's and psycopg's connections have it)."""

    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


class HistoryStore(Protocol):
    """What the rest of horde uses of a store."""

    location: str

    def save(self, record: RunRecord) -> int: ...
    def runs(self, query: RunQuery = RunQuery()) -> list[RunRecord]: ...
    def load(self, run_id: int, with_data: bool = True) -> RunRecord: ...
    def exists(self, run_id: int) -> bool: ...
    def nth_latest(self, n: int, scenario: str | None, host: str | None) -> int | None: ...
    def tagged(self, name: str) -> int | None: ...
    def tag(self, name: str, run_id: int) -> int | None: ...
    def untag(self, name: str) -> bool: ...
    def delete(self, run_id: int) -> bool: ...
    def close(self) -> None: ...


def describe_location(location: str) -> str:
    """The location as said to the user: a URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", location)


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":"), default=str).encode(), 6)


def _unpack(value: Any) -> Any:
    return json.loads(zlib.decompress(bytes(value)))


class SQLStore:
    """The store over a DB-API connection, in either dialect."""

    def __init__(
        self,
        connection: Connection,
        dialect: Dialect,
        location: str,
        errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self.connection = connection
        self.dialect = dialect
        self.location = location
        self._errors = errors  # the driver's own errors, said as one sentence

    # Plumbing ----------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        try:
            cursor = self.connection.cursor()
        except self._errors as exc:
            raise self._failure(exc) from None
        try:
            yield cursor
            self.connection.commit()
        except self._errors as exc:
            self._rollback()
            raise self._failure(exc) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            cursor.close()

    def _rollback(self) -> None:
        try:
            self.connection.rollback()
        except self._errors:
            pass  # the connection is gone: the failure that got here is the one to tell

    def _failure(self, exc: Exception) -> HistoryError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return HistoryError(f"the history at {describe_location(self.location)}: {reason}")

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._transaction() as cursor:
            cursor.execute(self.dialect.sql(statement), tuple(params))
            return list(cursor.fetchall())

    def migrate(self) -> None:
        """Apply the migrations this store lacks; refuse a schema newer than this horde's."""
        with self._transaction() as cursor:
            # Several horde processes may open a new history at once (runs ending together):
            # one migrates, the others wait for it, then find nothing left to do.
            if self.dialect is POSTGRES:
                cursor.execute("SELECT pg_advisory_xact_lock(7273748)")
            else:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(self.dialect.sql(CREATE_SCHEMA_TABLE))
            cursor.execute("SELECT version FROM horde_schema")
            applied = {row[0] for row in cursor.fetchall()}
            newest = max(applied, default=0)
            if newest > SCHEMA_VERSION:
                raise HistoryError(
                    f"the history at {describe_location(self.location)} was written by a newer "
                    f"horde (schema {newest}; this one knows up to {SCHEMA_VERSION}): upgrade "
                    "horde to read it"
                )
            for version, description, statements in MIGRATIONS:
                if version in applied:
                    continue
                for statement in statements:
                    cursor.execute(self.dialect.sql(statement))
                cursor.execute(
                    self.dialect.sql(
                        "INSERT INTO horde_schema (version, description, applied_at) "
                        "VALUES (?, ?, ?)"
                    ),
                    (version, description, time.time()),
                )

    def schema_versions(self) -> list[int]:
        return [row[0] for row in self._query("SELECT version FROM horde_schema ORDER BY version")]

    # Writing -----------------------------------------------------------------------------------
    def save(self, record: RunRecord) -> int:
        values = {name: getattr(record, name) for name in _COLUMNS if name != "settings"}
        values["git_dirty"] = None if record.git_dirty is None else int(record.git_dirty)
        values["settings"] = json.dumps(record.settings, default=str)
        columns = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        with self._transaction() as cursor:
            insert = f"INSERT INTO horde_runs ({columns}) VALUES ({marks}) RETURNING id"
            cursor.execute(self.dialect.sql(insert), tuple(values[name] for name in _COLUMNS))
            run_id = int(cursor.fetchone()[0])
            cursor.execute(
                self.dialect.sql(
                    "INSERT INTO horde_run_data (run_id, document, samples) VALUES (?, ?, ?)"
                ),
                (run_id, _pack(record.document), _pack(record.samples)),
            )
            for name in record.tags:
                self._set_tag(cursor, name, run_id)
        record.id = run_id
        return run_id

    def tag(self, name: str, run_id: int) -> int | None:
        """Name a run (a tag names one run: it moves); the run it named before, if another."""
        with self._transaction() as cursor:
            return self._set_tag(cursor, name, run_id)

    def _set_tag(self, cursor: Any, name: str, run_id: int) -> int | None:
        cursor.execute(self.dialect.sql("SELECT run_id FROM horde_tags WHERE name = ?"), (name,))
        row = cursor.fetchone()
        if row is not None:
            cursor.execute(
                self.dialect.sql("UPDATE horde_tags SET run_id = ?, tagged_at = ? WHERE name = ?"),
                (run_id, time.time(), name),
            )
            return None if int(row[0]) == run_id else int(row[0])
        cursor.execute(
            self.dialect.sql("INSERT INTO horde_tags (name, run_id, tagged_at) VALUES (?, ?, ?)"),
            (name, run_id, time.time()),
        )
        return None

    def untag(self, name: str) -> bool:
        with self._transaction() as cursor:
            cursor.execute(self.dialect.sql("DELETE FROM horde_tags WHERE name = ?"), (name,))
            return bool(cursor.rowcount)

    def delete(self, run_id: int) -> bool:
        with self._transaction() as cursor:
            # Explicitly, children first: SQLite enforces foreign keys only when asked to.
            for table in ("horde_tags", "horde_run_data"):
                cursor.execute(self.dialect.sql(f"DELETE FROM {table} WHERE run_id = ?"), (run_id,))
            cursor.execute(self.dialect.sql("DELETE FROM horde_runs WHERE id = ?"), (run_id,))
            return bool(cursor.rowcount)

    # Reading -----------------------------------------------------------------------------------
    def runs(self, query: RunQuery = RunQuery()) -> list[RunRecord]:
        where: list[str] = []
        params: list[Any] = []
        if query.scenario:
            where.append("scenario = ?")
            params.append(query.scenario)
        if query.host:
            where.append("host = ?")
            params.append(query.host)
        if query.tag:
            where.append("id IN (SELECT run_id FROM horde_tags WHERE name = ?)")
            params.append(query.tag)
        if query.since is not None:
            where.append("started_at >= ?")
            params.append(query.since)
        sql = f"SELECT id, {', '.join(_COLUMNS)} FROM horde_runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, id DESC"
        if query.limit:
            sql += f" LIMIT {int(query.limit)}"
        records = [self._record(row) for row in self._query(sql, params)]
        self._attach_tags(records)
        return records

    def load(self, run_id: int, with_data: bool = True) -> RunRecord:
        """One run, with its document and samples unless ``with_data`` is false."""
        rows = self._query(
            f"SELECT id, {', '.join(_COLUMNS)} FROM horde_runs WHERE id = ?", (run_id,)
        )
        if not rows:
            raise HistoryError(
                f"no run #{run_id} in the history at {describe_location(self.location)}"
            )
        record = self._record(rows[0])
        self._attach_tags([record])
        if with_data:
            data = self._query(
                "SELECT document, samples FROM horde_run_data WHERE run_id = ?", (run_id,)
            )
            if data:
                record.document, record.samples = _unpack(data[0][0]), _unpack(data[0][1])
        return record

    def exists(self, run_id: int) -> bool:
        return bool(self._query("SELECT 1 FROM horde_runs WHERE id = ?", (run_id,)))

    def nth_latest(self, n: int, scenario: str | None, host: str | None) -> int | None:
        """The id of the n-th most recent run (0: the latest), of a scenario and host if given."""
        where: list[str] = []
        params: list[Any] = []
        if scenario is not None:
            where.append("scenario = ?")
            params.append(scenario)
        if host is not None:
            where.append("host = ?")
            params.append(host)
        sql = "SELECT id FROM horde_runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET {int(n)}"
        rows = self._query(sql, params)
        return int(rows[0][0]) if rows else None

    def tagged(self, name: str) -> int | None:
        rows = self._query("SELECT run_id FROM horde_tags WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else None

    def _attach_tags(self, records: list[RunRecord]) -> None:
        if not records:
            return
        by_id = {r.id: r for r in records}
        marks = ", ".join("?" for _ in by_id)
        rows = self._query(
            f"SELECT run_id, name FROM horde_tags WHERE run_id IN ({marks}) ORDER BY name",
            list(by_id),
        )
        for run_id, name in rows:
            by_id[int(run_id)].tags.append(str(name))

    @staticmethod
    def _record(row: tuple[Any, ...]) -> RunRecord:
        values = dict(zip(("id", *_COLUMNS), row, strict=True))
        values["settings"] = json.loads(values["settings"] or "{}")
        dirty = values["git_dirty"]
        values["git_dirty"] = None if dirty is None else bool(dirty)
        for name in ("started_at", "ended_at", "rps", "p50", "p95", "p99"):
            values[name] = float(values[name])
        if values["rate"] is not None:
            values["rate"] = float(values["rate"])
        values["requests"], values["failures"] = int(values["requests"]), int(values["failures"])
        values["id"] = int(values["id"])
        return RunRecord(**values)

    def close(self) -> None:
        self.connection.close()


def open_store(location: str | None = None, *, create: bool = True) -> SQLStore:
    """The store at ``location`` (a path, or a postgresql:// URL; None: ``DEFAULT_PATH``).

    With ``create`` false, a missing SQLite file is an error ("no runs saved yet") rather than
    created: commands that only read do not leave empty files behind.
    """
    location = location or str(DEFAULT_PATH)
    if re.match(r"^postgres(ql)?://", location):
        return _open_postgres(location)
    path = Path(location.removeprefix("sqlite://")).expanduser()
    return _open_sqlite(path, create)


def _open_sqlite(path: Path, create: bool) -> SQLStore:
    import sqlite3

    if not path.exists():
        if not create:
            raise HistoryError(f"no runs saved yet: {path} does not exist")
        blocked = next((p for p in path.parents if p.exists()), None)
        if blocked is not None and not blocked.is_dir():
            raise HistoryError(f"cannot create the history at {path}: {blocked} is not a folder")
        try:
            made = not path.parent.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            if made and path.parent.name == ".horde":
                (path.parent / ".gitignore").write_text("# horde's run history\n*\n")
        except OSError as exc:
            raise HistoryError(
                f"cannot create the history at {path}: {exc.strerror or exc}"
            ) from None
    elif path.is_dir():
        raise HistoryError(f"cannot open the history at {path}: it is a folder")
    try:
        connection = sqlite3.connect(str(path), timeout=10)
        store = SQLStore(connection, SQLITE, str(path), (sqlite3.Error,))
        store.migrate()
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot open the history at {path}: {exc}") from None
    except HistoryError:
        connection.close()
        raise
    return store


def _open_postgres(url: str) -> SQLStore:
    shown = describe_location(url)
    try:
        import psycopg
    except ImportError:
        raise HistoryError(
            f"the history at {shown} is a PostgreSQL database, which needs psycopg: "
            "pip install 'horde[postgres]'"
        ) from None
    url = re.sub(r"^postgres://", "postgresql://", url)
    timeout = os.environ.get("PGCONNECT_TIMEOUT", "5")
    try:
        connection = psycopg.connect(url, connect_timeout=int(timeout))
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HistoryError(f"cannot reach the history at {shown}: {reason}") from None
    store = SQLStore(connection, POSTGRES, url, (psycopg.Error,))
    try:
        store.migrate()
    except HistoryError:
        connection.close()
        raise
    return store
