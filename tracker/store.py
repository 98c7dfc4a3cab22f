"""The store: ``records.parquet`` and ``tracker.sqlite`` in one data directory.

This is the only module that touches the data directory. Its seam is the directory path: tests
give each store a fresh temporary folder.

- ``records.parquet`` holds one row per PMID, the latest metadata fetched or imported. It is
  rewritten whole, atomically (temporary file, fsync, ``os.replace``) under a file lock, with
  rows sorted by PMID and an explicit Arrow schema, so the same records give the same bytes.
- ``tracker.sqlite`` (WAL) holds the append-only logs: ``runs`` (a row when a search run or
  import starts), ``run_outcomes`` (a row when it ends), ``run_pmids`` (what each run returned)
  and ``events`` (every screening decision, tag and note). Triggers refuse UPDATE and DELETE on
  the logs, so current state is always derived and history is never lost.

Records and annotations live in different files, so a fetch cannot change a decision and a
decision cannot change a record.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import filelock
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tracker import schema
from tracker.errors import DataDirUnusable, StoreError, StoreFullError, StoreLockedError
from tracker.records import Article
from tracker.version import __version__

RECORDS_FILE = "records.parquet"
DATABASE_FILE = "tracker.sqlite"
LOCK_FILE = ".tracker.lock"
LOCK_TIMEOUT_S = 60.0

RunKind = Literal["fetch", "import"]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one finished run did to the store."""

    run_id: int
    retrieved: int
    new: int
    updated: int
    unchanged: int
    gone: int
    new_pmids: tuple[int, ...] = ()
    gone_pmids: tuple[int, ...] = ()

    @property
    def known(self) -> int:
        """Records this run returned that the store already had."""
        return self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class Event:
    """One appended fact about a record: a decision, a tag, a note, an undo, a resolution.

    ``created_at`` is filled by the store (UTC, microseconds) when left empty.
    """

    action: str
    reviewer: str
    pmid: int | None = None
    stage: str = ""
    value: str = ""
    reason: str = ""
    note: str = ""
    target_id: int | None = None
    created_at: str = ""


@dataclass(slots=True)
class _Upsert:
    table: pa.Table
    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Store:
    """A data directory holding one review's records and logs."""

    def __init__(
        self, data_dir: str | os.PathLike[str], *, lock_timeout: float = LOCK_TIMEOUT_S
    ) -> None:
        self.data_dir = Path(data_dir)
        self.lock_timeout = lock_timeout
        self.records_path = self.data_dir / RECORDS_FILE
        self.db_path = self.data_dir / DATABASE_FILE
        self._lock_path = self.data_dir / LOCK_FILE

    # -- records -----------------------------------------------------------------------------

    def records(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """All records, sorted by PMID, list fields as Python lists; empty when none stored."""
        return schema.to_frame(self._read_table(columns), columns)

    def known_pmids(self) -> set[int]:
        table = self._read_table(["pmid"])
        return set(table.column("pmid").to_pylist())

    def version(self) -> tuple[int, ...]:
        """Changes whenever records or logs change: a cache key for the app."""
        stamp: list[int] = []
        wal = self.db_path.with_name(DATABASE_FILE + "-wal")
        for path in (self.records_path, self.db_path, wal):
            try:
                stat = path.stat()
                stamp += [stat.st_mtime_ns, stat.st_size]
            except FileNotFoundError:
                stamp += [0, 0]
        return tuple(stamp)

    def upsert(self, articles: Iterable[Article]) -> RunSummary:
        """Add or replace records by PMID without logging a run (notebooks, tests)."""
        with self._locked():
            result = self._merge(articles)
            self._write_table(result.table)
        return _summary(0, result, gone=())

    # -- side tables: data kept beside the records by other modules (citation metrics) ------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's write lock around a read-merge-write of a side table."""
        with self._locked():
            yield

    def side_table_path(self, name: str) -> Path:
        if not name.isidentifier():
            raise StoreError(f"{name!r} is not a side table name: use letters, digits and _.")
        return self.data_dir / f"{name}.parquet"

    def read_side_table(self, name: str) -> pa.Table | None:
        """``<name>.parquet`` from the data directory, or None when there is none yet.

        An unreadable file is a StoreError naming it; the module that owns the table adds what
        to do, since only it knows how the table is rebuilt.
        """
        path = self.side_table_path(name)
        if not path.exists():
            return None
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreError(f"Cannot read {path}: {exc}.") from exc

    def write_side_table(self, name: str, table: pa.Table) -> None:
        """Replace ``<name>.parquet`` atomically; call it inside :meth:`locked`."""
        self._ensure_dir()
        self._write_parquet(table, self.side_table_path(name), prefix=f".side-{name}-")

    # -- runs --------------------------------------------------------------------------------

    def begin_run(self, *, kind: RunKind, query: str, api_key_used: bool) -> int:
        """Log that a run started; a run that never ends shows as interrupted."""
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO runs (kind, query, started_at, tool_version, api_key_used, pid,"
                " host) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (kind, query, now_iso(), __version__, int(api_key_used), os.getpid(), _host()),
            )
            return int(cursor.lastrowid or 0)

    def complete_run(
        self,
        run_id: int,
        articles: Iterable[Article],
        *,
        count: int | None = None,
        query_translation: str = "",
        requests: int = 0,
        retries: int = 0,
        warnings: Sequence[str] = (),
    ) -> RunSummary:
        """Store a finished run's records and log its outcome, all under the store's lock."""
        with self._locked():
            run = self._run_row(run_id)
            previous = self._previous_pmids(run["kind"], run["query"], run_id)
            result = self._merge(articles)
            returned = set(result.new) | set(result.updated) | set(result.unchanged)
            gone = sorted(previous - returned) if previous is not None else []
            self._write_table(result.table)
            summary = _summary(run_id, result, gone=gone)
            with self._db() as db:
                db.executemany(
                    "INSERT INTO run_pmids (run_id, pmid) VALUES (?, ?)",
                    ((run_id, pmid) for pmid in sorted(returned)),
                )
                self._insert_outcome(
                    db,
                    run_id,
                    status="succeeded",
                    count=count,
                    query_translation=query_translation,
                    requests=requests,
                    retries=retries,
                    warnings=warnings,
                    summary=summary,
                )
        return summary

    def fail_run(
        self,
        run_id: int,
        reason: str,
        *,
        count: int | None = None,
        query_translation: str = "",
        requests: int = 0,
        retries: int = 0,
        warnings: Sequence[str] = (),
    ) -> None:
        """Log a run as failed with its reason; records are left exactly as they were."""
        with self._db() as db:
            self._insert_outcome(
                db,
                run_id,
                status="failed",
                error=reason,
                count=count,
                query_translation=query_translation,
                requests=requests,
                retries=retries,
                warnings=warnings,
            )

    def runs(self) -> pd.DataFrame:
        """The run log, oldest first; runs whose process died show as failed (interrupted)."""
        if not self.db_path.exists():
            return pd.DataFrame(columns=list(schema.RUN_COLUMNS))
        with self._db() as db:
            rows = [dict(row) for row in db.execute(schema.RUN_LOG_SQL)]
        for row in rows:
            _mark_interrupted(row)
            row["warnings"] = json.loads(row["warnings"] or "[]")
            row["api_key_used"] = bool(row["api_key_used"])
        return pd.DataFrame(rows, columns=list(schema.RUN_COLUMNS))

    def run_pmids(self, run_id: int) -> set[int]:
        with self._db() as db:
            rows = db.execute("SELECT pmid FROM run_pmids WHERE run_id = ?", (run_id,))
            return {int(pmid) for (pmid,) in rows}

    # -- events ------------------------------------------------------------------------------

    def append_events(self, events: Sequence[Event]) -> list[int]:
        """Append events in one transaction and return their ids, in order."""
        stamp = now_iso()
        ids: list[int] = []
        with self._db() as db:
            for event in events:
                row = asdict(event)
                row["created_at"] = row["created_at"] or stamp
                cursor = db.execute(schema.INSERT_EVENT_SQL, row)
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def events(self) -> pd.DataFrame:
        """Every event ever appended, oldest first."""
        if not self.db_path.exists():
            return pd.DataFrame(columns=["id", *schema.EVENT_COLUMNS])
        with self._db() as db:
            rows = [dict(row) for row in db.execute("SELECT * FROM events ORDER BY id")]
        return pd.DataFrame(rows, columns=["id", *schema.EVENT_COLUMNS]).astype(schema.EVENT_DTYPES)

    # -- internals ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's write lock; a process that dies releases it (flock)."""
        self._ensure_dir()
        lock = filelock.FileLock(str(self._lock_path), timeout=self.lock_timeout)
        try:
            with lock:
                self._remove_stale_temporaries()
                yield
        except filelock.Timeout as exc:
            raise StoreLockedError(
                f"The store in {self.data_dir} has been busy for {self.lock_timeout:g} s: another"
                " tracker process (the app or a CLI command) is writing to it. Wait for it to"
                " finish and try again."
            ) from exc

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction: committed on success, rolled back on error."""
        self._ensure_dir()
        try:
            db = sqlite3.connect(self.db_path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open {self.db_path}: {exc}. Check the path.") from exc
        db.row_factory = sqlite3.Row
        try:
            schema.prepare_database(db)
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise _database_error(self.db_path, exc) from exc
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _remove_stale_temporaries(self) -> None:
        """Temporary files left by a writer that was killed; we hold the lock, so none is live."""
        for pattern in (".records-*.tmp", ".side-*.tmp"):
            for stale in self.data_dir.glob(pattern):
                stale.unlink(missing_ok=True)

    def _ensure_dir(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirUnusable(self.data_dir, str(exc.strerror)) from exc

    def _read_table(self, columns: Sequence[str] | None = None) -> pa.Table:
        if not self.records_path.exists():
            return schema.RECORD_SCHEMA.empty_table().select(list(columns or schema.COLUMNS))
        try:
            return pq.read_table(self.records_path, columns=list(columns) if columns else None)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreError(
                f"Cannot read {self.records_path}: {exc}. Restore it from a backup, or move it"
                " away and fetch again (screening decisions are kept in tracker.sqlite)."
            ) from exc

    def _merge(self, articles: Iterable[Article]) -> _Upsert:
        incoming = {article.pmid: schema.article_row(article) for article in articles}
        old = self._read_table()
        old_pmids = old.column("pmid").to_pylist()
        overlap = [i for i, pmid in enumerate(old_pmids) if pmid in incoming]
        result = _Upsert(table=old)
        previous = {row["pmid"]: row for row in old.take(overlap).to_pylist()} if overlap else {}
        for pmid, row in incoming.items():
            if pmid not in previous:
                result.new.append(pmid)
            elif previous[pmid] == row:
                result.unchanged.append(pmid)
            else:
                result.updated.append(pmid)
        kept = old.filter(pa.array([pmid not in incoming for pmid in old_pmids], pa.bool_()))
        fresh = pa.Table.from_pylist(list(incoming.values()), schema=schema.RECORD_SCHEMA)
        merged = pa.concat_tables([kept, fresh])
        # Cast back to the declared schema: a table read from Parquet names list items
        # differently, which would change the bytes of an otherwise identical file.
        result.table = merged.sort_by("pmid").cast(schema.RECORD_SCHEMA).combine_chunks()
        return result

    def _write_table(self, table: pa.Table) -> None:
        """Replace records.parquet atomically; on any failure the old file stays as it was."""
        self._write_parquet(table, self.records_path, prefix=".records-")

    def _write_parquet(self, table: pa.Table, path: Path, *, prefix: str) -> None:
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=self.data_dir)
        except OSError as exc:
            raise _write_error(path, exc) from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as sink:
                pq.write_table(table, sink, compression="zstd", write_statistics=False)
                sink.flush()
                os.fsync(sink.fileno())
            tmp.replace(path)
            _fsync_dir(self.data_dir)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _write_error(path, exc) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _run_row(self, run_id: int) -> sqlite3.Row:
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"No run {run_id} in {self.db_path}; start one with begin_run().")
        return row  # type: ignore[no-any-return]

    def _previous_pmids(self, kind: str, query: str, run_id: int) -> set[int] | None:
        """PMIDs of the last succeeded run of the same kind and query, if there was one."""
        with self._db() as db:
            row = db.execute(schema.PREVIOUS_RUN_SQL, (kind, query, run_id)).fetchone()
            if row is None:
                return None
            pmids = db.execute("SELECT pmid FROM run_pmids WHERE run_id = ?", (row["id"],))
            return {int(pmid) for (pmid,) in pmids}

    def _insert_outcome(
        self,
        db: sqlite3.Connection,
        run_id: int,
        *,
        summary: RunSummary | None = None,
        **fields: Any,
    ) -> None:
        fields["warnings"] = json.dumps(list(fields["warnings"]), ensure_ascii=False)
        counts = asdict(summary) if summary else {}
        db.execute(
            schema.INSERT_OUTCOME_SQL,
            {
                "run_id": run_id,
                "finished_at": now_iso(),
                "error": fields.pop("error", ""),
                "retrieved": counts.get("retrieved"),
                "new": counts.get("new"),
                "updated": counts.get("updated"),
                "unchanged": counts.get("unchanged"),
                "gone": counts.get("gone"),
                **fields,
            },
        )

    def events_of(self, actions: Sequence[str]) -> pd.DataFrame:
        """The events with one of these actions, oldest first, in the shape of :meth:`events`.

        A cheap read of a small slice (say, the added exclusion reasons) that does not load the
        whole log, which checking a single decision should not have to do.
        """
        columns = ["id", *schema.EVENT_COLUMNS]
        if not self.db_path.exists() or not actions:
            return pd.DataFrame(columns=columns).astype(schema.EVENT_DTYPES)
        marks = ", ".join("?" for _ in actions)
        sql = f"SELECT {', '.join(columns)} FROM events WHERE action IN ({marks}) ORDER BY id"
        with self._db() as db:
            rows = db.execute(sql, list(actions)).fetchall()
        frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)
        return frame.astype(schema.EVENT_DTYPES)


def _summary(run_id: int, result: _Upsert, *, gone: Sequence[int]) -> RunSummary:
    return RunSummary(
        run_id=run_id,
        retrieved=len(result.new) + len(result.updated) + len(result.unchanged),
        new=len(result.new),
        updated=len(result.updated),
        unchanged=len(result.unchanged),
        gone=len(gone),
        new_pmids=tuple(sorted(result.new)),
        gone_pmids=tuple(gone),
    )


def _mark_interrupted(row: dict[str, Any]) -> None:
    if row["status"] is not None:
        return
    if row["host"] == _host() and _alive(row["pid"]):
        row["status"] = "running"
        return
    row["status"] = "failed"
    row["error"] = "interrupted: the process ended before the run finished; records unchanged"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _host() -> str:
    return socket.gethostname()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_error(path: Path, exc: OSError) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return StoreFullError(
            f"The disk is full: {path.name} could not be written ({exc.strerror}). Nothing was"
            f" changed. Free some space on the disk holding {path.parent} and run again."
        )
    return StoreError(f"Cannot write {path}: {exc.strerror or exc}. Nothing was changed.")


def _database_error(path: Path, exc: sqlite3.OperationalError) -> StoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreLockedError(
            f"{path.name} stayed locked by another process for {LOCK_TIMEOUT_S:.0f} s. Wait for"
            " the other tracker process to finish and try again."
        )
    if "disk is full" in text or "disk I/O" in text:
        return StoreFullError(
            f"The disk is full: {path.name} could not be written. Nothing was changed. Free some"
            f" space on the disk holding {path.parent} and run again."
        )
    return StoreError(f"{path.name}: {text}. Nothing was changed.")
