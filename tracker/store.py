"""The store: one review's records and logs, behind one interface whatever holds them.

:class:`Store` is what the rest of tracker talks to. It keeps the domain rules (records merge
by record id, a run's records land together with its outcome or not at all, events are only
appended, current state is derived) and leaves the keeping to a :class:`Backend`, a bundle of
small protocols that a second backend fills, as httpx's transports do:

- :class:`RecordsTable`: the records as one Arrow table, replaced whole and atomically;
- :class:`AppendOnlyLog`: search runs, their outcomes and the records they returned, and the
  events (every screening decision, tag and note); nothing in it is ever updated or deleted;
- :class:`SideTables`: tables other modules keep beside the records (citation metrics, the
  suggestions cache);
- :class:`VocabularyDocument`: the library's own evidence-tag vocabulary, if it has one;
- :class:`WriteLock`: held around every read-merge-write, so two processes lose nothing.

``Store(data_dir)`` is the embedded backend, files in a data folder (:mod:`tracker.data_folder`,
the only code that opens or stats them); ``Store.in_memory()`` holds everything in memory
(:mod:`tracker.memory_store`), for tests. Every backend answers "has anything changed?" with
:meth:`Store.stamp`, one named value per part, which every cache keys on.

Records and annotations live apart, so a fetch cannot change a decision and a decision cannot
change a record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker import data_folder, liveness, memory_store, schema
from tracker.config import Settings
from tracker.defaults import LOCK_WAIT_S
from tracker.errors import StoreError, TrackerError
from tracker.records import PUBMED, Action, Article
from tracker.source_record import SourceRecord
from tracker.version import __version__

RunKind = Literal["fetch", "import"]


# -- the seams ---------------------------------------------------------------------------------


class RecordsTable(Protocol):
    """One row per record id, in :data:`schema.RECORD_SCHEMA`; replaced whole, atomically.

    ``replace`` may be told which record ids ``changed`` (new or updated rows; None: any may
    have), so a backend that keeps rows apart (a server) writes only those; one that rewrites
    a file whole ignores it. ``names`` is the stored table's column names (None when there is
    none), cheap to ask, so the store can see a table an older version wrote; ``keep_copy``
    keeps the table as it is beside it (``drop_copy`` removes that copy) while the store
    brings it to this version.
    """

    def read(self, columns: Sequence[str] | None = None) -> pa.Table | None: ...
    def replace(self, table: pa.Table, changed: Collection[int] | None = None) -> None: ...
    def stamp(self) -> str: ...
    def names(self) -> list[str] | None: ...
    def keep_copy(self) -> None: ...
    def drop_copy(self) -> None: ...


class AppendOnlyLog(Protocol):
    """Runs and events; rows are appended, never changed. Each call is one transaction.

    ``live_runs`` tells which of the runs without an outcome are still going (the others were
    interrupted): by process id on one machine, by a lock the running process holds on a
    server that processes on several machines share.

    ``dump`` and ``load`` move a whole log between backends with every row as it is, ids
    included (``tracker migrate``): ``dump`` gives each table of :data:`schema.LOG_TABLES` as
    rows in id order, ``load`` writes them into an empty log in one transaction. Nothing else
    ever writes an id.
    """

    def begin_run(self, row: dict[str, Any]) -> int: ...
    def finish_run(self, outcome: dict[str, Any], record_ids: Iterable[int] = ()) -> None: ...
    def run(self, run_id: int) -> dict[str, Any] | None: ...
    def previous_records(self, kind: str, query: str, before: int) -> set[int] | None: ...
    def run_rows(self) -> list[dict[str, Any]]: ...
    def run_records(self, run_id: int) -> set[int]: ...
    def append(self, rows: Sequence[dict[str, Any]]) -> list[int]: ...
    def event_rows(self, actions: Sequence[str] | None = None) -> list[tuple[Any, ...]]: ...
    def stamp(self) -> tuple[str, str]: ...
    def live_runs(self, unfinished: Sequence[dict[str, Any]]) -> set[int]: ...
    def dump(self) -> dict[str, list[dict[str, Any]]]: ...
    def load(self, tables: dict[str, list[dict[str, Any]]]) -> None: ...


class SideTables(Protocol):
    """Named Arrow tables beside the records, each replaced whole."""

    def describe(self, name: str) -> str: ...
    def read(self, name: str) -> pa.Table | None: ...
    def write(self, name: str, table: pa.Table) -> None: ...
    def stamps(self) -> tuple[tuple[str, str], ...]: ...


class VocabularyDocument(Protocol):
    """The library's own vocabulary file: where it is and its bytes, or None."""

    def read(self) -> tuple[Path, bytes] | None: ...
    def create(self, content: bytes) -> Path: ...
    def replace(self, content: bytes) -> Path: ...
    def stamp(self) -> str: ...


class WriteLock(Protocol):
    def held(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True, slots=True)
class Backend:
    """What keeps a store: one implementation of each seam, and where it is (for messages)."""

    records: RecordsTable
    log: AppendOnlyLog
    side_tables: SideTables
    vocabulary: VocabularyDocument
    lock: WriteLock
    location: str


def folder_backend(data_dir: Path, *, lock_wait: float = LOCK_WAIT_S) -> Backend:
    """Files in ``data_dir``: the laptop's store."""
    folder = data_folder.Folder(data_dir)
    return Backend(
        records=data_folder.ParquetRecords(folder),
        log=data_folder.sqlite_log(folder, lock_wait=lock_wait),
        side_tables=data_folder.ParquetSideTables(folder),
        vocabulary=data_folder.VocabularyFile(folder),
        lock=data_folder.FileLock(folder, wait=lock_wait),
        location=str(data_dir),
    )


def memory_backend(*, lock_wait: float = LOCK_WAIT_S) -> Backend:
    """Everything in this process's memory: gone when it ends."""
    return Backend(
        records=memory_store.MemoryRecords(),
        log=memory_store.memory_log(lock_wait=lock_wait),
        side_tables=memory_store.MemorySideTables(),
        vocabulary=memory_store.MemoryVocabulary(),
        lock=memory_store.ThreadLock(),
        location="memory",
    )


def server_backend(
    url: str, *, schema: str | None = None, lock_wait: float = LOCK_WAIT_S
) -> Backend:
    """A review in a PostgreSQL database: a team's shared store. It is kept in one schema of
    the database: ``schema``, else the one the URL's ``options`` choose, else ``tracker``."""
    from tracker import server_database, server_log, server_tables  # psycopg only when asked

    chosen = schema or server_database.schema_in(url) or server_database.DEFAULT_SCHEMA
    database = server_database.Database(url, schema=chosen, lock_wait=lock_wait)
    return Backend(
        records=server_tables.ServerRecords(database),
        log=server_log.ServerLog(database),
        side_tables=server_tables.ServerSideTables(database),
        vocabulary=server_tables.ServerVocabulary(database),
        lock=server_tables.AdvisoryLock(database),
        location=database.location,
    )


@dataclass(frozen=True, slots=True)
class Stamp:
    """Which version of each part of the store this is; a part's value changes when it does.

    Caches key on the parts they read (``stamp.records``, ``stamp.events``, …), so a decision
    does not reload the records and a fetch does not refold the events. Values are opaque
    strings: file stats for the data folder, counters for the in-memory store, database
    counters for a server.
    """

    records: str
    events: str
    runs: str
    vocabulary: str
    side_tables: tuple[tuple[str, str], ...] = ()

    def side_table(self, name: str) -> str:
        return dict(self.side_tables).get(name, "none")


# -- the domain's records of what happened ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one finished run did to the store."""

    run_id: int
    retrieved: int
    new: int
    updated: int
    unchanged: int
    gone: int
    new_ids: tuple[int, ...] = ()
    gone_ids: tuple[int, ...] = ()

    @property
    def known(self) -> int:
        """Records this run returned that the store already had."""
        return self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class Event:
    """One appended fact about a record: a decision, a tag, a note, an undo, a resolution.

    ``created_at`` is filled by the store (UTC, microseconds) when left empty.
    """

    action: Action
    reviewer: str
    record_id: int | None = None
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

    @property
    def changed(self) -> set[int]:
        return {*self.new, *self.updated}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Store:
    """One review's records and logs."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        backend: Backend | None = None,
        lock_timeout: float = LOCK_WAIT_S,
    ) -> None:
        if backend is None:
            if data_dir is None:
                raise TypeError("Store() needs a data directory or a backend")
            backend = folder_backend(Path(data_dir), lock_wait=lock_timeout)
        self.backend = backend
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._current = False

    @classmethod
    def in_memory(cls) -> Store:
        """A store that lives in this process only (tests, quick notebooks)."""
        return cls(backend=memory_backend())

    @classmethod
    def on_server(cls, url: str, *, lock_timeout: float = LOCK_WAIT_S) -> Store:
        """The review kept in the PostgreSQL database at ``url`` (see :func:`server_backend`)."""
        return cls(backend=server_backend(url, lock_wait=lock_timeout))

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """The store the settings name: the database server when a URL is set, else the
        data folder. The CLI and the app open their store here, and nowhere else."""
        if settings.database_url:
            return cls.on_server(settings.database_url)
        return cls(settings.data_dir)

    @property
    def location(self) -> str:
        """Where the store is, for messages: the data folder, or "memory"."""
        return self.backend.location

    # The data folder's paths, for tests that look at the bytes on disk; the library does not
    # use them (it goes through the backend), so a server backend need not have them.
    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            raise StoreError(f"The store in {self.location} has no data folder.")
        return self._data_dir

    @property
    def records_path(self) -> Path:
        return self.data_dir / data_folder.RECORDS_FILE

    @property
    def db_path(self) -> Path:
        return self.data_dir / data_folder.DATABASE_FILE

    # -- what changed ------------------------------------------------------------------------

    def stamp(self) -> Stamp:
        """The version of every part, named: see :class:`Stamp`."""
        events, runs = self.backend.log.stamp()
        return Stamp(
            records=self.backend.records.stamp(),
            events=events,
            runs=runs,
            vocabulary=self.backend.vocabulary.stamp(),
            side_tables=self.backend.side_tables.stamps(),
        )

    def has_records(self) -> bool:
        return self.backend.records.stamp() != "none"

    # -- records -----------------------------------------------------------------------------

    def records(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """All records, sorted by record id, list fields as Python lists; empty when none."""
        return schema.to_frame(self._read_table(columns), columns)

    def records_table(self) -> pa.Table:
        """All records as one Arrow table in :data:`schema.RECORD_SCHEMA`, sorted by id."""
        return self._read_table()

    def known_ids(self) -> set[int]:
        """Every record's id."""
        return set(self._read_table(["record_id"]).column("record_id").to_pylist())

    def known_pmids(self) -> set[int]:
        """The PMIDs the records carry (a record from another database may have none)."""
        return {p for p in self._read_table(["pmid"]).column("pmid").to_pylist() if p is not None}

    def ids_of(self, records: Sequence[SourceRecord]) -> list[int]:
        """The id each of these (stored) records is kept under; KeyError for one not stored."""
        known = _identities(self._read_table())
        return [
            r.pmid if r.source == PUBMED and r.pmid is not None
            else known[schema.identity(schema.source_row(r, 0))]
            for r in records
        ]  # fmt: skip

    def upsert(
        self, articles: Iterable[Article], records: Iterable[SourceRecord] = ()
    ) -> RunSummary:
        """Add or replace records without logging a run (notebooks, tests)."""
        with self.locked():
            result = self._merge(articles, records)
            self.backend.records.replace(result.table, result.changed)
        return _summary(0, result, gone=())

    # -- side tables: data kept beside the records by other modules (citation metrics) ------

    def locked(self) -> AbstractContextManager[None]:
        """Hold the store's write lock around a read-merge-write of a side table."""
        return self.backend.lock.held()

    def describe_side_table(self, name: str) -> str:
        """Where a side table is kept, for messages."""
        return self.backend.side_tables.describe(name)

    def read_side_table(self, name: str) -> pa.Table | None:
        """The side table ``name``, or None when there is none yet.

        An unreadable one is a StoreError naming it; the module that owns the table adds what
        to do, since only it knows how the table is rebuilt.
        """
        return self.backend.side_tables.read(name)

    def write_side_table(self, name: str, table: pa.Table) -> None:
        """Replace the side table ``name`` atomically; call it inside :meth:`locked`."""
        self.backend.side_tables.write(name, table)

    # -- the library's own vocabulary ----------------------------------------------------------

    def own_vocabulary(self) -> tuple[Path, bytes] | None:
        """Where the library's own vocabulary is and its bytes, or None (use the default)."""
        return self.backend.vocabulary.read()

    def create_vocabulary(self, content: bytes) -> Path:
        """Give the library its own vocabulary; FileExistsError if it has one already."""
        return self.backend.vocabulary.create(content)

    def replace_vocabulary(self, content: bytes) -> Path:
        """Make ``content`` the library's own vocabulary, whether or not it had one (a store on
        a server has no file to edit in place, so an edited copy is loaded whole)."""
        return self.backend.vocabulary.replace(content)

    # -- runs --------------------------------------------------------------------------------

    def begin_run(
        self, *, kind: RunKind, query: str, api_key_used: bool, source: str = PUBMED
    ) -> int:
        """Log that a run started; a run that never ends shows as interrupted.

        ``source`` is the database searched (or whose export is imported), for the search log
        and PRISMA's count per database.
        """
        return self.backend.log.begin_run(
            {
                "kind": kind,
                "source": source,
                "query": query,
                "started_at": now_iso(),
                "tool_version": __version__,
                "api_key_used": int(api_key_used),
                "pid": os.getpid(),
                "host": liveness.host(),
            }
        )

    def complete_run(
        self,
        run_id: int,
        articles: Iterable[Article],
        *,
        records: Iterable[SourceRecord] = (),
        count: int | None = None,
        query_translation: str = "",
        requests: int = 0,
        retries: int = 0,
        warnings: Sequence[str] = (),
    ) -> RunSummary:
        """Store a finished run's records and log its outcome, all under the store's lock.

        ``articles`` are PubMed's (keyed by PMID); ``records`` come from any other reader.
        """
        with self.locked():
            run = self.backend.log.run(run_id)
            if run is None:
                raise StoreError(f"No run {run_id} in {self.location}; start one with begin_run().")
            previous = self.backend.log.previous_records(run["kind"], run["query"], run_id)
            result = self._merge(articles, records)
            returned = set(result.new) | set(result.updated) | set(result.unchanged)
            gone = sorted(previous - returned) if previous is not None else []
            self.backend.records.replace(result.table, result.changed)
            summary = _summary(run_id, result, gone=gone)
            outcome = _outcome(
                run_id,
                status="succeeded",
                count=count,
                query_translation=query_translation,
                requests=requests,
                retries=retries,
                warnings=warnings,
                summary=summary,
            )
            self.backend.log.finish_run(outcome, sorted(returned))
        return summary

    @contextmanager
    def failing_run(self, run_id: int) -> Iterator[None]:
        """Whatever stops the block logs run ``run_id`` as failed (a tracker error with its own
        words, anything else as "stopped: <kind>") and goes on up; records stay as they were."""
        try:
            yield
        except TrackerError as exc:
            self.fail_run(run_id, str(exc))
            raise
        except BaseException as exc:
            self.fail_run(run_id, f"stopped: {type(exc).__name__}")
            raise

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
        outcome = _outcome(
            run_id,
            status="failed",
            error=reason,
            count=count,
            query_translation=query_translation,
            requests=requests,
            retries=retries,
            warnings=warnings,
        )
        self.backend.log.finish_run(outcome)

    def runs(self) -> pd.DataFrame:
        """The run log, oldest first; runs whose process died show as failed (interrupted)."""
        rows = self.backend.log.run_rows()
        live = self.backend.log.live_runs([row for row in rows if row["status"] is None])
        for row in rows:
            _mark_interrupted(row, live)
            row["warnings"] = json.loads(row["warnings"] or "[]")
            row["api_key_used"] = bool(row["api_key_used"])
        return pd.DataFrame(rows, columns=list(schema.RUN_COLUMNS))

    def run_records(self, run_id: int) -> set[int]:
        """The ids of the records one run returned."""
        return self.backend.log.run_records(run_id)

    # -- events ------------------------------------------------------------------------------

    def append_events(self, events: Sequence[Event]) -> list[int]:
        """Append events in one transaction and return their ids, in order."""
        stamp = now_iso()
        rows = []
        for event in events:
            row = asdict(event)
            row["action"] = str(row["action"])
            row["created_at"] = row["created_at"] or stamp
            rows.append(row)
        return self.backend.log.append(rows)

    def events(self) -> pd.DataFrame:
        """Every event ever appended, oldest first."""
        return _event_frame(self.backend.log.event_rows())

    def events_of(self, actions: Sequence[str]) -> pd.DataFrame:
        """The events with one of these actions, oldest first, in the shape of :meth:`events`.

        A cheap read of a small slice (say, the added exclusion reasons) that does not load the
        whole log, which checking a single decision should not have to do.
        """
        return _event_frame(self.backend.log.event_rows([str(a) for a in actions]))

    # -- internals ---------------------------------------------------------------------------

    def _read_table(self, columns: Sequence[str] | None = None) -> pa.Table:
        if not self._current:
            self._upgrade_records()
        table = self.backend.records.read(columns)
        if table is None:
            return schema.RECORD_SCHEMA.empty_table().select(list(columns or schema.COLUMNS))
        return table

    def _upgrade_records(self) -> None:
        """Bring a records table an older version wrote to this schema, once, atomically: the
        table is copied aside, rewritten whole, and the copy removed (see
        :func:`schema.with_record_ids`); a store that is current costs one metadata read."""
        names = self.backend.records.names()
        if names is not None and "record_id" not in names:
            with self.locked():
                table = self.backend.records.read()
                if table is not None and "record_id" not in table.schema.names:
                    self.backend.records.keep_copy()
                    self.backend.records.replace(schema.with_record_ids(table))
                    self.backend.records.drop_copy()
        self._current = True

    def _merge(self, articles: Iterable[Article], records: Iterable[SourceRecord] = ()) -> _Upsert:
        incoming = {article.pmid: schema.article_row(article) for article in articles}
        old = self._read_table()
        incoming.update(_keyed(records, old))
        old_ids = old.column("record_id").to_pylist()
        overlap = [i for i, record_id in enumerate(old_ids) if record_id in incoming]
        result = _Upsert(table=old)
        previous = {r["record_id"]: r for r in old.take(overlap).to_pylist()} if overlap else {}
        for record_id, row in incoming.items():
            if record_id not in previous:
                result.new.append(record_id)
            elif previous[record_id] == row:
                result.unchanged.append(record_id)
            else:
                result.updated.append(record_id)
        kept = old.filter(pa.array([i not in incoming for i in old_ids], pa.bool_()))
        fresh = pa.Table.from_pylist(list(incoming.values()), schema=schema.RECORD_SCHEMA)
        merged = pa.concat_tables([kept, fresh])
        # Cast back to the declared schema: a table read from Parquet names list items
        # differently, which would change the bytes of an otherwise identical file.
        result.table = merged.sort_by("record_id").cast(schema.RECORD_SCHEMA).combine_chunks()
        return result


def _identities(table: pa.Table) -> dict[str, int]:
    """Each record from a database other than PubMed, by its :func:`schema.identity`."""
    own = table.filter(pc.greater_equal(table.column("record_id"), schema.FIRST_OWN_ID))
    return {schema.identity(row): row["record_id"] for row in own.to_pylist()}


def _keyed(records: Iterable[SourceRecord], old: pa.Table) -> dict[int, dict[str, Any]]:
    """Rows for records from any source, each under its id: a PubMed record's PMID, the id
    the record already has when its source gave it before (same :func:`schema.identity`),
    else the next free id from :data:`schema.FIRST_OWN_ID`."""
    wanted = list(records)
    if not wanted:
        return {}
    ids = old.column("record_id").to_pylist()
    known = _identities(old)
    next_id = max([schema.FIRST_OWN_ID - 1, *(i for i in ids if i >= schema.FIRST_OWN_ID)]) + 1
    # A PubMed record already stored keeps what PubMed's own XML said (a MEDLINE or RIS copy
    # of it says less); the run still counts it as returned. Those rows are taken in one pass.
    pubmed = [r.pmid for r in wanted if r.source == PUBMED and r.pmid is not None]
    kept = old.filter(pc.is_in(old.column("record_id"), pa.array(pubmed, pa.int64())))
    rows: dict[int, dict[str, Any]] = {row["record_id"]: row for row in kept.to_pylist()}
    for record in wanted:
        if record.source == PUBMED and record.pmid is not None:
            if record.pmid not in rows:
                rows[record.pmid] = schema.source_row(record, record.pmid)
            continue
        draft = schema.source_row(record, 0)
        key = schema.identity(draft)
        if key not in known:
            known[key], next_id = next_id, next_id + 1
        draft["record_id"] = known[key]
        rows[known[key]] = draft
    return rows


def _event_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    columns = ["id", *schema.EVENT_COLUMNS]
    frame = (
        pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    )
    return frame.astype(schema.EVENT_DTYPES)


def _outcome(
    run_id: int, *, status: str, summary: RunSummary | None = None, **fields: Any
) -> dict[str, Any]:
    counts = asdict(summary) if summary else {}
    return {
        "run_id": run_id,
        "finished_at": now_iso(),
        "status": status,
        "error": fields.pop("error", ""),
        "count": fields["count"],
        "query_translation": fields["query_translation"],
        "retrieved": counts.get("retrieved"),
        "new": counts.get("new"),
        "updated": counts.get("updated"),
        "unchanged": counts.get("unchanged"),
        "gone": counts.get("gone"),
        "requests": fields["requests"],
        "retries": fields["retries"],
        "warnings": json.dumps(list(fields["warnings"]), ensure_ascii=False),
    }


def _summary(run_id: int, result: _Upsert, *, gone: Sequence[int]) -> RunSummary:
    return RunSummary(
        run_id=run_id,
        retrieved=len(result.new) + len(result.updated) + len(result.unchanged),
        new=len(result.new),
        updated=len(result.updated),
        unchanged=len(result.unchanged),
        gone=len(gone),
        new_ids=tuple(sorted(result.new)),
        gone_ids=tuple(gone),
    )


def _mark_interrupted(row: dict[str, Any], live: set[int]) -> None:
    if row["status"] is not None:
        return
    if row["id"] in live:
        row["status"] = "running"
        return
    row["status"] = "failed"
    row["error"] = "interrupted: the process ended before the run finished; records unchanged"
