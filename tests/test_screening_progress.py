"""Screening progress and recorded stopping checks, from the decisions a reviewer may see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker import annotation_files, screening, screening_progress
from tracker.records import Article
from tracker.stopping import StoppingRule
from tracker.store import Store

pytestmark = pytest.mark.both_backends


@pytest.fixture
def store(data_dir: Path) -> Store:
    library = Store(data_dir)
    library.upsert(
        Article(pmid=p, title=f"Record {p}", abstract="ketamine pain") for p in range(1, 41)
    )
    return library


def decide(store: Store, pmids: list[int], decision: str, reviewer: str = "ana") -> None:
    reason = "wrong population" if decision == "exclude" else ""
    screening.decide(store, pmids, decision=decision, reviewer=reviewer, reason=reason)


def test_progress_counts_and_the_curve_follow_the_screening_order(store: Store) -> None:
    decide(store, [7], "include")
    decide(store, [3, 4], "exclude")
    screening.decide(store, [9], decision="maybe", reviewer="ana")
    state = screening_progress.progress(store, reviewer="ana")
    assert (state.total, state.screened, state.relevant_found) == (40, 4, 2)
    assert state.curve["record_id"].tolist() == [7, 3, 4, 9]
    assert state.curve["relevant_found"].tolist() == [1, 1, 1, 2]
    assert state.model.method == "model"
    assert state.verdict.screened == 4 and not state.verdict.stop
    assert state.sentence.startswith("Keep screening:")


def test_an_undone_decision_leaves_the_progress(store: Store) -> None:
    decide(store, [7], "include")
    decide(store, [8], "exclude")
    screening.undo(store, reviewer="ana")
    assert screening_progress.progress(store, reviewer="ana").curve["record_id"].tolist() == [7]


def test_the_other_reviewers_decisions_never_reach_this_reviewers_verdict(store: Store) -> None:
    decide(store, [1], "include")
    decide(store, [2, 3], "exclude")
    before = screening_progress.progress(store, reviewer="ana")
    decide(store, list(range(4, 41)), "exclude", reviewer="ben")
    after = screening_progress.progress(store, reviewer="ana")
    assert after.verdict == before.verdict
    assert screening_progress.progress(store, reviewer="ben").screened == 37


def test_a_stopping_check_is_recorded_with_its_inputs_and_verdict(store: Store) -> None:
    decide(store, [1], "include")
    decide(store, list(range(2, 40)), "exclude")
    state = screening_progress.progress(store, reviewer="ana")
    assert state.verdict.stop
    screening_progress.record_stopping_check(store, state.verdict, reviewer="ana")
    event = store.events().iloc[-1]
    assert (event["action"], event["value"], event["stage"]) == (
        "stopping-check",
        "stop",
        "title-abstract",
    )
    assert json.loads(event["note"])["screened"] == 39
    checks = screening_progress.stopping_checks(store)
    assert checks[["reviewer", "screened", "relevant_found", "stop"]].values.tolist() == [
        ["ana", 39, 1, True]
    ]
    assert checks["sentence"].iloc[0] == state.sentence


def test_undo_reverses_the_latest_decision_not_a_stopping_check(store: Store) -> None:
    decide(store, [1], "include")
    state = screening_progress.progress(store, reviewer="ana")
    screening_progress.record_stopping_check(store, state.verdict, reviewer="ana")
    assert "decide" in (screening.undo(store, reviewer="ana") or "")
    assert len(screening_progress.stopping_checks(store)) == 1


def test_stopping_checks_travel_with_the_annotations_file(store: Store, tmp_path: Path) -> None:
    decide(store, [1], "include")
    verdict = screening_progress.progress(store, reviewer="ana").verdict
    screening_progress.record_stopping_check(store, verdict, reviewer="ana")
    exported = tmp_path / "annotations.csv"
    exported.write_bytes(annotation_files.export_csv(store))
    other = Store(tmp_path / "other")
    other.upsert(Article(pmid=p, title=f"Record {p}") for p in range(1, 41))
    annotation_files.import_csv(other, exported)
    copied = screening_progress.stopping_checks(other)
    assert copied.drop(columns="created_at").equals(
        screening_progress.stopping_checks(store).drop(columns="created_at")
    )


def test_the_rules_target_and_confidence_reach_the_verdict(store: Store) -> None:
    decide(store, [1], "include")
    rule = StoppingRule(target_recall=0.8, confidence=0.9)
    verdict = screening_progress.progress(store, reviewer="ana", rule=rule).verdict
    assert (verdict.target_recall, verdict.confidence) == (0.8, 0.9)
    assert "90 % confidence at least 80 %" in verdict.sentence
