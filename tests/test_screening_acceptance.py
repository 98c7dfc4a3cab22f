"""Screening never loses a decision: two writers at once, a killed writer, a later import.

These run real subprocesses on a real data directory, and on a real PostgreSQL server;
nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tracker import screening
from tracker.importer import import_files
from tracker.records import Article
from tracker.store import Store

pytestmark = pytest.mark.both_backends

WRITER = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n" + textwrap.dedent(
    """
    from backend_choice import open_store
    from tracker import screening
    store, reviewer, count = open_store(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for n in range(count):
        pmid = n % 200 + 1
        if n % 2:
            screening.decide(store, [pmid], decision="include", reviewer=reviewer)
        else:
            screening.decide(store, [pmid], decision="exclude", reviewer=reviewer,
                             reason="not chronic pain", note=f"decision {n}")
        print(n + 1, flush=True)
    """
)


def stored(data_dir: Path, count: int) -> Store:
    """Records stored as a fetch or import stores them: through a logged run."""
    store = Store(data_dir)
    run = store.begin_run(kind="import", query="records for screening", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in range(1, count + 1)])
    return store


def writer(data_dir: Path, reviewer: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir), reviewer, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_processes_recording_200_decisions_each_lose_none(data_dir: Path) -> None:
    stored(data_dir, 200)
    children = [writer(data_dir, who, 200) for who in ("ana", "ben")]
    outputs = [child.communicate(timeout=240) for child in children]
    assert [child.returncode for child in children] == [0, 0], [err for _, err in outputs]
    assert [err for _, err in outputs] == ["", ""]
    events = Store(data_dir).events()
    assert len(events) == 400
    assert events.groupby("reviewer").size().to_dict() == {"ana": 200, "ben": 200}
    assert sorted(events["id"]) == list(range(1, 401)), "ids are dense: nothing overwritten"
    for who in ("ana", "ben"):
        notes = events.loc[events["reviewer"] == who, "note"]
        assert set(notes[notes != ""]) == {f"decision {n}" for n in range(0, 200, 2)}


@pytest.mark.slow
def test_sigkill_during_writes_keeps_every_earlier_decision_readable(
    data_dir: Path, store_backend: str
) -> None:
    stored(data_dir, 200)
    child = writer(data_dir, "ana", 100_000)
    assert child.stdout is not None
    confirmed = 0
    deadline = time.monotonic() + 60
    while confirmed < 60 and time.monotonic() < deadline:
        confirmed = int(child.stdout.readline() or confirmed)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    events = Store(data_dir).events()
    assert confirmed >= 60
    assert len(events) >= confirmed, "every decision reported as written is there"
    ids = events["id"].tolist()
    assert ids == sorted(set(ids)), "ids only grow"
    if store_backend == "data folder":  # a server's sequence may skip the killed insert's id
        assert ids == list(range(1, len(events) + 1))
    summary = screening.summary(Store(data_dir))
    assert len(summary) == 200
    assert (summary["decision"] != "unscreened").sum() == min(len(events), 200)
    screening.decide(Store(data_dir), [1], decision="maybe", reviewer="ana")
    assert screening.summary(Store(data_dir)).loc[1, "decision"] == "maybe", "still writable"


def test_an_import_after_screening_changes_no_decision(
    eutils_fixtures: Path, data_dir: Path
) -> None:
    store = Store(data_dir)
    import_files(store, [eutils_fixtures / "pubmed1.xml", eutils_fixtures / "pubmed2.xml"])
    screening.decide(store, [9997], decision="include", reviewer="ana")
    screening.tag(store, [12091962], reviewer="ana", add="old")
    screening.note(store, 9997, "check dose", reviewer="ben")
    before = screening.summary(store)
    events_before = store.events()
    import_files(store, [eutils_fixtures / "pubmed1.xml", eutils_fixtures / "pubmed7.xml"])
    after = screening.summary(store)
    assert after.loc[before.index].equals(before)
    assert after.loc[29963580, "decision"] == "unscreened"
    assert store.events().equals(events_before), "an import appends no event"
