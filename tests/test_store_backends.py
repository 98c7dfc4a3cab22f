"""The store's behaviour is the same whatever backend keeps it: the data folder, memory, or a
PostgreSQL server.

Each test runs on all three, so the seams (records table, append-only log, side tables,
vocabulary, write lock) are proven by every implementation.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from backend_choice import server_for
from postgres_server import Server

from tracker.errors import StoreLockedError
from tracker.records import Action, Article
from tracker.store import Event, Stamp, Store

Backends = Callable[[], Store]


@pytest.fixture(params=["data folder", "memory", "postgresql"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Backends:
    if request.param == "memory":
        return Store.in_memory
    if request.param == "postgresql":
        server: Server = request.getfixturevalue("postgres")
        return lambda: Store(backend=server_for(server.url, tmp_path / "data"))
    return lambda: Store(tmp_path / "data")


def articles(*pmids: int, title: str = "Ketamine for CRPS") -> list[Article]:
    return [Article(pmid=p, title=f"{title} {p}") for p in pmids]


def test_records_merge_by_pmid_and_come_back_sorted(new_store: Backends) -> None:
    store = new_store()
    store.upsert(articles(5, 2))
    summary = store.upsert([*articles(2), Article(pmid=5, title="Corrected"), *articles(9)])
    assert (summary.new, summary.updated, summary.unchanged) == (1, 1, 1)
    records = store.records(["record_id", "title"])
    assert records["record_id"].tolist() == [2, 5, 9]
    assert records["title"].tolist() == ["Ketamine for CRPS 2", "Corrected", "Ketamine for CRPS 9"]
    assert store.known_ids() == {2, 5, 9} and store.has_records()


def test_a_run_logs_its_outcome_and_what_it_no_longer_returns(new_store: Backends) -> None:
    store = new_store()
    first = store.begin_run(kind="fetch", query="ketamine", api_key_used=False)
    store.complete_run(first, articles(1, 2, 3), count=3)
    second = store.begin_run(kind="fetch", query="ketamine", api_key_used=True)
    summary = store.complete_run(second, articles(2, 3, 4), count=3, warnings=["late"])
    assert (summary.new, summary.known, summary.gone_ids) == (1, 2, (1,))
    failed = store.begin_run(kind="fetch", query="ketamine", api_key_used=False)
    store.fail_run(failed, "NCBI answered 503 six times")
    runs = store.runs()
    assert runs["status"].tolist() == ["succeeded", "succeeded", "failed"]
    assert runs["warnings"].tolist() == [[], ["late"], []]
    assert runs["api_key_used"].tolist() == [False, True, False]
    assert runs["error"].iloc[2] == "NCBI answered 503 six times"
    assert store.run_records(second) == {2, 3, 4}
    assert store.known_ids() == {1, 2, 3, 4}, "a failed run changes no record"


def test_events_are_appended_in_order_and_read_by_action(new_store: Backends) -> None:
    store = new_store()
    ids = store.append_events(
        [
            Event(Action.DECIDE, "ana", 7, "title-abstract", "include"),
            Event(Action.NOTE, "ben", 7, note="=HYPERLINK(x)"),
            Event(Action.REASON_ADD, "ana", value="too short"),
        ]
    )
    events = store.events()
    assert events["id"].tolist() == ids and len(ids) == 3
    assert events["record_id"].tolist()[:2] == [7, 7] and events["record_id"].isna().tolist()[2]
    assert store.events_of(["note"])["note"].tolist() == ["=HYPERLINK(x)"]
    assert store.events_of([]).empty
    assert str(events["record_id"].dtype) == "Int64"


def test_side_tables_and_the_vocabulary_round_trip(new_store: Backends) -> None:
    store = new_store()
    assert store.read_side_table("citations") is None and store.own_vocabulary() is None
    table = pa.table({"record_id": [1, 2], "citations": [3, 4]})
    with store.locked():
        store.write_side_table("citations", table)
    read = store.read_side_table("citations")
    assert read is not None and read.equals(table)
    where = store.create_vocabulary(b"# my vocabulary\n")
    own = store.own_vocabulary()
    assert own == (where, b"# my vocabulary\n")
    with pytest.raises(FileExistsError):
        store.create_vocabulary(b"# again\n")
    before = store.stamp().vocabulary
    assert store.replace_vocabulary(b"# edited\n") == where
    assert store.own_vocabulary() == (where, b"# edited\n")
    assert store.stamp().vocabulary != before


def test_each_part_of_the_stamp_changes_with_its_part_only(new_store: Backends) -> None:
    store = new_store()
    empty = store.stamp()
    assert isinstance(empty, Stamp) and empty.records == "none"
    store.upsert(articles(1))
    after_records = store.stamp()
    assert _changed(empty, after_records) == {"records"}
    store.append_events([Event(Action.DECIDE, "ana", 1, "title-abstract", "include")])
    after_event = store.stamp()
    assert _changed(after_records, after_event) == {"events"}
    run = store.begin_run(kind="import", query="a.xml", api_key_used=False)
    store.fail_run(run, "damaged")
    after_run = store.stamp()
    assert _changed(after_event, after_run) == {"runs"}
    with store.locked():
        store.write_side_table("citations", pa.table({"record_id": [1]}))
    after_side = store.stamp()
    assert _changed(after_run, after_side) == {"side_tables"}
    assert after_side.side_table("citations") != "none"
    assert after_side.side_table("nothing") == "none"
    store.create_vocabulary(b"# edited\n")
    assert _changed(after_side, store.stamp()) == {"vocabulary"}
    assert store.stamp() == store.stamp(), "reading changes nothing"


def _changed(before: Stamp, after: Stamp) -> set[str]:
    names = ("records", "events", "runs", "vocabulary", "side_tables")
    return {name for name in names if getattr(before, name) != getattr(after, name)}


def test_one_lock_wait_bounds_a_wait_on_the_database_too(tmp_path: Path) -> None:
    """The store's lock_timeout governs SQLite's busy wait as well as the file lock."""
    data = tmp_path / "data"
    Store(data).append_events([Event(Action.NOTE, "ana", 1, note="first")])
    holder = sqlite3.connect(data / "tracker.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        started = time.monotonic()
        with pytest.raises(StoreLockedError, match=r"for 0\.5 s"):
            Store(data, lock_timeout=0.5).append_events([Event(Action.NOTE, "ben", 1, note="x")])
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert 0.4 < waited < 5.0
    assert Store(data).events()["note"].tolist() == ["first"]
