"""What only the server backend has to prove, on a real PostgreSQL server (Debian's package).

The store's shared behaviour runs on both backends in test_store.py, test_store_backends.py and
the screening, fetch and app tests; here: the database's own append-only guard, the advisory
write lock, one transaction per finished run, runs seen as running from another process, a
URL that names the review's schema, a server that is down or restarts, and the password that
never reaches a message.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from backend_choice import server_for
from postgres_server import Server, start, wait_until_down

from tracker import screening
from tracker.config import Settings
from tracker.errors import StoreError, StoreLockedError, StoreUnavailable
from tracker.records import Action, Article
from tracker.store import Event, Store, server_backend

TESTS = Path(__file__).parent


@pytest.fixture
def store(postgres: Server, tmp_path: Path) -> Store:
    return Store(backend=server_for(postgres.url, tmp_path / "data"))


def schema_of(store: Store) -> str:
    return store.location.rsplit("schema ", 1)[1].rstrip(")")


def articles(*pmids: int) -> list[Article]:
    return [Article(pmid=p, title=f"Ketamine trial {p}") for p in pmids]


def test_the_database_itself_refuses_to_change_or_remove_a_logged_row(
    postgres: Server, store: Store
) -> None:
    store.append_events([Event(Action.DECIDE, "ana", 1, "title-abstract", "include")])
    run = store.begin_run(kind="fetch", query="q", api_key_used=False)
    store.complete_run(run, articles(1))
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema_of(store)}")
        for statement in (
            "UPDATE events SET value = 'exclude'",
            "DELETE FROM events",
            "TRUNCATE events CASCADE",
            "UPDATE runs SET query = 'other'",
            "DELETE FROM run_records",
            "DELETE FROM run_outcomes",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
    assert store.events()["value"].tolist() == ["include"]
    assert store.runs()["query"].tolist() == ["q"] and store.run_records(run) == {1}


def test_a_writer_holding_the_lock_makes_another_wait_then_fail_clearly_changing_nothing(
    postgres: Server, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    Store(backend=server_for(postgres.url, data)).upsert(articles(1))
    waiting = Store(backend=server_for(postgres.url, data, lock_wait=0.5))
    holder = Store(backend=server_for(postgres.url, data))
    with holder.locked():  # another writer is in the middle of a run
        started = time.monotonic()
        with pytest.raises(StoreLockedError, match=r"busy for 0\.5 s"):
            waiting.upsert(articles(2))
        waited = time.monotonic() - started
    assert 0.4 < waited < 5
    assert waiting.known_ids() == {1}
    waiting.upsert(articles(2))
    assert waiting.known_ids() == {1, 2}, "the lock is free once its holder's transaction ends"


def test_a_finished_runs_records_and_outcome_are_committed_together_or_not_at_all(
    store: Store,
) -> None:
    run = store.begin_run(kind="fetch", query="q", api_key_used=False)
    store.complete_run(run, articles(1, 2))
    before = (store.stamp().records, store.records().to_json())
    with pytest.raises(StoreError, match="Nothing was changed"):
        store.complete_run(run, articles(3))  # its outcome exists: the insert fails last
    assert (store.stamp().records, store.records().to_json()) == before
    assert store.run_records(run) == {1, 2}


def test_a_run_going_on_in_another_process_reads_as_running_and_as_interrupted_once_killed(
    postgres: Server, tmp_path: Path, store: Store
) -> None:
    code = f"import sys; sys.path.insert(0, {str(TESTS)!r})\n" + textwrap.dedent(
        f"""
        import time
        from backend_choice import server_for
        from tracker.store import Store
        store = Store(backend=server_for({postgres.url!r}, {str(tmp_path / "data")!r}))
        store.begin_run(kind="fetch", query="q", api_key_used=False)
        print("begun", flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "begun"
        # another machine would see the same: the check asks the server, not the process table
        assert store.runs()["status"].tolist() == ["running"]
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10
    while store.runs()["status"].tolist() == ["running"] and time.monotonic() < deadline:
        time.sleep(0.1)  # the server notices the dropped connection
    run = store.runs().iloc[0]
    assert run["status"] == "failed" and run["error"].startswith("interrupted")


def test_the_url_chooses_the_review_so_one_server_holds_several(postgres: Server) -> None:
    def url(schema: str) -> str:
        return f"{postgres.url}?options={quote(f'-csearch_path={schema}')}"

    first = Store.open(Settings(database_url=url("review_one")))
    second = Store.open(Settings(database_url=url("review_two")))
    first.upsert(articles(1))
    second.upsert(articles(2, 3))
    assert first.known_ids() == {1} and second.known_ids() == {2, 3}
    assert "schema review_two" in second.location
    default = Store.on_server(postgres.url)
    assert default.location.endswith("(schema tracker)")


def test_a_server_that_cannot_be_reached_is_a_clear_error_without_the_password() -> None:
    with socket_closed() as port:
        url = f"postgresql://ana:s3cret-pw@127.0.0.1:{port}/review"
        store = Store(backend=server_backend(url, schema="x", lock_wait=1))
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            screening.decide(store, [1], decision="include", reviewer="ana")
    assert time.monotonic() - started < 15
    message = str(caught.value)
    assert "Cannot reach the review's database postgresql://ana@127.0.0.1" in message
    assert "Nothing of this action was saved" in message
    assert "s3cret-pw" not in message and "s3cret-pw" not in store.location
    assert "s3cret-pw" not in repr(Settings(database_url=url))


@contextmanager
def socket_closed() -> Iterator[int]:
    """A loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    yield port


@pytest.fixture
def own_server() -> Iterator[Server]:
    """A server of this test's own, which it may stop and start."""
    server = start()
    yield server
    server.stop("immediate")
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.mark.slow
def test_after_a_restart_saved_decisions_are_there_and_the_store_recovers_by_itself(
    own_server: Server, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    store = Store(backend=server_for(own_server.url, data, lock_wait=2))
    store.upsert(articles(*range(1, 11)))
    saved = []
    for pmid in range(1, 6):
        screening.decide(store, [pmid], decision="include", reviewer="ana")
        saved.append(pmid)
    own_server.stop("immediate")  # a crash, as far as the clients can tell
    wait_until_down(own_server)
    with pytest.raises(StoreUnavailable, match="Nothing of this action was saved"):
        screening.decide(store, [6], decision="exclude", reviewer="ana", reason="duplicate")
    own_server.start()
    screening.decide(store, [7], decision="include", reviewer="ana")  # no reconnect by hand
    decided = screening.reviewer_decisions(store, "ana", "title-abstract")
    assert sorted(decided) == [*saved, 7]


@pytest.mark.slow
def test_the_app_goes_on_by_itself_after_the_server_restarts(
    own_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page open across a restart: the next decision is saved without reloading anything
    (the pool drops the dead connections and makes new ones)."""
    from streamlit.testing.v1 import AppTest

    Store.on_server(own_server.url).upsert(articles(7, 8))
    monkeypatch.setenv("TRACKER_DATABASE_URL", own_server.url)
    monkeypatch.setenv("TRACKER_REVIEWER", "ana")
    at = AppTest.from_file(str(TESTS.parent / "app.py"), default_timeout=60).run()
    at.text_input(key="goto").input("7").run()
    assert not at.exception and not at.error
    own_server.stop("immediate")
    wait_until_down(own_server)
    own_server.start()
    at.button(key="decide_include").click().run()
    assert not at.exception and not at.error
    assert any("7: include saved" in s.value for s in at.success)
    assert screening.reviewer_decisions(Store.on_server(own_server.url), "ana",
                                        "title-abstract") == {7: "include"}  # fmt: skip


def test_a_servers_vocabulary_is_edited_by_saving_a_copy_and_loading_it_back(
    postgres: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from tracker.cli import main

    url = f"{postgres.url}?options={quote('-csearch_path=vocabulary_edit')}"
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)

    def tracker(*args: str) -> tuple[int, str]:
        done = CliRunner().invoke(main, ["vocabulary", *args])
        return done.exit_code, done.output

    copy = tmp_path / "vocabulary.toml"
    assert tracker("--save", str(copy))[0] == 0
    edited = copy.read_text().replace(
        "text = ['\\bheadaches?\\b']", "text = ['\\bheadaches?\\b', '\\bcephalalgia\\b']"
    )
    assert edited != copy.read_text(), "the test's edit must apply"
    copy.write_text(edited)
    code, out = tracker("--load", str(copy))
    assert code == 0 and "made it the library's own vocabulary" in out
    assert "cephalalgia" in own_vocabulary(url)
    copy.write_text("[[design]]\nname = 'RCT'\ntext = ['(unclosed']\n")
    code, out = tracker("--load", str(copy))
    assert code == 1 and str(copy) in out
    assert "cephalalgia" in own_vocabulary(url), "a file with a mistake changes nothing"
    code, out = tracker("--check")
    assert code == 0 and "this library's own copy" in out and "is valid" in out


def own_vocabulary(url: str) -> str:
    own = Store.open(Settings(database_url=url)).own_vocabulary()
    assert own is not None
    return own[1].decode()


@pytest.mark.parametrize(
    ("given", "seconds"), [(None, 3.0), ("0", 0.0), ("10", 10.0), ("soon", 3.0), ("-2", 3.0)]
)
def test_how_often_a_page_looks_is_a_setting_whose_bad_values_fall_back(
    given: str | None, seconds: float
) -> None:
    environ = {} if given is None else {"TRACKER_LIVE_SECONDS": given}
    assert Settings.from_env(environ).live_seconds == seconds


def test_the_database_url_is_read_from_the_environment_and_a_flag_wins() -> None:
    environ = {"TRACKER_DATABASE_URL": " postgresql://a@h/review "}
    assert Settings.from_env(environ).database_url == "postgresql://a@h/review"
    chosen = Settings.from_env(environ, database_url="postgresql://b@h/other")
    assert chosen.database_url == "postgresql://b@h/other"
