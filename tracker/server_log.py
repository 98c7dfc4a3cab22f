"""The append-only logs of the server backend, in PostgreSQL: runs, their outcomes, events.

:class:`ServerLog` fills the store's :class:`~tracker.store.AppendOnlyLog` protocol with the
same tables and columns as the embedded store's SQLite log (:mod:`tracker.sqlite_log`).
Triggers refuse UPDATE, DELETE and TRUNCATE on every log table, so the append-only promise is
kept by the database (see :mod:`tracker.server_database`).

Ids. PostgreSQL hands out sequence values before a transaction commits, so two reviewers'
transactions could commit their events out of id order, and a reader that saw the larger id
first would never notice the smaller one. Each append therefore first counts the change in
the ``changes`` table, whose row lock orders the appenders: ids are committed in the order
they are given, and the count is the stamp every cache keys on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tracker import schema
from tracker.errors import StoreError
from tracker.server_database import Database

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
WHERE r.kind = %s AND r.query = %s AND o.status = 'succeeded' AND r.id < %s
ORDER BY r.id DESC LIMIT 1
"""
INSERT_EVENT_SQL = (
    "INSERT INTO events (" + ", ".join(schema.EVENT_COLUMNS) + ") VALUES ("
    + ", ".join(f"%({c})s" for c in schema.EVENT_COLUMNS) + ") RETURNING id"
)  # fmt: skip
INSERT_OUTCOME_SQL = (
    "INSERT INTO run_outcomes (" + ", ".join(schema.OUTCOME_COLUMNS) + ") VALUES ("
    + ", ".join(f"%({c})s" for c in schema.OUTCOME_COLUMNS) + ")"
)  # fmt: skip
INSERT_RUN_SQL = (
    "INSERT INTO runs (kind, source, query, started_at, tool_version, api_key_used, pid, host)"
    " VALUES (%(kind)s, %(source)s, %(query)s, %(started_at)s, %(tool_version)s,"
    " %(api_key_used)s, %(pid)s, %(host)s) RETURNING id"
)
RUN_RECORDS_SQL = "SELECT record_id FROM run_records WHERE run_id = %s"
SEQUENCE_AFTER_COPY_SQL = """
SELECT setval(pg_get_serial_sequence('{table}', 'id'),
              GREATEST((SELECT MAX(id) FROM {table}), 1), EXISTS (SELECT 1 FROM {table}))
"""
RUN_LOCK_SQL = "SELECT pg_{verb}(hashtext(%s), %s::integer)"
"""A run's lock: two 32-bit keys, the review's schema and the run's id (a key space apart from
the write lock's single 64-bit key)."""


class ServerLog:
    """The logs of one review in PostgreSQL; each call is one transaction (or part of the
    transaction the store's write lock holds)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._running: dict[int, psycopg.Connection[Any]] = {}

    # -- runs ------------------------------------------------------------------------------

    def begin_run(self, row: Mapping[str, Any]) -> int:
        """Log the run's start, and hold its lock until it finishes (see :meth:`live_runs`)."""
        with self.database.transaction() as conn:
            self.database.bump(conn, "runs")
            found = conn.execute(INSERT_RUN_SQL, dict(row)).fetchone()
        assert found is not None  # RETURNING always returns the row it inserted
        run_id = int(found[0])
        with self.database.errors():
            holder = psycopg.connect(
                self.database.url, autocommit=True, connect_timeout=self.database.connect_wait
            )
            holder.execute(
                RUN_LOCK_SQL.format(verb="advisory_lock"), (self.database.schema, run_id)
            )
        self._running[run_id] = holder
        return run_id

    def finish_run(self, outcome: Mapping[str, Any], record_ids: Iterable[int] = ()) -> None:
        """The run's outcome and the records it returned, in one transaction."""
        with self.database.transaction() as conn:
            self.database.bump(conn, "runs")
            run_id = outcome["run_id"]
            with conn.cursor().copy("COPY run_records (run_id, record_id) FROM STDIN") as copy:
                for record_id in record_ids:
                    copy.write_row((run_id, record_id))
            conn.execute(INSERT_OUTCOME_SQL, dict(outcome))
        holder = self._running.pop(run_id, None)
        if holder is not None:
            self.database.after_commit(holder.close)

    def run(self, run_id: int) -> dict[str, Any] | None:
        with self.database.transaction() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            return cursor.execute("SELECT * FROM runs WHERE id = %s", (run_id,)).fetchone()

    def previous_records(self, kind: str, query: str, before: int) -> set[int] | None:
        """Records of the last succeeded run of this kind and query before ``before``, if any."""
        with self.database.transaction() as conn:
            row = conn.execute(PREVIOUS_RUN_SQL, (kind, query, before)).fetchone()
            if row is None:
                return None
            return {int(r) for (r,) in conn.execute(RUN_RECORDS_SQL, (row[0],))}

    def run_rows(self) -> list[dict[str, Any]]:
        """Every run joined with its outcome (None where it has none yet), oldest first."""
        with self.database.transaction() as conn:
            return conn.cursor(row_factory=dict_row).execute(RUN_LOG_SQL).fetchall()

    def run_records(self, run_id: int) -> set[int]:
        with self.database.transaction() as conn:
            return {int(r) for (r,) in conn.execute(RUN_RECORDS_SQL, (run_id,))}

    # -- events ----------------------------------------------------------------------------

    def append(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        if not rows:
            return []
        with self.database.transaction() as conn:
            self.database.bump(conn, "events")
            cursor = conn.cursor()
            cursor.executemany(INSERT_EVENT_SQL, [dict(row) for row in rows], returning=True)
            ids = []
            while True:
                found = cursor.fetchone()
                assert found is not None
                ids.append(int(found[0]))
                if not cursor.nextset():
                    return ids

    def event_rows(self, actions: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
        """Events as tuples of ``id`` and :data:`schema.EVENT_COLUMNS`, oldest first."""
        if actions is not None and not actions:
            return []
        columns = ", ".join(["id", *schema.EVENT_COLUMNS])
        where = " WHERE action = ANY(%s)" if actions is not None else ""
        args = [list(actions)] if actions is not None else []
        with self.database.transaction() as conn:
            return conn.execute(f"SELECT {columns} FROM events{where} ORDER BY id", args).fetchall()

    # -- a whole log, moved between backends -------------------------------------------------

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every log table, ids included, in id order."""
        with self.database.transaction() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            return {
                table: cursor.execute(
                    f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}"
                    + (", record_id" if table == "run_records" else "")
                ).fetchall()
                for table, columns in schema.LOG_TABLES.items()
            }

    def load(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Write a dumped log into this empty one, ids as they were, in one transaction; the
        sequences then go on from the largest id copied."""
        with self.database.transaction() as conn:
            found = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM runs UNION ALL SELECT 1 FROM events)"
            )
            row = found.fetchone()
            if row and row[0]:
                raise StoreError(
                    f"{self.database.location} already holds a log; copy into an empty store."
                )
            for table, columns in schema.LOG_TABLES.items():
                listed = ", ".join(columns)
                with conn.cursor().copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
                    for values in tables.get(table, ()):
                        copy.write_row([values[c] for c in columns])
            for table in ("runs", "events"):
                conn.execute(SEQUENCE_AFTER_COPY_SQL.format(table=table))
            self.database.bump(conn, "runs")
            self.database.bump(conn, "events")

    def live_runs(self, unfinished: Sequence[Mapping[str, Any]]) -> set[int]:
        """The runs still going, on any machine: their process holds the run's lock on the
        server, which the server lets go the moment that process's connection ends."""
        if not unfinished:
            return set()
        live = set()
        with self.database.transaction() as conn:
            for row in unfinished:
                free = conn.execute(
                    RUN_LOCK_SQL.format(verb="try_advisory_xact_lock"),
                    (self.database.schema, row["id"]),
                ).fetchone()
                if not (free and free[0]):
                    live.add(int(row["id"]))
        return live

    # -- what changed ----------------------------------------------------------------------

    def stamp(self) -> tuple[str, str]:
        """(events, runs): change counts, which move with every append and only then."""
        versions = self.database.versions()
        return str(versions.get("events", 0)), str(versions.get("runs", 0))
