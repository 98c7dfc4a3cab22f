"""Screening: every decision kept as an event, the state derived from them, dual review, kappa."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from synthetic_log import synthetic_log

from tracker import agreement, screening
from tracker.errors import ScreeningError
from tracker.records import Article
from tracker.store import Store

pytestmark = pytest.mark.both_backends


def stored(data_dir: Path, pmids: list[int]) -> Store:
    store = Store(data_dir)
    run = store.begin_run(kind="import", query=f"import {len(pmids)}", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in pmids])
    return store


@pytest.fixture
def store(data_dir: Path) -> Store:
    return stored(data_dir, list(range(1, 21)))


def state(store: Store, pmid: int) -> dict[str, Any]:
    return dict(screening.summary(store).loc[pmid])


def exclude(store: Store, pmids: list[int], reviewer: str, **extra: str) -> None:
    reason = extra.pop("reason", "wrong population")
    screening.decide(store, pmids, decision="exclude", reviewer=reviewer, reason=reason, **extra)


def test_the_summary_has_one_row_per_stored_pmid_in_the_agreed_shape(store: Store) -> None:
    summary = screening.summary(store)
    assert summary.index.name == "record_id" and summary.index.tolist() == list(range(1, 21))
    assert list(summary.columns) == list(screening.SUMMARY_COLUMNS)
    assert summary.loc[1].to_dict() == {
        "decision": "unscreened", "stage": "", "ta_decision": "unscreened",
        "ft_decision": "unscreened", "exclusion_reason": "", "tags": [], "notes": [],
        "reviewers": [], "conflict": False,
    }  # fmt: skip


def test_a_decision_is_an_event_and_the_state_follows_it(store: Store) -> None:
    screening.decide(store, [1, 2], decision="include", reviewer="ana")
    exclude(store, [2], "ana")
    assert state(store, 1)["decision"] == "include"
    assert (state(store, 2)["decision"], state(store, 2)["exclusion_reason"]) == (
        "exclude", "wrong population",
    )  # fmt: skip
    assert state(store, 3)["decision"] == "unscreened"
    assert len(store.events()) == 3, "the earlier decision is kept in the history"


def test_the_latest_stage_reached_gives_the_decision(store: Store) -> None:
    screening.decide(store, [4], decision="include", reviewer="ana")
    exclude(store, [4], "ana", stage="full-text", reason="no outcome data")
    row = state(store, 4)
    assert (row["decision"], row["stage"], row["ta_decision"], row["ft_decision"]) == (
        "exclude", "full-text", "include", "exclude",
    )  # fmt: skip
    assert row["exclusion_reason"] == "no outcome data"


def test_undo_appends_a_reversal_and_restores_the_previous_state(store: Store) -> None:
    screening.decide(store, [5], decision="include", reviewer="ana")
    screening.decide(store, [5], decision="maybe", reviewer="ana")
    assert screening.undo(store, reviewer="ana") is not None
    assert state(store, 5)["decision"] == "include"
    assert screening.undo(store, reviewer="ana") is not None
    assert state(store, 5)["decision"] == "unscreened"
    assert screening.undo(store, reviewer="ana") is None
    assert store.events()["action"].tolist() == ["decide", "decide", "undo", "undo"]


def test_undo_reverses_only_the_reviewer_s_own_latest_action(store: Store) -> None:
    screening.decide(store, [6], decision="include", reviewer="ana")
    screening.tag(store, [6], reviewer="ben", add="rct")
    done = screening.undo(store, reviewer="ana")
    assert done is not None and done.startswith("undid decide title-abstract include on PMID 6")
    assert (state(store, 6)["decision"], state(store, 6)["tags"]) == ("unscreened", ["rct"])


def test_tags_and_notes_accumulate_per_record(store: Store) -> None:
    screening.tag(store, [7, 8], reviewer="ana", add="rct")
    screening.tag(store, [7], reviewer="ana", add="intranasal")
    screening.tag(store, [8], reviewer="ben", remove="rct")
    screening.note(store, 7, "dose table on p. 4", reviewer="ana")
    assert state(store, 7)["tags"] == ["intranasal", "rct"]
    assert state(store, 8)["tags"] == []
    assert state(store, 7)["notes"] == ["dose table on p. 4"]


def test_a_note_given_with_a_decision_shows_while_that_decision_stands(store: Store) -> None:
    exclude(store, [9], "ana", reason="other", note="conference abstract only")
    screening.note(store, 9, "ask the authors", reviewer="ben")
    assert state(store, 9)["notes"] == ["conference abstract only", "ask the authors"]
    screening.decide(store, [9], decision="include", reviewer="ana")
    assert state(store, 9)["notes"] == ["ask the authors"]


def test_annotations_hold_what_exports_show_for_touched_records_only(store: Store) -> None:
    exclude(store, [1], "ana")
    screening.tag(store, [2], reviewer="ana", add="rct")
    found = screening.annotations(store)
    assert sorted(found) == [1, 2]
    assert (found[1].decision, found[1].exclusion_reason) == ("exclude", "wrong population")
    assert (found[2].decision, found[2].tags) == ("", ("rct",))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: screening.decide(s, [999], decision="include", reviewer="ana"),
         "Not in the store: PMID 999"),
        (lambda s: screening.decide(s, [1], decision="yes", reviewer="ana"),
         "Unknown decision 'yes': use one of include, exclude, maybe"),
        (lambda s: screening.decide(s, [1], decision="include", reviewer="ana", stage="abstract"),
         "Unknown stage 'abstract': use one of title-abstract, full-text"),
        (lambda s: screening.decide(s, [1], decision="exclude", reviewer="ana"),
         "Say why it is excluded, with one of: wrong population"),
        (lambda s: screening.decide(s, [1], decision="exclude", reviewer="ana", reason="boring"),
         "Unknown exclusion reason 'boring': use one of: wrong population"),
        (lambda s: screening.decide(s, [1], decision="exclude", reviewer="ana", reason="other"),
         "needs a note"),
        (lambda s: screening.decide(s, [1], decision="include", reviewer="ana", reason="duplicate"),
         "goes with an exclude decision only"),
        (lambda s: screening.decide(s, [1], decision="include", reviewer="  "),
         "Who is screening"),
        (lambda s: screening.decide(s, [], decision="include", reviewer="ana"), "No PMID given"),
        (lambda s: screening.tag(s, [1], reviewer="ana"), "exactly one tag"),
        (lambda s: screening.tag(s, [1], reviewer="ana", add=" "), "exactly one tag"),
        (lambda s: screening.tag(s, [1, 998], reviewer="ana", add="x"), "PMID 998"),
        (lambda s: screening.note(s, 1, "  ", reviewer="ana"), "The note is empty"),
        (lambda s: screening.resolve(s, 1, decision="include", reviewer="ana", stage="later"),
         "Unknown stage 'later'"),
        (lambda s: screening.add_exclusion_reason(s, "Duplicate", reviewer="ana"),
         "already an exclusion reason"),
        (lambda s: screening.undo(s, reviewer=""), "Who is screening"),
    ],
)  # fmt: skip
def test_a_bad_request_is_a_clear_error_that_writes_nothing(
    store: Store, call: Any, message: str
) -> None:
    with pytest.raises(ScreeningError, match=message):
        call(store)
    assert store.events().empty


def test_users_can_extend_the_exclusion_reasons(store: Store) -> None:
    screening.add_exclusion_reason(store, "  paediatric   population ", reviewer="ana")
    exclude(store, [1], "ana", reason="Paediatric Population")
    assert state(store, 1)["exclusion_reason"] == "paediatric population"
    assert screening.exclusion_reasons(store)[-1] == "paediatric population"
    assert screening.undo(store, reviewer="ana") is not None  # undoes the decision, not the reason
    assert "paediatric population" in screening.exclusion_reasons(store)


def test_dual_screening_keeps_reviewers_blind_and_lists_conflicts(store: Store) -> None:
    screening.decide(store, [1, 2, 3], decision="include", reviewer="ana")
    screening.decide(store, [1, 2], decision="include", reviewer="ben")
    exclude(store, [3], "ben")
    assert screening.reviewer_decisions(store, "ben", "title-abstract") == {
        1: "include", 2: "include", 3: "exclude",
    }  # fmt: skip
    assert screening.reviewer_decisions(store, "ana", "full-text") == {}
    assert state(store, 3)["decision"] == "conflict" and state(store, 3)["conflict"]
    assert state(store, 3)["reviewers"] == ["ana", "ben"]
    conflicts = screening.conflicts(store, "title-abstract")
    assert conflicts.to_dict(orient="records") == [
        {"record_id": 3, "decisions": "ana: include; ben: exclude", "reviewers": ["ana", "ben"]}
    ]
    screening.resolve(store, 3, decision="exclude", reviewer="cat", stage="title-abstract",
                      reason="wrong population")  # fmt: skip
    assert (state(store, 3)["decision"], state(store, 3)["exclusion_reason"]) == (
        "exclude", "wrong population",
    )  # fmt: skip
    assert screening.conflicts(store, "title-abstract").empty


def test_reviewers_who_agree_to_exclude_give_the_latest_reason(store: Store) -> None:
    exclude(store, [4], "ana", reason="not chronic pain")
    exclude(store, [4], "ben", reason="wrong population")
    assert (state(store, 4)["decision"], state(store, 4)["exclusion_reason"]) == (
        "exclude", "wrong population",
    )  # fmt: skip


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
        for reviewer, decision in (("ana", a), ("ben", b)):
            if decision == "exclude":
                exclude(store, [pmid], reviewer)
            else:
                screening.decide(store, [pmid], decision=decision, reviewer=reviewer)
    (pair,) = screening.agreement(store, "title-abstract")
    assert (pair.reviewers, pair.both_decided, pair.agreed, pair.percent) == (
        ("ana", "ben"), 10, 8, 80.0,
    )  # fmt: skip
    assert pair.kappa == pytest.approx(0.6)
    assert pair.table == {
        ("exclude", "exclude"): 4, ("exclude", "include"): 1,
        ("include", "exclude"): 1, ("include", "include"): 4,
    }  # fmt: skip


def test_kappa_agrees_with_sklearn_on_random_three_way_labels() -> None:
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    for size in (3, 17, 250):
        labels = ["include", "exclude", "maybe"]
        first = rng.choice(labels, size, p=[0.2, 0.7, 0.1]).tolist()
        second = rng.choice(labels, size, p=[0.3, 0.6, 0.1]).tolist()
        expected = sklearn.cohen_kappa_score(first, second)
        assert agreement.cohen_kappa(first, second) == pytest.approx(expected), size


def test_kappa_is_undefined_without_variety_and_refuses_unpaired_labels() -> None:
    assert agreement.cohen_kappa([], []) is None
    assert agreement.cohen_kappa(["include"] * 3, ["include"] * 3) is None
    with pytest.raises(ScreeningError, match="paired labels: got 2 and 1"):
        agreement.cohen_kappa(["include", "exclude"], ["include"])


def test_agreement_compares_each_pair_over_the_records_both_decided(store: Store) -> None:
    screening.decide(store, [1, 2, 3], decision="include", reviewer="ana")
    screening.decide(store, [1, 2], decision="include", reviewer="ben")
    screening.decide(store, [3, 4], decision="maybe", reviewer="cat")
    pairs = {
        r.reviewers: (r.both_decided, r.agreed)
        for r in screening.agreement(store, "title-abstract")
    }
    assert pairs == {("ana", "ben"): (2, 2), ("ana", "cat"): (1, 0)}
    assert screening.agreement(store, "full-text") == []


@pytest.mark.slow
def test_the_state_of_100_000_records_folds_every_one_of_their_events(data_dir: Path) -> None:
    """How long the fold takes is measured by bench/screening_bench.py, on this same log."""
    store = Store(data_dir)
    store.upsert(Article(pmid=p, title="t") for p in range(1, 100_001))
    log = synthetic_log(100_000)
    summary = screening.summary(store, log)
    assert len(log) > 260_000 and len(summary) == 100_000
    assert summary["decision"].value_counts().to_dict() == {
        "conflict": 42_857, "include": 57_143,
    }  # fmt: skip
