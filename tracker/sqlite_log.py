"""The append-only logs of the embedded store, in SQLite: runs, their outcomes, and events.

One class, :class:`SqliteLog`, implements the store's :class:`~tracker.store.AppendOnlyLog`
protocol over ``tracker.sqlite`` in the data directory (WAL, so readers work while a writer
appends), or over a private in-memory database for tests. Triggers refuse UPDATE and DELETE on
every log table, so the append-only promise is kept by the database, not by good manners.
This is the only module that speaks SQL; a server backend would bring its own.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tracker import liveness, schema
from tracker.errors import StoreError, StoreFullError, StoreLockedError

DDL = """
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    query         TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    tool_version  TEXT NOT NULL,
    api_key_used  INTEGER NOT NULL,
    pid           INTEGER,
    host          TEXT,
    source        TEXT NOT NULL DEFAULT 'PubMed'
);
CREATE TABLE IF NOT EXISTS run_outcomes (
    run_id            INTEGER PRIMARY KEY REFERENCES runs(id),
    finished_at       TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    error             TEXT NOT NULL DEFAULT '',
    count             INTEGER,
    query_translation TEXT NOT NULL DEFAULT '',
    retrieved         INTEGER,
    new               INTEGER,
    updated           INTEGER,
    unchanged         INTEGER,
    gone              INTEGER,
    requests          INTEGER NOT NULL DEFAULT 0,
    retries           INTEGER NOT NULL DEFAULT 0,
    warnings          TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS run_records (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    record_id  INTEGER NOT NULL,
    PRIMARY KEY (run_id, record_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    reviewer    TEXT NOT NULL,
    record_id   INTEGER,
    stage       TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    value       TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    target_id   INTEGER REFERENCES events(id)
);
CREATE INDEX IF NOT EXISTS events_record ON events (record_id);
"""

APPEND_ONLY = ("runs", "run_outcomes", "run_records", "events")

TO_RECORD_IDS = """
ALTER TABLE events RENAME COLUMN pmid TO record_id;
DROP INDEX IF EXISTS events_pmid;
CREATE INDEX events_record ON events (record_id);
DROP TRIGGER IF EXISTS run_pmids_no_update;
DROP TRIGGER IF EXISTS run_pmids_no_delete;
ALTER TABLE run_pmids RENAME TO run_records;
ALTER TABLE run_records RENAME COLUMN pmid TO record_id;
ALTER TABLE runs ADD COLUMN source TEXT NOT NULL DEFAULT 'PubMed';
"""
"""Version 1 → 2 (records got their own id): column and table names change, and runs say
which database they searched; no row is written, changed or removed. A PubMed record's id is
its PMID, so every event and run row written before names the same record after."""


def _guard_sql(table: str) -> str:
    return "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;\n"
        for verb in ("UPDATE", "DELETE")
    )


SCHEMA_VERSION = 2

RUN_LOG_SQL = """
SELECT r.id, r.kind, r.source, o.status, r.query,
       COALESCE(o.query_translation, '') AS query_translation,
       r.started_at, o.finished_at, o.count, o.retrieved, o.new, o.updated, o.unchanged, o.gone,
       COALESCE(o.requests, 0) AS requests, COALESCE(o.retries, 0) AS retries,
       COALESCE(o.warnings, '[]') AS warnings, COALESCE(o.error, '') AS error,
       r.tool_version, r.api_key_used, r.pid, r.host
FROM runs AS r LEFT JOIN run_outcomes AS o ON o.run_id = r.id
ORDER BY r.id
"""
PREVIOUS_RUN_SQL = """
SELECT r.id FROM runs AS r JOIN run_outcomes AS o ON o.run_id = r.id
WHERE r.kind = ? AND r.query = ? AND o.status = 'succeeded' AND r.id < ?
ORDER BY r.id DESC LIMIT 1
"""
INSERT_EVENT_SQL = (
    "INSERT INTO events (" + ", ".join(schema.EVENT_COLUMNS) + ") VALUES ("
    + ", ".join(":" + c for c in schema.EVENT_COLUMNS) + ")"
)  # fmt: skip
INSERT_OUTCOME_SQL = (
    "INSERT INTO run_outcomes (" + ", ".join(schema.OUTCOME_COLUMNS) + ") VALUES ("
    + ", ".join(":" + c for c in schema.OUTCOME_COLUMNS) + ")"
)  # fmt: skip
INSERT_RUN_SQL = (
    "INSERT INTO runs (kind, source, query, started_at, tool_version, api_key_used, pid, host)"
    " VALUES (:kind, :source, :query, :started_at, :tool_version, :api_key_used, :pid, :host)"
)
RUN_RECORDS_SQL = "SELECT record_id FROM run_records WHERE run_id = ?"
STAMP_SQL = """
SELECT (SELECT COALESCE(MAX(id), 0) FROM events), (SELECT COALESCE(MAX(id), 0) FROM runs),
       (SELECT COUNT(*) FROM run_outcomes)
"""


class SqliteLog:
    """The logs in one SQLite file (``path``), or in memory when ``path`` is None.

    Every call is one transaction: committed when it returns, rolled back when it raises. A
    busy database is waited for up to ``lock_wait`` seconds, the store's one lock-wait setting.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        lock_wait: float,
        ensure_dir: Callable[[], None] = lambda: None,
    ) -> None:
        self.path = path
        self.lock_wait = lock_wait
        self._ensure_dir = ensure_dir
        self._memory: sqlite3.Connection | None = None
        self._memory_lock = threading.RLock()
        self._name = path.name if path is not None else "the in-memory log"
        self._backup = path.with_name(f"{path.stem}.before-upgrade{path.suffix}") if path else None

    # -- runs ------------------------------------------------------------------------------

    def begin_run(self, row: Mapping[str, Any]) -> int:
        with self._transaction(write=True) as db:
            return int(db.execute(INSERT_RUN_SQL, dict(row)).lastrowid or 0)

    def finish_run(self, outcome: Mapping[str, Any], record_ids: Iterable[int] = ()) -> None:
        """The run's outcome and the records it returned, in one transaction."""
        with self._transaction(write=True) as db:
            run_id = outcome["run_id"]
            db.executemany(
                "INSERT INTO run_records (run_id, record_id) VALUES (?, ?)",
                ((run_id, record_id) for record_id in record_ids),
            )
            db.execute(INSERT_OUTCOME_SQL, dict(outcome))

    def run(self, run_id: int) -> dict[str, Any] | None:
        with self._transaction() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return dict(row) if row is not None else None

    def previous_records(self, kind: str, query: str, before: int) -> set[int] | None:
        """Records of the last succeeded run of this kind and query before ``before``, if any."""
        with self._transaction() as db:
            row = db.execute(PREVIOUS_RUN_SQL, (kind, query, before)).fetchone()
            if row is None:
                return None
            ids = db.execute(RUN_RECORDS_SQL, (row["id"],))
            return {int(record_id) for (record_id,) in ids}

    def run_rows(self) -> list[dict[str, Any]]:
        """Every run joined with its outcome (None where it has none yet), oldest first."""
        if not self.exists():
            return []
        with self._transaction() as db:
            return [dict(row) for row in db.execute(RUN_LOG_SQL)]

    def run_records(self, run_id: int) -> set[int]:
        with self._transaction() as db:
            rows = db.execute(RUN_RECORDS_SQL, (run_id,))
            return {int(record_id) for (record_id,) in rows}

    # -- events ----------------------------------------------------------------------------

    def append(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        with self._transaction(write=True) as db:
            return [int(db.execute(INSERT_EVENT_SQL, dict(row)).lastrowid or 0) for row in rows]

    def event_rows(self, actions: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
        """Events as tuples of ``id`` and :data:`schema.EVENT_COLUMNS`, oldest first."""
        if not self.exists() or (actions is not None and not actions):
            return []
        columns = ", ".join(["id", *schema.EVENT_COLUMNS])
        where, args = "", list(actions or ())
        if actions is not None:
            where = f" WHERE action IN ({', '.join('?' for _ in actions)})"
        with self._transaction() as db:
            rows = db.execute(f"SELECT {columns} FROM events{where} ORDER BY id", args)
            return [tuple(row) for row in rows]

    # -- a whole log, moved between backends -------------------------------------------------

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every log table, ids included, in id order."""
        if not self.exists():
            return {table: [] for table in schema.LOG_TABLES}
        with self._transaction() as db:
            return {
                table: [
                    dict(row)
                    for row in db.execute(
                        f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}"
                        + (", record_id" if table == "run_records" else "")
                    )
                ]
                for table, columns in schema.LOG_TABLES.items()
            }

    def load(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Write a dumped log into this empty one, ids as they were, in one transaction."""
        with self._transaction(write=True) as db:
            (count,) = db.execute(
                "SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM events)"
            ).fetchone()
            if count:
                raise StoreError(f"{self._name} already holds a log; copy into an empty store.")
            for table, columns in schema.LOG_TABLES.items():
                listed = ", ".join(columns)
                marks = ", ".join(f":{c}" for c in columns)
                db.executemany(
                    f"INSERT INTO {table} ({listed}) VALUES ({marks})",
                    [dict(row) for row in tables.get(table, ())],
                )

    def live_runs(self, unfinished: Sequence[Mapping[str, Any]]) -> set[int]:
        """The runs still going: their process, on this machine, is alive."""
        return liveness.running_here(unfinished)

    # -- what changed ----------------------------------------------------------------------

    def exists(self) -> bool:
        return self._memory is not None if self.path is None else self.path.exists()

    def stamp(self) -> tuple[str, str]:
        """(events, runs): the newest ids, which change with every append and only then."""
        if not self.exists():
            return "0", "0:0"
        with self._transaction() as db:
            events, runs, outcomes = db.execute(STAMP_SQL).fetchone()
        return str(events), f"{runs}:{outcomes}"

    # -- connections -----------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction; a writer takes SQLite's write lock at once, so two writers queue
        instead of failing half-way."""
        with self._connection() as db:
            try:
                db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield db
                db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise self._error(exc) from exc
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self.path is None:
            with self._memory_lock:
                if self._memory is None:
                    self._memory = self._open(":memory:")
                yield self._memory
            return
        self._ensure_dir()
        db = self._open(str(self.path))
        try:
            yield db
        finally:
            db.close()

    def _open(self, target: str) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(
                target, timeout=self.lock_wait, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open {target}: {exc}. Check the path.") from exc
        db.row_factory = sqlite3.Row
        try:
            prepare_database(db, busy_ms=int(self.lock_wait * 1000), backup=self._backup)
        except sqlite3.OperationalError as exc:
            db.close()
            raise self._error(exc) from exc
        return db

    def _error(self, exc: sqlite3.OperationalError) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreLockedError(
                f"{self._name} stayed locked by another process for {self.lock_wait:g} s. Wait"
                " for the other tracker process to finish and try again."
            )
        if "disk is full" in text or "disk I/O" in text:
            where = self.path.parent if self.path is not None else "memory"
            return StoreFullError(
                f"The disk is full: {self._name} could not be written. Nothing was changed."
                f" Free some space on the disk holding {where} and run again."
            )
        return StoreError(f"{self._name}: {text}. Nothing was changed.")


def prepare_database(db: sqlite3.Connection, *, busy_ms: int, backup: Path | None = None) -> None:
    """Create the tables once per file, or bring an older file to this version; WAL lets
    readers work while a writer appends.

    An older file is copied whole to ``backup`` first (SQLite's online backup) and the copy
    removed once the new version is committed: the change is one transaction anyway, and the
    copy is there for whoever wants to see the file as it was if the process dies.

    Two processes may meet a brand-new file at once (the app and the CLI). Switching to WAL
    needs the file to itself and SQLite answers "locked" at once instead of waiting, so the
    switch is retried for a while before giving up.
    """
    db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version >= SCHEMA_VERSION:
        return
    _retry_locked(lambda: db.execute("PRAGMA journal_mode = WAL"), seconds=busy_ms / 1000)
    # The copy is taken before the write lock: SQLite's backup reads the file through its own
    # locks and waits forever on a writer, even on the connection that is the writer.
    copied = version == 1 and backup is not None
    if copied and backup is not None:
        _copy(db, backup)
    db.execute("BEGIN IMMEDIATE")
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version < SCHEMA_VERSION:
            script = (TO_RECORD_IDS if version == 1 else "") + DDL
            for statement in (script + "".join(map(_guard_sql, APPEND_ONLY))).split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    if copied and backup is not None:
        backup.unlink(missing_ok=True)


def _copy(db: sqlite3.Connection, target: Path) -> None:
    with sqlite3.connect(target) as copy:
        db.backup(copy)
    copy.close()


def _retry_locked(action: Callable[[], object], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
