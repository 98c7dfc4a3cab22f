"""Screening: every decision kept, state derived from events, dual review, PRISMA counts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tracker import agreement, annotation_files, duplicates, prisma, screening
from tracker.errors import ScreeningError
from tracker.importer import import_files
from tracker.records import Article, Author
from tracker.store import Store

EXPECTED = Path(__file__).parent / "expected"


def stored(data_dir: Path, pmids: list[int], **fields: Any) -> Store:
    store = Store(data_dir)
    run = store.begin_run(kind="import", query=f"import {len(pmids)}", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}", **fields) for p in pmids])
    return store


@pytest.fixture
def store(data_dir: Path) -> Store:
    return stored(data_dir, list(range(1, 21)))


def state(store: Store, pmid: int) -> dict[str, Any]:
    return dict(screening.summary(store).loc[pmid])


def test_a_decision_is_an_event_and_the_state_follows_it(store: Store) -> None:
    screening.decide(store, [1, 2], decision="include", reviewer="ana")
    screening.decide(store, [2], decision="exclude", reviewer="ana", reason="wrong population")
    assert state(store, 1)["decision"] == "include"
    assert (state(store, 2)["decision"], state(store, 2)["exclusion_reason"]) == (
        "exclude", "wrong population",
    )  # fmt: skip
    assert state(store, 3)["decision"] == "unscreened"
    assert len(store.events()) == 3, "the earlier decision is kept in the history"


def test_undo_appends_a_reversal_and_restores_the_previous_state(store: Store) -> None:
    screening.decide(store, [5], decision="include", reviewer="ana")
    screening.decide(store, [5], decision="maybe", reviewer="ana")
    assert screening.undo(store, reviewer="ana") is not None
    assert state(store, 5)["decision"] == "include"
    assert screening.undo(store, reviewer="ana") is not None
    assert state(store, 5)["decision"] == "unscreened"
    assert screening.undo(store, reviewer="ana") is None
    assert store.events()["action"].tolist() == ["decide", "decide", "undo", "undo"]


def test_tags_and_notes_accumulate_per_record(store: Store) -> None:
    screening.tag(store, [7, 8], reviewer="ana", add="rct")
    screening.tag(store, [7], reviewer="ana", add="intranasal")
    screening.tag(store, [8], reviewer="ben", remove="rct")
    screening.note(store, 7, "dose table on p. 4", reviewer="ana")
    assert state(store, 7)["tags"] == ["intranasal", "rct"]
    assert state(store, 8)["tags"] == []
    assert state(store, 7)["notes"] == ["dose table on p. 4"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: screening.decide(s, [999], decision="include", reviewer="ana"),
         "Not in the store: PMID 999"),
        (lambda s: screening.decide(s, [1], decision="yes", reviewer="ana"),
         "Unknown decision 'yes'"),
        (lambda s: screening.decide(s, [1], decision="include", reviewer="ana", stage="abstract"),
         "Unknown stage 'abstract'"),
        (lambda s: screening.decide(s, [1], decision="exclude", reviewer="ana"),
         "Say why it is excluded"),
        (lambda s: screening.decide(s, [1], decision="exclude", reviewer="ana", reason="boring"),
         "Unknown exclusion reason 'boring'"),
        (lambda s: screening.decide(s, [1], decision="exclude", reviewer="ana", reason="other"),
         "needs a note"),
        (lambda s: screening.decide(s, [1], decision="include", reviewer="  "),
         "Pass --reviewer"),
        (lambda s: screening.tag(s, [1], reviewer="ana"), "exactly one of --add"),
    ],
)  # fmt: skip
def test_a_bad_request_is_a_clear_error_that_writes_nothing(
    store: Store, call: Any, message: str
) -> None:
    with pytest.raises(ScreeningError, match=message):
        call(store)
    assert store.events().empty


def test_users_can_extend_the_exclusion_reasons(store: Store) -> None:
    screening.add_exclusion_reason(store, "paediatric population", reviewer="ana")
    screening.decide(store, [1], decision="exclude", reviewer="ana", reason="Paediatric Population")
    assert state(store, 1)["exclusion_reason"] == "paediatric population"
    assert screening.exclusion_reasons(store)[-1] == "paediatric population"


def test_dual_screening_keeps_reviewers_blind_and_lists_conflicts(store: Store) -> None:
    screening.decide(store, [1, 2, 3], decision="include", reviewer="ana")
    screening.decide(store, [1, 2], decision="include", reviewer="ben")
    screening.decide(store, [3], decision="exclude", reviewer="ben", reason="wrong population")
    assert screening.reviewer_decisions(store, "ben", "title-abstract") == {
        1: "include", 2: "include", 3: "exclude",
    }  # fmt: skip
    assert state(store, 3)["decision"] == "conflict" and state(store, 3)["conflict"]
    conflicts = screening.conflicts(store, "title-abstract")
    assert conflicts.to_dict(orient="records") == [
        {"pmid": 3, "decisions": "ana: include; ben: exclude"}
    ]
    screening.resolve(store, 3, decision="exclude", reviewer="cat", stage="title-abstract",
                      reason="wrong population")  # fmt: skip
    assert state(store, 3)["decision"] == "exclude"
    assert screening.conflicts(store, "title-abstract").empty


def test_kappa_matches_a_hand_computed_example_and_sklearn(store: Store) -> None:
    # A: I I I I I E E E E E ; B: I I I I E E E E E I -> po = 0.8, pe = 0.5, kappa = 0.6
    first = ["include"] * 5 + ["exclude"] * 5
    second = ["include"] * 4 + ["exclude"] * 5 + ["include"]
    assert agreement.cohen_kappa(first, second) == pytest.approx(0.6)
    sklearn = pytest.importorskip("sklearn.metrics")
    assert agreement.cohen_kappa(first, second) == pytest.approx(
        sklearn.cohen_kappa_score(first, second)
    )
    for pmid, (a, b) in enumerate(zip(first, second, strict=True), start=1):
        reason = {"reason": "wrong population"}
        screening.decide(
            store, [pmid], decision=a, reviewer="ana", **(reason if a == "exclude" else {})
        )
        screening.decide(
            store, [pmid], decision=b, reviewer="ben", **(reason if b == "exclude" else {})
        )
    (pair,) = agreement.agreement(store, "title-abstract")
    assert (pair.both_decided, pair.agreed, pair.percent) == (10, 8, 80.0)
    assert pair.kappa == pytest.approx(0.6)


def test_kappa_with_three_categories_matches_sklearn() -> None:
    sklearn = pytest.importorskip("sklearn.metrics")
    first = ["include", "maybe", "exclude", "exclude", "include", "maybe", "include", "exclude"]
    second = ["include", "exclude", "exclude", "maybe", "include", "maybe", "exclude", "exclude"]
    assert agreement.cohen_kappa(first, second) == pytest.approx(
        sklearn.cohen_kappa_score(first, second)
    )


def _apply(store: Store, decisions: list[dict[str, Any]]) -> None:
    for d in decisions:
        screening.decide(store, d["pmids"], decision=d["decision"], reviewer="ana",
                         stage=d["stage"], reason=d.get("reason", ""))  # fmt: skip


def test_prisma_counts_add_up_on_the_worked_example(data_dir: Path) -> None:
    example = json.loads((EXPECTED / "prisma_worked_example.json").read_text(encoding="utf-8"))
    store = stored(data_dir, example["records"])
    for pmid, original in example["duplicates"]:
        duplicates.confirm(store, pmid, duplicate_of=original, reviewer="ana")
    _apply(store, example["decisions"])
    counts = prisma.counts(store)
    data = counts.as_dict()
    assert {k: data[k] for k in example["expected"]} == example["expected"]
    assert counts.problems() == []
    assert counts.screened == counts.excluded_screening + counts.sought + counts.screening_pending
    assert "Records screened\\n(n = 11)" in prisma.to_dot(counts).replace("\n", "\\n")
    assert "Total studies included in review: 2" in prisma.to_text(counts)
    update = example["update"]
    run = store.begin_run(kind="import", query="update", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in update["records"]])
    _apply(store, update["decisions"])
    updated = prisma.counts(store, since_run=1).as_dict()
    assert {k: updated[k] for k in update["expected"]} == update["expected"]
    assert "previous -> total" in prisma.to_dot(prisma.counts(store, since_run=1))


def test_duplicates_are_flagged_by_doi_title_and_notice_never_merged(data_dir: Path) -> None:
    store = Store(data_dir)
    a = Author("Smith", "Jo", "J")
    store.upsert([
        Article(pmid=10, title="Ketamine for CRPS: a trial.", year=2020, authors=(a,),
                doi="10.1/x"),
        Article(pmid=11, title="Ketamine for CRPS - a trial", year=2020, authors=(a,)),
        Article(pmid=12, title="Other study", doi="10.1/X"),
        Article(pmid=13, title="Erratum: Ketamine for CRPS: a trial.",
                publication_types=("Published Erratum",)),
    ])  # fmt: skip
    found = duplicates.find_duplicates(store.records(), store)
    pairs = {(r["pmid"], r["duplicate_of"]): r["rule"] for r in found.to_dict(orient="records")}
    assert pairs == {
        (12, 10): "same DOI",
        (11, 10): "same title, year and first author",
        (13, 10): "erratum",
    }
    assert set(found["status"]) == {"open"}
    assert len(store.known_pmids()) == 4, "nothing is merged"
    duplicates.confirm(store, 11, duplicate_of=10, reviewer="ana")
    duplicates.reject(store, 12, duplicate_of=10, reviewer="ana")
    assert duplicates.confirmed(store) == {11}


def test_annotations_round_trip_into_a_fresh_store_gives_the_same_state(
    store: Store, tmp_path: Path
) -> None:
    screening.decide(store, [1, 2], decision="include", reviewer="ana")
    screening.decide(store, [3], decision="exclude", reviewer="ben", reason="other", note="=odd")
    screening.decide(store, [4], decision="maybe", reviewer="ana")
    screening.undo(store, reviewer="ana")
    screening.tag(store, [1], reviewer="ana", add="rct")
    screening.note(store, 2, "+ check the appendix", reviewer="ben")
    screening.add_exclusion_reason(store, "conference abstract", reviewer="ana")
    screening.decide(store, [5], decision="exclude", reviewer="ana", reason="conference abstract")
    path = tmp_path / "annotations.csv"
    path.write_bytes(annotation_files.export_csv(store))
    fresh = stored(tmp_path / "fresh", list(range(1, 21)))
    annotation_files.import_csv(fresh, path)
    assert screening.summary(fresh).equals(screening.summary(store))


def test_another_tool_s_decisions_import_with_tags_and_notes(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rayyan.csv"
    path.write_text("pmid,decision,reason,tags,note\n1,include,,rct; nasal,good\n"
                    "2,exclude,wrong population,,\n", encoding="utf-8")  # fmt: skip
    assert annotation_files.import_csv(store, path, reviewer="import") == 5
    assert state(store, 1)["tags"] == ["nasal", "rct"] and state(store, 1)["notes"] == ["good"]
    assert state(store, 2)["exclusion_reason"] == "wrong population"


def test_an_import_file_with_one_bad_row_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("pmid,decision,reviewer\n1,include,ana\n999,include,ana\n", encoding="utf-8")
    with pytest.raises(ScreeningError, match="PMID 999"):
        annotation_files.import_csv(store, path)
    path.write_text("pmid,decision,reviewer\n1,include,ana\n2,perhaps,ana\n", encoding="utf-8")
    with pytest.raises(ScreeningError, match="line 3: Unknown decision 'perhaps'"):
        annotation_files.import_csv(store, path)
    assert store.events().empty


def test_an_import_after_screening_changes_no_decision(
    eutils_fixtures: Path, data_dir: Path
) -> None:
    store = Store(data_dir)
    import_files(store, [eutils_fixtures / "pubmed1.xml", eutils_fixtures / "pubmed2.xml"])
    screening.decide(store, [9997], decision="include", reviewer="ana")
    screening.tag(store, [12091962], reviewer="ana", add="old")
    before = screening.summary(store)
    import_files(store, [eutils_fixtures / "pubmed1.xml", eutils_fixtures / "pubmed7.xml"])
    after = screening.summary(store)
    assert after.loc[before.index].equals(before)
    assert after.loc[29963580, "decision"] == "unscreened"


WRITER = textwrap.dedent(
    """
    import sys
    from tracker import screening
    from tracker.store import Store
    store, reviewer = Store(sys.argv[1]), sys.argv[2]
    for n in range(int(sys.argv[3])):
        screening.decide(store, [n % 200 + 1], decision="include", reviewer=reviewer)
        print(n + 1, flush=True)
    """
)


@pytest.mark.slow
def test_two_processes_recording_200_decisions_each_lose_none(data_dir: Path) -> None:
    stored(data_dir, list(range(1, 201)))
    children = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir), who, "200"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for who in ("ana", "ben")
    ]  # fmt: skip
    outputs = [child.communicate(timeout=240) for child in children]
    assert [child.returncode for child in children] == [0, 0], [err for _, err in outputs]
    assert all(err == "" for _, err in outputs)
    events = Store(data_dir).events()
    assert len(events) == 400
    assert events.groupby("reviewer").size().to_dict() == {"ana": 200, "ben": 200}


@pytest.mark.slow
def test_sigkill_during_writes_keeps_every_earlier_decision_readable(data_dir: Path) -> None:
    stored(data_dir, list(range(1, 201)))
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir), "ana", "100000"],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
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
    assert events["id"].is_monotonic_increasing
    assert len(screening.summary(Store(data_dir))) == 200
