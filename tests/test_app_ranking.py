"""Prioritised screening in the app: the ranked order, "next most relevant", the progress
panel, and blinding in dual screening. Real app.py, real records on disk (the fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_app import app, texts
from test_app_evidence import chart_data

from tracker import Store, dashboard, ranking, screening, screening_progress
from tracker.importer import import_files
from views.progress import numbers

pytestmark = pytest.mark.both_backends


def decided(data_dir: Path, reviewer: str = "ana") -> tuple[int, int]:
    """One include and one exclude by ``reviewer``: enough for a model."""
    pmids = sorted(Store(data_dir).known_ids())
    store = Store(data_dir)
    screening.decide(store, [pmids[0]], decision="include", reviewer=reviewer)
    screening.decide(store, [pmids[1]], decision="exclude", reviewer=reviewer,
                     reason="wrong population")  # fmt: skip
    return pmids[0], pmids[1]


def table(at: AppTest) -> pd.DataFrame:
    return at.dataframe(key="table").value


def shown_pmid(at: AppTest) -> int:
    (caption,) = [c.value for c in at.caption if c.value.startswith("PMID ")]
    return int(caption.removeprefix("PMID "))


def test_the_ranked_order_appears_after_one_include_and_one_exclude(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(filled, monkeypatch)
    assert at.selectbox(key="sort").value == "newest first", "no model yet: newest first"
    decided(filled)
    at.run()
    assert at.selectbox(key="sort_ranked").value == dashboard.RELEVANCE
    expected = ranking.rank(Store(filled), reviewer="ana")
    assert expected.model.method == "model" and len(expected.pmids) == 6
    rows = table(at)
    assert rows["PMID"].tolist()[:6] == expected.pmids, "unscreened records by score first"
    scores = dict(zip(expected.records["record_id"], expected.records["score"], strict=True))
    for pmid, score in zip(rows["PMID"][:6], rows["Relevance"][:6], strict=True):
        assert score == pytest.approx(scores[pmid])
    assert rows["Relevance"][6:].isna().all(), "screened records carry no score"


def test_the_next_record_offered_is_the_top_ranked_one(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decided(filled)
    at = app(filled, monkeypatch)
    at.button(key="next_relevant").click().run()
    top = ranking.rank(Store(filled), reviewer="ana").next_pmid()
    assert top is not None and shown_pmid(at) == top
    at.button(key="decide_include").click().run()  # the box to move on is ticked
    at.run()
    retrained = ranking.rank(Store(filled), reviewer="ana")
    assert retrained.model.decisions == 3
    assert shown_pmid(at) == retrained.next_pmid(), "the top after learning the decision"


def test_the_progress_panel_shows_the_stores_numbers_and_records_the_check(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decided(filled)
    at = app(filled, monkeypatch)
    now = screening_progress.progress(Store(filled), reviewer="ana")
    assert (now.screened, now.total, now.relevant_found) == (2, 8, 1)
    shown = texts(at)
    assert numbers(now) in shown and now.sentence in shown and now.model.description in shown
    curve = chart_data(at, "screened", "relevant_found")
    assert curve == now.curve[["screened", "relevant_found"]].to_dict(orient="records")
    at.button(key="record_stopping_check").click().run()
    checks = Store(filled).events_of(["stopping-check"])
    assert len(checks) == 1 and checks["reviewer"].iloc[0] == "ana"
    assert json.loads(checks["note"].iloc[0]) == json.loads(now.verdict.to_json())


def test_a_reviewers_order_never_comes_from_the_other_reviewers_hidden_decisions(
    filled: Path, eutils_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's order is the same whether or not Ana's decisions exist: none of hers leaks."""
    pmids = sorted(Store(filled).known_ids())
    store = Store(filled)
    screening.decide(store, pmids[2:5], decision="include", reviewer="ana")
    screening.decide(store, pmids[5:7], decision="exclude", reviewer="ana", reason="duplicate")
    decided(filled, reviewer="ben")
    alone = tmp_path / "ben-alone"
    import_files(Store(alone), sorted(eutils_fixtures.glob("pubmed*.xml")))
    decided(alone, reviewer="ben")
    at = app(filled, monkeypatch, reviewer="ben")
    without_ana = ranking.rank(Store(alone), reviewer="ben")
    rows = table(at)
    assert rows["PMID"].tolist()[:6] == without_ana.pmids
    assert rows["Relevance"][:6].tolist() == pytest.approx(without_ana.records["score"].tolist())
    with_ana = ranking.rank(Store(filled), reviewer="ana")
    assert with_ana.model.decisions == 5 and with_ana.pmids != without_ana.pmids


def test_a_large_library_is_not_kept_waiting_for_the_rankings_features(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``BACKGROUND_FROM`` records the features are built in a thread: the first view
    says so and keeps the plain order; once they are built, a refresh shows the ranked order."""
    import time

    from views import browse

    monkeypatch.setattr(browse, "BACKGROUND_FROM", 0)
    decided(filled)
    at = app(filled, monkeypatch)
    waiting = ranking.Ranking.preparing("ana", "title-abstract").model.description
    assert waiting in [c.value for c in at.caption], "the reviewer is told why there is no order"
    assert at.selectbox(key="sort").value == "newest first"
    assert table(at)["Relevance"].isna().all()
    deadline = time.monotonic() + 120
    while not ranking.features_ready(Store(filled)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ranking.features_ready(Store(filled)), "the background build finished"
    at.button(key="refresh_ranking").click().run()
    assert waiting not in [c.value for c in at.caption]
    assert at.selectbox(key="sort_ranked").value == dashboard.RELEVANCE
    expected = ranking.rank(Store(filled), reviewer="ana")
    assert table(at)["PMID"].tolist()[:6] == expected.pmids
