"""Ranking unscreened records: query similarity first, a model once it can learn, blind in dual
screening, and features built once per records version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tracker import ranking, relevance, screening
from tracker.records import Article, MeshHeading
from tracker.store import Store

KETAMINE = [
    "Intranasal esketamine for refractory neuropathic pain: a randomised trial",
    "Ketamine infusion in complex regional pain syndrome",
    "Low-dose ketamine for chronic cancer pain",
    "Esketamine and fibromyalgia pain scores",
    "Oral ketamine for phantom limb pain",
    "Ketamine for chronic low back pain: a pilot study",
]
OTHER = [
    "Fluoride varnish and dental caries in children",
    "Orthodontic brackets and enamel demineralisation",
    "Dental sealants in primary molars",
    "Toothbrushing programmes in schools and caries",
    "Fissure sealants versus fluoride gel",
    "Caries risk in adolescents with braces",
]


def article(pmid: int, title: str) -> Article:
    topic = "ketamine analgesia chronic pain" if "etamine" in title else "dental caries teeth"
    mesh = (MeshHeading("Ketamine"),) if "etamine" in title else (MeshHeading("Dental Caries"),)
    return Article(pmid=pmid, title=title, abstract=f"{title}. A study of {topic}.", mesh=mesh)


@pytest.fixture
def store(data_dir: Path) -> Store:
    """Twelve records: PMIDs 1–6 about ketamine for pain, 11–16 about dental caries."""
    library = Store(data_dir)
    library.upsert(
        [article(1 + i, t) for i, t in enumerate(KETAMINE)]
        + [article(11 + i, t) for i, t in enumerate(OTHER)]
    )
    return library


def decide(store: Store, pmids: list[int], decision: str, reviewer: str = "ana") -> None:
    reason = "wrong population" if decision == "exclude" else ""
    screening.decide(store, pmids, decision=decision, reviewer=reviewer, reason=reason)


def test_before_any_decision_the_query_terms_rank_the_records(store: Store) -> None:
    ranked = ranking.rank(store, reviewer="ana")
    assert ranked.model.method == "query similarity"
    assert set(ranked.pmids[:6]) == {1, 2, 3, 4, 5, 6}
    assert "query terms" in ranked.model.description


def test_with_an_include_and_an_exclude_a_model_ranks_the_rest(store: Store) -> None:
    decide(store, [2], "include")
    decide(store, [12], "exclude")
    ranked = ranking.rank(store, reviewer="ana")
    assert ranked.model.method == "model"
    assert (ranked.model.decisions, ranked.model.relevant, ranked.model.irrelevant) == (2, 1, 1)
    assert set(ranked.pmids) == {1, 3, 4, 5, 6, 11, 13, 14, 15, 16}
    assert set(ranked.pmids[:5]) == {1, 3, 4, 5, 6}
    assert ranked.records["score"].is_monotonic_decreasing
    assert ranked.records["rank"].tolist() == list(range(1, 11))
    assert ranked.next_pmid() == ranked.pmids[0]


def test_only_relevant_decisions_move_the_order_towards_them(store: Store) -> None:
    """Rocchio's feedback before the first exclude: records like the include come first."""
    decide(store, [11], "include")  # a reviewer whose review is about dental caries after all
    ranked = ranking.rank(store, reviewer="ana")
    assert ranked.model.method == "query similarity"
    assert ranked.pmids[0] in {12, 13, 14, 15, 16}


def test_a_reviewer_never_learns_from_the_other_reviewers_hidden_decisions(store: Store) -> None:
    decide(store, [2], "include", reviewer="ana")
    decide(store, [12], "exclude", reviewer="ana")
    before = ranking.rank(store, reviewer="ana").records
    decide(store, [1, 3, 4], "exclude", reviewer="ben")  # opposite labels, on ana's records
    decide(store, [13, 14, 15], "include", reviewer="ben")
    after = ranking.rank(store, reviewer="ana").records
    pd.testing.assert_frame_equal(before, after)
    bens = ranking.rank(store, reviewer="ben")
    assert 2 in bens.pmids and 12 in bens.pmids  # ana's records are still ben's to screen
    assert bens.model.decisions == 6


def test_a_resolution_of_a_record_the_reviewer_decided_is_what_they_learn(store: Store) -> None:
    decide(store, [2, 11], "include", reviewer="ana")
    decide(store, [2], "exclude", reviewer="ben")
    screening.resolve(
        store,
        11,
        decision="exclude",
        reviewer="cleo",
        stage="title-abstract",
        reason="wrong population",
    )
    state = ranking.rank(store, reviewer="ana").model
    assert (state.relevant, state.irrelevant) == (1, 1)


def test_the_team_view_uses_the_final_decisions(store: Store) -> None:
    decide(store, [2], "include", reviewer="ana")
    decide(store, [12], "exclude", reviewer="ben")
    team = ranking.rank(store, reviewer="")
    assert team.model.method == "model" and 2 not in team.pmids and 12 not in team.pmids


def test_among_limits_the_answer_but_not_what_is_learnt(store: Store) -> None:
    decide(store, [2], "include")
    decide(store, [12], "exclude")
    full = ranking.rank(store, reviewer="ana").records.set_index("record_id")["score"]
    some = ranking.rank(store, reviewer="ana", among=[5, 15, 2]).records
    assert some["record_id"].tolist() == [5, 15]
    assert some["score"].tolist() == pytest.approx(full.loc[[5, 15]].tolist())


def test_at_full_text_only_records_that_passed_title_abstract_are_ranked(store: Store) -> None:
    decide(store, [1, 2, 11], "include")
    screening.decide(store, [3], decision="maybe", reviewer="ana")
    ranked = ranking.rank(store, reviewer="ana", stage="full-text")
    assert set(ranked.pmids) == {1, 2, 3, 11}


def test_new_since_last_run_lists_what_the_latest_run_added(store: Store) -> None:
    first = store.begin_run(kind="fetch", query="ketamine", api_key_used=False)
    store.complete_run(first, [article(1, KETAMINE[0]), article(2, KETAMINE[1])])
    second = store.begin_run(kind="fetch", query="ketamine", api_key_used=False)
    store.complete_run(second, [article(2, KETAMINE[1]), article(3, KETAMINE[2])])
    assert ranking.new_since_last_run(store) == [3]
    assert ranking.review_query(store) == "ketamine"


def test_features_are_built_once_per_records_version(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    original = relevance.build_features

    def counted(*args: Any, **kwargs: Any) -> relevance.Features:
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(relevance, "build_features", counted)
    decide(store, [2], "include")
    ranking.rank(store, reviewer="ana")
    decide(store, [12], "exclude")
    ranking.rank(store, reviewer="ana")
    assert len(built) == 1
    store.upsert([article(21, "Ketamine for migraine")])
    assert 21 in ranking.rank(store, reviewer="ana").pmids
    assert len(built) == 2


def test_an_empty_library_gives_an_empty_ranking(data_dir: Path) -> None:
    ranked = ranking.rank(Store(data_dir), reviewer="ana")
    assert ranked.pmids == [] and ranked.next_pmid() is None


def test_equal_scores_are_ordered_by_pmid(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([Article(pmid=p, title="Same words", abstract="Same words") for p in (9, 3, 7)])
    assert ranking.rank(store, reviewer="ana").pmids == [3, 7, 9]
