"""The server backend's connection to PostgreSQL: pools, transactions, the schema, and errors.

The seam to the outside system is psycopg 3 (with psycopg_pool): this module and the two that
build on it (:mod:`tracker.server_log`, :mod:`tracker.server_tables`) are the only code that
speaks to PostgreSQL. A review lives in one PostgreSQL *schema* of a database (``tracker`` by
default), so one server can hold several reviews and a test can have a fresh one per test.

Transactions follow the store's lock. Inside :meth:`Database.transaction` (which the write
lock opens, see :class:`tracker.server_tables.AdvisoryLock`) every part of the backend uses the
same connection, so a run's records, the records it returned and its outcome are committed
together or not at all; a killed process's transaction is rolled back by the server. Outside
it, each call is a transaction of its own, like the embedded store's SQLite calls.

Connections come from one pool per database URL and process. The pool checks a connection
before lending it, so after the server restarts the next call reconnects by itself; a call
that was in flight when the server went away fails with :class:`StoreUnavailable`, which says
that nothing of that call was saved.
"""

from __future__ import annotations

import atexit
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from tracker.errors import StoreError, StoreFullError, StoreLockedError, StoreUnavailable

DEFAULT_SCHEMA = "tracker"
SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS changes (part text PRIMARY KEY, version bigint NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    record_id bigint PRIMARY KEY, pmid bigint, title text, abstract text, authors text[],
    authors_full text[], first_author_affiliations text[], author_count integer, journal text,
    journal_abbrev text, year integer, pub_date text, volume text, issue text, pages text,
    issn text, doi text, pmcid text, publication_types text[], mesh_terms text[],
    mesh_major text[], mesh_qualified text[], keywords text[], languages text[], grants text[],
    vernacular_title text, record_type text, source text, source_ids text[], kind text, nct text,
    url text, conditions text[], interventions text[], phase text, status text,
    enrolment bigint, start_date text, completion_date text, linked_pmids bigint[]
);
CREATE TABLE IF NOT EXISTS records_snapshot (
    id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL, content bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id bigserial PRIMARY KEY, kind text NOT NULL, query text NOT NULL, started_at text NOT NULL,
    tool_version text NOT NULL, api_key_used integer NOT NULL, pid integer, host text,
    source text NOT NULL DEFAULT 'PubMed'
);
CREATE TABLE IF NOT EXISTS run_outcomes (
    run_id bigint PRIMARY KEY REFERENCES runs(id), finished_at text NOT NULL,
    status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    error text NOT NULL DEFAULT '', count integer, query_translation text NOT NULL DEFAULT '',
    retrieved integer, new integer, updated integer, unchanged integer, gone integer,
    requests integer NOT NULL DEFAULT 0, retries integer NOT NULL DEFAULT 0,
    warnings text NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS run_records (
    run_id bigint NOT NULL REFERENCES runs(id), record_id bigint NOT NULL,
    PRIMARY KEY (run_id, record_id)
);
CREATE TABLE IF NOT EXISTS events (
    id bigserial PRIMARY KEY, created_at text NOT NULL, reviewer text NOT NULL, record_id bigint,
    stage text NOT NULL DEFAULT '', action text NOT NULL, value text NOT NULL DEFAULT '',
    reason text NOT NULL DEFAULT '', note text NOT NULL DEFAULT '',
    target_id bigint REFERENCES events(id)
);
CREATE INDEX IF NOT EXISTS events_record ON events (record_id);
CREATE INDEX IF NOT EXISTS events_action ON events (action);
CREATE TABLE IF NOT EXISTS side_tables (name text PRIMARY KEY, content bytea NOT NULL);
CREATE TABLE IF NOT EXISTS documents (name text PRIMARY KEY, content bytea NOT NULL);
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
"""

APPEND_ONLY = ("runs", "run_outcomes", "run_records", "events")


def _guards() -> list[str]:
    """A row trigger refuses UPDATE and DELETE, a statement trigger TRUNCATE, on every log."""
    statements = []
    for table in APPEND_ONLY:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION refuse_change()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
        ]
    return statements


_pools: dict[str, ConnectionPool[psycopg.Connection[Any]]] = {}
_pools_lock = threading.Lock()
_ready: set[tuple[str, str]] = set()  # (url, schema) whose tables this process has seen


def pool(url: str, *, wait: float) -> ConnectionPool[psycopg.Connection[Any]]:
    """The process's pool for ``url``, opened on first use; every pool closes at exit. The
    first caller's ``wait`` sets its connect and reconnect timeouts; each borrower passes its
    own wait for a free connection."""
    with _pools_lock:
        found = _pools.get(url)
        if found is None or found.closed:
            found = ConnectionPool(
                url,
                min_size=1,
                max_size=8,
                kwargs={"autocommit": True, "connect_timeout": connect_wait(wait)},
                check=ConnectionPool.check_connection,
                timeout=wait,
                reconnect_timeout=wait,
                open=False,
                name="tracker",
            )
            try:
                found.open(wait=False)
            except psycopg.Error as exc:  # a bad URL fails here, before any connection
                raise StoreUnavailable(describe(url), str(exc)) from exc
            _pools[url] = found
        return found


def connect_wait(wait: float) -> int:
    """libpq's connect_timeout for a lock wait: whole seconds, at least 2 (libpq's minimum)."""
    return max(2, round(wait))


@atexit.register
def close_pools() -> None:
    """Close every pool (their threads would otherwise keep connections open at exit)."""
    with _pools_lock:
        for held in _pools.values():
            held.close(timeout=1)
        _pools.clear()


def schema_in(url: str) -> str | None:
    """The schema a URL chooses, libpq's way (``?options=-csearch_path%3Dreview2``), if any:
    so one server can hold several reviews, each named by its URL alone."""
    for options in parse_qs(urlsplit(url).query).get("options", []):
        found = re.search(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)", options)
        if found:
            return found.group(1)
    return None


def describe(url: str) -> str:
    """The database a URL names, without its password, for messages and the store location."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{host}{port}{parts.path}"


class Database:
    """One review in one PostgreSQL database: a schema, reached through the process's pool."""

    def __init__(self, url: str, *, schema: str = DEFAULT_SCHEMA, lock_wait: float) -> None:
        if not schema.isidentifier():
            raise StoreError(f"{schema!r} is not a schema name: use letters, digits and _.")
        self.url = url
        self.schema = schema
        self.lock_wait = lock_wait
        self.location = f"{describe(url)} (schema {schema})"
        self._local = threading.local()

    @property
    def connect_wait(self) -> int:
        return connect_wait(self.lock_wait)

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "connection", None) is not None

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction, or the one this thread already holds (see the module docstring)."""
        held: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if held is not None:
            yield held
            return
        self.ensure_schema()
        after: list[Callable[[], None]] = []
        with (
            self.errors(),
            pool(self.url, wait=self.lock_wait).connection(timeout=self.lock_wait) as conn,
            conn.transaction(),
        ):
            conn.execute(
                "SELECT set_config('search_path', %s, true), set_config('lock_timeout', %s, true)",
                (self.schema, f"{int(self.lock_wait * 1000)}ms"),
            )
            self._local.connection, self._local.after = conn, after
            try:
                yield conn
            finally:
                self._local.connection, self._local.after = None, None
        for action in after:
            action()

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction in progress has committed (now, if none is)."""
        pending: list[Callable[[], None]] | None = getattr(self._local, "after", None)
        if pending is None:
            action()
        else:
            pending.append(action)

    def ensure_schema(self) -> None:
        """Create the review's tables once per process (two processes may race: the DDL runs
        under an advisory lock and every statement is idempotent)."""
        if (self.url, self.schema) in _ready:
            return
        with (
            self.errors(),
            pool(self.url, wait=self.lock_wait).connection(timeout=self.lock_wait) as conn,
            conn.transaction(),
        ):
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('tracker schema'))")
            create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
            conn.execute(create.format(sql.Identifier(self.schema)))
            conn.execute("SELECT set_config('search_path', %s, true)", (self.schema,))
            found = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if not (found and found[0]):
                conn.execute(DDL)
                for statement in _guards():
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
        _ready.add((self.url, self.schema))

    @contextmanager
    def errors(self) -> Iterator[None]:
        """PostgreSQL's and the pool's failures as the store's errors, said in its words."""
        try:
            yield
        except psycopg.errors.LockNotAvailable as exc:
            raise StoreLockedError(
                f"The store in {self.location} has been busy for {self.lock_wait:g} s: another"
                " tracker process is writing to it. Wait for it to finish and try again."
            ) from exc
        except psycopg.errors.DiskFull as exc:
            raise StoreFullError(
                f"The database server's disk is full: {self.location} could not be written."
                " Nothing was changed. Ask its administrator to free some space."
            ) from exc
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(self.location, _first_line(exc)) from exc
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {_first_line(exc)}. Nothing was changed.") from exc

    def bump(self, conn: psycopg.Connection[Any], part: str) -> None:
        """Count one change of ``part`` (the stamp's source). The row lock it takes also orders
        concurrent writers of one part, so ids are committed in the order they were given."""
        conn.execute(
            "INSERT INTO changes VALUES (%s, 1)"
            " ON CONFLICT (part) DO UPDATE SET version = changes.version + 1",
            (part,),
        )

    def versions(self) -> dict[str, int]:
        """Every part's change count, in one query: the whole stamp of a server store."""
        with self.transaction() as conn:
            return dict(conn.execute("SELECT part, version FROM changes").fetchall())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
