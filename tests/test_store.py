"""The store's invariants, on real files in a temporary data directory and on a real PostgreSQL
server (every test runs on both, but those about the data folder's own files)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import records_state

from tracker.errors import DataDirUnusable, StoreError, StoreFullError
from tracker.records import Action, Article, Author, MeshHeading, MeshQualifier
from tracker.store import Event, Store

pytestmark = pytest.mark.both_backends
CHILD = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
"""What a child process's code starts with, to open its store with backend_choice.open_store."""

pytestmark = pytest.mark.both_backends
CHILD = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
"""What a child process's code starts with, to open its store with backend_choice.open_store."""


def article(pmid: int, title: str = "Ketamine for CRPS", **fields: object) -> Article:
    return Article(pmid=pmid, title=title, authors=(Author("Smith", "John", "J"),), **fields)  # type: ignore[arg-type]


def test_an_empty_store_reads_as_no_records_and_no_runs(data_dir: Path) -> None:
    store = Store(data_dir)
    assert store.records().empty
    assert store.runs().empty
    assert store.known_ids() == set()


def test_records_are_stored_sorted_by_pmid_with_their_fields(data_dir: Path) -> None:
    store = Store(data_dir)
    mesh = (MeshHeading("Ketamine", "D007649", True, (MeshQualifier("therapeutic use"),)),)
    store.upsert([article(30, mesh=mesh, year=2020), article(4, year=None), article(17)])
    records = store.records()
    assert records["record_id"].tolist() == [4, 17, 30]
    last = records.iloc[2]
    assert last["authors"] == ["Smith J"]
    assert last["mesh_terms"] == ["Ketamine"]
    assert last["mesh_major"] == ["Ketamine"]
    assert last["mesh_qualified"] == ["Ketamine/therapeutic use"]
    assert last["year"] == 2020
    assert records["year"].isna().tolist() == [True, True, False]


def test_upsert_counts_new_updated_and_unchanged_records(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([article(1), article(2)])
    summary = store.upsert([article(2), article(1, title="Corrected title"), article(3)])
    assert (summary.new, summary.updated, summary.unchanged) == (1, 1, 1)
    assert store.records().set_index("record_id").loc[1, "title"] == "Corrected title"


@pytest.mark.folder_only("the bytes of records.parquet")
def test_writing_the_same_records_twice_gives_the_same_bytes(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([article(n) for n in range(50, 0, -1)])
    first = store.records_path.read_bytes()
    store.upsert([article(n) for n in range(1, 51)])
    assert store.records_path.read_bytes() == first


def test_a_completed_run_reports_new_and_no_longer_returned_pmids(data_dir: Path) -> None:
    store = Store(data_dir)
    first = store.begin_run(kind="fetch", query="ketamine", api_key_used=False)
    store.complete_run(first, [article(n) for n in (1, 2, 3)], count=3)
    second = store.begin_run(kind="fetch", query="ketamine", api_key_used=True)
    summary = store.complete_run(second, [article(n) for n in (2, 3, 4, 5)], count=4)
    assert (summary.new, summary.known, summary.gone) == (2, 2, 1)
    assert summary.gone_ids == (1,)
    assert store.run_records(second) == {2, 3, 4, 5}
    runs = store.runs()
    assert runs["status"].tolist() == ["succeeded", "succeeded"]
    assert runs["api_key_used"].tolist() == [False, True]
    assert store.known_ids() == {1, 2, 3, 4, 5}, "a record no longer returned is kept"


def test_a_failed_run_is_logged_with_its_reason_and_changes_no_record(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([article(1)])
    before = records_state(store)
    run_id = store.begin_run(kind="fetch", query="ketamine", api_key_used=False)
    store.fail_run(run_id, "NCBI answered 503 five times", requests=7, retries=5)
    assert records_state(store) == before
    run = store.runs().iloc[0]
    assert (run["status"], run["error"], run["retries"]) == (
        "failed",
        "NCBI answered 503 five times",
        5,
    )


def test_a_run_whose_process_died_shows_as_failed_interrupted(data_dir: Path) -> None:
    code = CHILD + textwrap.dedent(
        f"""
        import os
        from backend_choice import open_store
        open_store({str(data_dir)!r}).begin_run(kind="fetch", query="q", api_key_used=False)
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    deadline = time.monotonic() + 10  # a server learns of a closed connection a moment later
    while Store(data_dir).runs()["status"].iloc[0] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    run = Store(data_dir).runs().iloc[0]
    assert run["status"] == "failed"
    assert run["error"].startswith("interrupted")


@pytest.mark.folder_only("SQLite's own triggers; the server's: test_server_store.py")
def test_the_logs_refuse_updates_and_deletes(data_dir: Path) -> None:
    store = Store(data_dir)
    store.append_events([Event(action=Action.DECIDE, reviewer="ana", record_id=1, value="include")])
    with sqlite3.connect(store.db_path) as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE events SET value = 'exclude'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM events")
    assert store.events()["value"].tolist() == ["include"]


def test_events_come_back_in_order_with_their_ids(data_dir: Path) -> None:
    store = Store(data_dir)
    ids = store.append_events(
        [
            Event(
                action=Action.DECIDE,
                reviewer="ana",
                record_id=7,
                stage="title-abstract",
                value="maybe",
            ),
            Event(action=Action.NOTE, reviewer="ben", record_id=7, note="=HYPERLINK(evil)"),
        ]
    )
    events = store.events()
    assert events["id"].tolist() == ids
    assert events["note"].tolist() == ["", "=HYPERLINK(evil)"]
    assert events["created_at"].str.endswith("+00:00").all()


@pytest.mark.folder_only("a damaged records.parquet")
def test_a_corrupt_records_file_gives_a_store_error_that_says_what_to_do(data_dir: Path) -> None:
    (data_dir / "records.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match="Restore it from a backup"):
        Store(data_dir).records()


@pytest.mark.folder_only("the data folder itself")
def test_a_data_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataDirUnusable, match="Choose a folder you can write to"):
        Store(blocker / "data").upsert([article(1)])


@pytest.mark.folder_only("a file-size limit on the data folder's writes")
def test_a_full_disk_keeps_the_previous_records_and_says_so(data_dir: Path) -> None:
    """A real write failure: the child's file-size limit makes the kernel refuse the write."""
    store = Store(data_dir)
    store.upsert([article(1)])
    before = store.records_path.read_bytes()
    code = textwrap.dedent(
        f"""
        import resource, signal, sys
        from tracker.errors import StoreFullError
        from tracker.records import Action, Article
        from tracker.store import Store
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        big = [Article(pmid=n, title="x" * 2000, abstract=str(n) * 500) for n in range(2, 400)]
        try:
            Store({str(data_dir)!r}).upsert(big)
        except StoreFullError as exc:
            print(exc)
            sys.exit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert "The disk is full" in done.stdout
    assert "Free some space" in done.stdout
    assert store.records_path.read_bytes() == before
    assert not list(data_dir.glob(".records-*")), "the temporary file is cleaned up"
    assert StoreFullError.__mro__[1] is StoreError


def test_two_processes_upserting_at_once_lose_nothing(data_dir: Path) -> None:
    code = CHILD + textwrap.dedent(
        """
        from backend_choice import open_store
        from tracker.records import Article
        store = open_store(sys.argv[1])
        start = int(sys.argv[2])
        for n in range(start, start + 30):
            store.upsert([Article(pmid=n, title=f"t{n}")])
        """
    )
    children = [
        subprocess.Popen([sys.executable, "-c", code, str(data_dir), str(start)])
        for start in (1, 1001)
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0]
    assert Store(data_dir).known_ids() == set(range(1, 31)) | set(range(1001, 1031))


def test_store_has_no_write_side_effect_on_read(data_dir: Path) -> None:
    Store(data_dir).records()
    Store(data_dir).runs()
    assert list(data_dir.iterdir()) == []


@pytest.mark.folder_only("the lock file; the server's advisory lock: test_server_store.py")
def test_a_store_locked_by_another_process_is_a_clear_error_and_loses_nothing(
    data_dir: Path,
) -> None:
    from tracker.errors import StoreLockedError

    Store(data_dir).upsert([article(1)])
    before = (data_dir / "records.parquet").read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            f"""
            import sys, time, filelock
            with filelock.FileLock({str(data_dir / ".tracker.lock")!r}):
                print("held", flush=True)
                time.sleep(30)
            """
        )],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match="another tracker process"):
            Store(data_dir, lock_timeout=0.3).upsert([article(2)])
    finally:
        holder.kill()
        holder.wait()
    assert (data_dir / "records.parquet").read_bytes() == before
    Store(data_dir, lock_timeout=5).upsert([article(2)])
    assert Store(data_dir).known_ids() == {1, 2}, "a killed holder releases the lock"


@pytest.mark.slow
def test_processes_creating_the_database_at_the_same_moment_all_succeed(tmp_path: Path) -> None:
    """Switching a brand-new file to WAL needs it alone, and a new schema on a server is created
    once: the losers of the race must wait."""
    code = CHILD + textwrap.dedent(
        """
        from backend_choice import open_store
        from tracker.store import Event
        open_store(sys.argv[1]).append_events([Event("note", "ana", 1, note=sys.argv[2])])
        """
    )
    for trial in range(5):
        data = tmp_path / f"race{trial}"
        children = [
            subprocess.Popen([sys.executable, "-c", code, str(data), str(n)],
                             stderr=subprocess.PIPE, text=True)
            for n in range(4)
        ]  # fmt: skip
        errors = [child.communicate(timeout=120)[1] for child in children]
        assert [child.returncode for child in children] == [0, 0, 0, 0], errors
        assert len(Store(data).events()) == 4
