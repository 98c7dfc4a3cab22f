"""The in-memory backend: the whole store in one process's memory, for tests and notebooks.

It fills the same seams as the data folder (:mod:`tracker.data_folder`): records and side tables
as Arrow tables held in memory, the logs in a private in-memory SQLite database (the same SQL and
the same append-only triggers), a thread lock, and counters for stamps. Nothing touches a disk,
so a test can run every store behaviour without a temporary folder, and a second backend has a
small, complete example to follow.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from tracker.sqlite_log import SqliteLog

PLACE = Path("<memory>")
"""What messages name as the location of an in-memory store's parts."""


class MemoryRecords:
    def __init__(self) -> None:
        self._table: pa.Table | None = None
        self._version = 0

    def read(self, columns: Sequence[str] | None = None) -> pa.Table | None:
        if self._table is None:
            return None
        return self._table.select(list(columns)) if columns else self._table

    def replace(self, table: pa.Table, changed: Collection[int] | None = None) -> None:
        self._table = table
        self._version += 1

    def stamp(self) -> str:
        return f"memory:{id(self)}:{self._version}" if self._version else "none"

    def names(self) -> list[str] | None:
        return None if self._table is None else list(self._table.schema.names)

    def keep_copy(self) -> None:
        """Nothing to keep: a memory store is never written by an older version."""

    def drop_copy(self) -> None:
        """Nothing kept."""


class MemorySideTables:
    def __init__(self) -> None:
        self._tables: dict[str, tuple[pa.Table, int]] = {}

    def describe(self, name: str) -> str:
        return str(PLACE / f"{name}.parquet")

    def read(self, name: str) -> pa.Table | None:
        held = self._tables.get(name)
        return held[0] if held is not None else None

    def write(self, name: str, table: pa.Table) -> None:
        version = self._tables.get(name, (None, 0))[1] + 1
        self._tables[name] = (table, version)

    def stamps(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name, f"memory:{id(self)}:{v}") for name, (_, v) in sorted(self._tables.items())
        )


class MemoryVocabulary:
    def __init__(self) -> None:
        self._content: bytes | None = None
        self.path = PLACE / "vocabulary.toml"

    def read(self) -> tuple[Path, bytes] | None:
        return (self.path, self._content) if self._content is not None else None

    def create(self, content: bytes) -> Path:
        if self._content is not None:
            raise FileExistsError(str(self.path))
        self._content = content
        return self.path

    def replace(self, content: bytes) -> Path:
        self._content = content
        return self.path

    def stamp(self) -> str:
        return "none" if self._content is None else f"memory:{hash(self._content)}"


class ThreadLock:
    """One process, so a re-entrant thread lock is the whole story."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            yield


def memory_log(*, lock_wait: float) -> SqliteLog:
    return SqliteLog(None, lock_wait=lock_wait)
