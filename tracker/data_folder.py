"""The embedded backend: one review's store as files in a data folder, for one laptop.

- ``records.parquet``: the records, rewritten whole and atomically (temporary file, fsync,
  ``os.replace``) with an explicit Arrow schema, so the same records give the same bytes.
- ``<name>.parquet``: side tables kept beside the records by other modules (citation metrics,
  the suggestions cache), written the same way.
- ``tracker.sqlite``: the append-only logs (:mod:`tracker.sqlite_log`).
- ``vocabulary.toml``: the library's own evidence-tag vocabulary, when it has one.
- ``.tracker.lock``: the write lock (flock: a process that dies releases it).

With :mod:`tracker.sqlite_log`, this is the only module that opens or stats a file in the data
folder; everything else goes through :class:`tracker.store.Store`. Each part answers "has
anything changed?" for itself with a stamp taken from the file (mtime, size, inode), which
changes whenever the file is replaced.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import filelock
import pyarrow as pa
import pyarrow.parquet as pq

from tracker.errors import DataDirUnusable, StoreError, StoreFullError, StoreLockedError
from tracker.sqlite_log import SqliteLog

RECORDS_FILE = "records.parquet"
DATABASE_FILE = "tracker.sqlite"
LOCK_FILE = ".tracker.lock"
VOCABULARY_FILE = "vocabulary.toml"


class Folder:
    """The data folder itself: created on first write, with a clear error when it cannot be."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirUnusable(self.path, str(exc.strerror)) from exc

    def write_atomically(self, table: pa.Table, target: Path, *, prefix: str) -> None:
        """Replace ``target`` with ``table``; on any failure the old file stays as it was."""
        self.ensure()
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=self.path)
        except OSError as exc:
            raise _write_error(target, exc) from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as sink:
                pq.write_table(table, sink, compression="zstd", write_statistics=False)
                sink.flush()
                os.fsync(sink.fileno())
            tmp.replace(target)
            _fsync_dir(self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _write_error(target, exc) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def remove_stale_temporaries(self) -> None:
        """Temporary files left by a writer that was killed; under the lock none is live."""
        for pattern in (".records-*.tmp", ".side-*.tmp"):
            for stale in self.path.glob(pattern):
                stale.unlink(missing_ok=True)


class ParquetRecords:
    """``records.parquet``: the records table."""

    def __init__(self, folder: Folder) -> None:
        self.folder = folder
        self.path = folder.path / RECORDS_FILE

    def read(self, columns: Sequence[str] | None = None) -> pa.Table | None:
        if not self.path.exists():
            return None
        try:
            return pq.read_table(self.path, columns=list(columns) if columns else None)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreError(
                f"Cannot read {self.path}: {exc}. Restore it from a backup, or move it"
                " away and fetch again (screening decisions are kept in tracker.sqlite)."
            ) from exc

    def replace(self, table: pa.Table, changed: Collection[int] | None = None) -> None:
        self.folder.write_atomically(table, self.path, prefix=".records-")

    def stamp(self) -> str:
        return _file_stamp(self.path)

    def names(self) -> list[str] | None:
        if not self.path.exists():
            return None
        try:
            return list(pq.read_schema(self.path).names)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreError(f"Cannot read {self.path}: {exc}. Restore it from a backup.") from exc

    @property
    def copy_path(self) -> Path:
        """Where the records are kept as an older version wrote them, while they are upgraded."""
        return self.path.with_name("records.before-upgrade.parquet")

    def keep_copy(self) -> None:
        try:
            shutil.copy2(self.path, self.copy_path)
        except OSError as exc:
            raise _write_error(self.copy_path, exc) from exc

    def drop_copy(self) -> None:
        self.copy_path.unlink(missing_ok=True)


class ParquetSideTables:
    """``<name>.parquet`` beside the records, one file per side table."""

    def __init__(self, folder: Folder) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        if not name.isidentifier():
            raise StoreError(f"{name!r} is not a side table name: use letters, digits and _.")
        return self.folder.path / f"{name}.parquet"

    def describe(self, name: str) -> str:
        return str(self.path(name))

    def read(self, name: str) -> pa.Table | None:
        """The table, or None when there is none yet; an unreadable file is a StoreError."""
        path = self.path(name)
        if not path.exists():
            return None
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreError(f"Cannot read {path}: {exc}.") from exc

    def write(self, name: str, table: pa.Table) -> None:
        self.folder.write_atomically(table, self.path(name), prefix=f".side-{name}-")

    def stamps(self) -> tuple[tuple[str, str], ...]:
        if not self.folder.path.is_dir():
            return ()
        names = sorted(p.stem for p in self.folder.path.glob("*.parquet") if p.name != RECORDS_FILE)
        return tuple((name, _file_stamp(self.path(name))) for name in names)


class VocabularyFile:
    """``vocabulary.toml``: the library's own copy of the evidence-tag vocabulary."""

    def __init__(self, folder: Folder) -> None:
        self.folder = folder
        self.path = folder.path / VOCABULARY_FILE

    def read(self) -> tuple[Path, bytes] | None:
        """Where the copy is and its bytes, or None; OSError when it cannot be read (the
        vocabulary module words that, as it knows what the file is for)."""
        if not self.path.is_file():
            return None
        return self.path, self.path.read_bytes()

    def create(self, content: bytes) -> Path:
        """Write a first copy; FileExistsError when one exists (it may hold edits)."""
        self.folder.ensure()
        try:
            with self.path.open("xb") as sink:
                sink.write(content)
        except FileExistsError:
            raise
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        return self.path

    def replace(self, content: bytes) -> Path:
        """Write ``content`` over the copy (or as the first one), atomically."""
        self.folder.ensure()
        tmp = self.path.with_name(f".{VOCABULARY_FILE}.tmp")
        try:
            with tmp.open("wb") as sink:
                sink.write(content)
                sink.flush()
                os.fsync(sink.fileno())
            tmp.replace(self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _write_error(self.path, exc) from exc
        return self.path

    def stamp(self) -> str:
        return _file_stamp(self.path)


class FileLock:
    """The store's write lock: a lock file (flock), waited for up to ``wait`` seconds."""

    def __init__(self, folder: Folder, *, wait: float) -> None:
        self.folder = folder
        self.wait = wait

    @contextmanager
    def held(self) -> Iterator[None]:
        self.folder.ensure()
        lock = filelock.FileLock(str(self.folder.path / LOCK_FILE), timeout=self.wait)
        try:
            with lock:
                self.folder.remove_stale_temporaries()
                yield
        except filelock.Timeout as exc:
            raise StoreLockedError(
                f"The store in {self.folder.path} has been busy for {self.wait:g} s: another"
                " tracker process (the app or a CLI command) is writing to it. Wait for it to"
                " finish and try again."
            ) from exc


def sqlite_log(folder: Folder, *, lock_wait: float) -> SqliteLog:
    return SqliteLog(folder.path / DATABASE_FILE, lock_wait=lock_wait, ensure_dir=folder.ensure)


def _file_stamp(path: Path) -> str:
    """Identifies a file's contents when it is only ever replaced whole: "none" when absent."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "none"
    return f"{stat.st_mtime_ns}:{stat.st_size}:{stat.st_ino}"


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
