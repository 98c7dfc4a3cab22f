"""The server backend's records, side tables, vocabulary and write lock, in PostgreSQL.

Each class fills one of the store's seams (:mod:`tracker.store`) over :class:`Database`:

- :class:`ServerRecords`: table ``records``, one row per record id, with the columns of
  :data:`schema.RECORD_SCHEMA` (lists as arrays), queryable with SQL. A write replaces the
  rows that changed (a delete and a binary COPY) inside the write lock's transaction: readers
  see the old rows until it commits, and a run that does not finish leaves them as they were.
  The same transaction keeps a snapshot of the whole table as Parquet (``records_snapshot``)
  tagged with the records' version, because the store reads the whole table at once and
  PostgreSQL hands 100,000 rows to Python in seconds where Parquet takes a tenth of one; a
  snapshot of another version is never read, the rows are.
- :class:`ServerSideTables`: table ``side_tables``, each named table as Arrow IPC bytes.
- :class:`ServerVocabulary`: table ``documents``, the library's own vocabulary file's bytes.
- :class:`AdvisoryLock`: the write lock, a transaction-scoped advisory lock on the review's
  schema. The transaction it opens is the one every write inside it joins, and the server
  releases it when the holder's connection goes, so a killed writer never leaves it held.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracker import schema
from tracker.errors import StoreError
from tracker.server_database import Database

_PG_TYPES = {
    pa.int64(): "int8",
    pa.int32(): "int4",
    pa.string(): "text",
    pa.list_(pa.string()): "text[]",
    pa.list_(pa.int64()): "int8[]",
}


class ServerRecords:
    """The ``records`` table, with its whole-table snapshot (see the module docstring)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def read(self, columns: Sequence[str] | None = None) -> pa.Table | None:
        names = list(columns or schema.COLUMNS)
        unknown = sorted(set(names) - set(schema.COLUMNS))
        if unknown:
            raise StoreError(f"The records have no column {unknown[0]!r}.")
        with self.database.transaction() as conn:
            found = conn.execute(SNAPSHOT_SQL).fetchone()
            if found is None:
                return None
            _, content = found
            if content is not None:
                return pq.read_table(pa.BufferReader(bytes(content)), columns=names)
            listed = ", ".join(names)
            rows = conn.cursor(binary=True).execute(
                f"SELECT {listed} FROM records ORDER BY record_id"
            )
            return _from_rows(rows.fetchall(), names)

    def replace(self, table: pa.Table, changed: Collection[int] | None = None) -> None:
        """Write the rows that changed (all, when not told) and the table's snapshot, in the
        transaction of the write lock when one is held."""
        table = table.select(list(schema.COLUMNS)).cast(schema.RECORD_SCHEMA)
        if changed is not None:
            wanted = pa.array(sorted(changed), pa.int64())
            rows = table.filter(pc.is_in(table.column("record_id"), wanted))
        else:
            rows = table
        with self.database.transaction() as conn:
            if changed is None:
                conn.execute("DELETE FROM records")
            else:
                conn.execute("DELETE FROM records WHERE record_id = ANY(%s)", (wanted.to_pylist(),))
            _copy_rows(conn, rows)
            self.database.bump(conn, "records")
            conn.execute(
                "INSERT INTO records_snapshot VALUES (1, (SELECT version FROM changes"
                " WHERE part = 'records'), %s) ON CONFLICT (id) DO UPDATE"
                " SET version = excluded.version, content = excluded.content",
                (_parquet(table),),
            )

    def stamp(self) -> str:
        version = self.database.versions().get("records")
        return "none" if version is None else str(version)

    def names(self) -> list[str] | None:
        """The server's table always has today's columns (it has no older version yet)."""
        return None if self.stamp() == "none" else list(schema.COLUMNS)

    def keep_copy(self) -> None:
        """Nothing to keep: no older version wrote a server store."""

    def drop_copy(self) -> None:
        """Nothing kept."""


SNAPSHOT_SQL = """
SELECT c.version, s.content FROM changes AS c
LEFT JOIN records_snapshot AS s ON s.id = 1 AND s.version = c.version
WHERE c.part = 'records'
"""
"""The records' version and, when it is of that version, the snapshot; no row: no records."""


def _copy_rows(conn: psycopg.Connection[Any], table: pa.Table) -> None:
    types = [_PG_TYPES[field.type] for field in schema.RECORD_SCHEMA]
    listed = ", ".join(schema.COLUMNS)
    with conn.cursor().copy(f"COPY records ({listed}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for batch in table.to_batches(max_chunksize=5000):
            for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                copy.write_row(row)


def _from_rows(rows: list[tuple[Any, ...]], names: list[str]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    fields = [schema.RECORD_SCHEMA.field(name) for name in names]
    arrays = [pa.array(values, field.type) for field, values in zip(fields, columns, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=False)
    return bytes(sink.getvalue().to_pybytes())


class ServerSideTables:
    """The ``side_tables`` table: name → Arrow IPC stream."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def describe(self, name: str) -> str:
        return f"side table {name} in {self.database.location}"

    def read(self, name: str) -> pa.Table | None:
        with self.database.transaction() as conn:
            found = conn.execute("SELECT content FROM side_tables WHERE name = %s", (name,))
            row = found.fetchone()
        if row is None:
            return None
        try:
            return pa.ipc.open_stream(bytes(row[0])).read_all()
        except pa.ArrowInvalid as exc:
            raise StoreError(f"Cannot read {self.describe(name)}: {exc}.") from exc

    def write(self, name: str, table: pa.Table) -> None:
        if not name.isidentifier():
            raise StoreError(f"{name!r} is not a side table name: use letters, digits and _.")
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        with self.database.transaction() as conn:
            self.database.bump(conn, f"side:{name}")
            conn.execute(
                "INSERT INTO side_tables VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET content = excluded.content",
                (name, sink.getvalue().to_pybytes()),
            )

    def stamps(self) -> tuple[tuple[str, str], ...]:
        versions = self.database.versions()
        return tuple(
            (part.removeprefix("side:"), str(version))
            for part, version in sorted(versions.items())
            if part.startswith("side:")
        )


class ServerVocabulary:
    """The library's own vocabulary, kept as the bytes of its TOML file."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.path = Path(f"vocabulary.toml in {self.database.location}")

    def read(self) -> tuple[Path, bytes] | None:
        with self.database.transaction() as conn:
            found = conn.execute("SELECT content FROM documents WHERE name = 'vocabulary'")
            row = found.fetchone()
        return (self.path, bytes(row[0])) if row is not None else None

    def create(self, content: bytes) -> Path:
        """Keep a first copy; FileExistsError when there is one (it may hold edits)."""
        with self.database.transaction() as conn:
            inserted = conn.execute(
                "INSERT INTO documents VALUES ('vocabulary', %s) ON CONFLICT DO NOTHING",
                (content,),
            )
            if inserted.rowcount == 0:
                raise FileExistsError(str(self.path))
            self.database.bump(conn, "vocabulary")
        return self.path

    def replace(self, content: bytes) -> Path:
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT INTO documents VALUES ('vocabulary', %s)"
                " ON CONFLICT (name) DO UPDATE SET content = excluded.content",
                (content,),
            )
            self.database.bump(conn, "vocabulary")
        return self.path

    def stamp(self) -> str:
        version = self.database.versions().get("vocabulary")
        return "none" if version is None else str(version)


class AdvisoryLock:
    """The write lock: held for one transaction, which every write inside it joins."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @contextmanager
    def held(self) -> Iterator[None]:
        if self.database.in_transaction:  # re-entered by the same thread: already held
            yield
            return
        with self.database.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            yield
