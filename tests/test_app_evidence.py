"""The dashboard's evidence pieces through AppTest: suggested tags with their spans, accepting
and rejecting them, the evidence map, the leaflet's claims, citation metrics and the search log.

Real app.py, a real store on disk and, for iCite, a real local HTTP server (tests/fake_icite.py).
"""

from __future__ import annotations

from pathlib import Path

import fake_icite
import pandas as pd
import pyarrow as pa
import pytest
from fake_icite import FakeICite
from streamlit.testing.v1 import AppTest
from test_app import app, frame_with, table_pmids, texts

from tracker import Settings, Store, citations, import_files, screening, suggestions
from tracker.records import Article
from tracker.vocabulary import write_default

pytestmark = pytest.mark.both_backends

ENRICH = "FormSubmitter:enrich_form-Fetch citation metrics"
TRIAL = Article(
    pmid=11,
    title="Intranasal esketamine for fibromyalgia: a randomized controlled trial",
    abstract="We enrolled 40 patients. Nausea and dissociation were common; no hallucinations "
    "were reported.",
    publication_types=("Randomized Controlled Trial",),
    year=2022,
)
SERIES = Article(
    pmid=12,
    title="Ketamine infusions for complex regional pain syndrome: a case series",
    abstract="Three patients reported dizziness.",
    year=2019,
)


@pytest.fixture
def tagged(data_dir: Path) -> Path:
    Store(data_dir).upsert([TRIAL, SERIES])
    return data_dir


def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["tab"] = label
    return at.run()


def open_record(at: AppTest, pmid: int) -> AppTest:
    at.text_input(key="goto").input(str(pmid))
    return at.run()


def chart_data(at: AppTest, *columns: str) -> list[dict[str, object]]:
    """The rows of the one chart drawn from data with ``columns`` (Streamlit sends Arrow)."""
    found: list[list[dict[str, object]]] = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frame = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
            if set(columns) <= set(frame.columns):
                found.append(frame[list(columns)].to_dict(orient="records"))
    (rows,) = found
    return rows


# -- suggested tags in the detail pane --------------------------------------------------------


def test_the_detail_pane_traces_each_suggested_tag_to_its_span(
    tagged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_record(app(tagged, monkeypatch), 11)
    assert not at.exception
    line = next(t for t in texts(at) if t.startswith("Evidence tags:"))
    assert "design: RCT" in line and "route: intranasal" in line
    assert "hallucinations" not in line, "a negated mention is no tag"
    table = frame_with(at, "Evidence")
    spans = dict(zip(table["Tag"], table["Evidence"], strict=False))
    assert spans["route: intranasal"] == "Intranasal"
    assert spans["adverse effects: nausea or vomiting"] == "Nausea"
    assert set(table["Status"]) == {"suggested"}


def test_a_reviewer_rejects_a_suggestion_and_it_leaves_the_filters(
    tagged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_record(app(tagged, monkeypatch), 11)
    at.sidebar.multiselect(key="f_route").select("intranasal").run()
    assert table_pmids(at) == [11]
    picker = at.selectbox(key="sg_pick_11")
    labels = [str(o) for o in picker.options]
    picker.set_value(next(i for i, o in enumerate(labels) if o.startswith("route: intranasal")))
    at.run()
    at.button(key="sg_rejected").click().run()
    assert not at.exception
    assert "PMID 11: route: intranasal rejected." in at.success[0].value.replace("\\", "")
    judged = suggestions.verdicts(Store(tagged))
    assert judged[["record_id", "facet", "value", "status"]].values.tolist() == [
        [11, "route", "intranasal", "rejected"]
    ]
    assert table_pmids(at) == [], "a rejected suggestion no longer matches the filter"
    assert "route: intranasal" not in next(t for t in texts(at) if t.startswith("Evidence tags:"))


def test_accepting_needs_a_reviewer_name(tagged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_record(app(tagged, monkeypatch, reviewer=""), 11)
    at.button(key="sg_accepted").click().run()
    assert not at.exception
    assert "was not accepted" in at.error[0].value
    assert suggestions.verdicts(Store(tagged)).empty


@pytest.mark.folder_only("edits vocabulary.toml in the data folder with a text editor")
def test_an_edited_vocabulary_in_the_data_folder_re_tags_the_library(
    tagged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_tab(app(tagged, monkeypatch), "Evidence map")
    at.radio(key="claims_scope").set_value("all").run()
    counts = {c["claim"]: c["studies"] for c in chart_data(at, "claim", "studies")}
    assert counts["headache"] == 0
    path = write_default(tagged)
    edited = path.read_text().replace(
        "text = ['\\bheadaches?\\b']", "text = ['\\bheadaches?\\b', '\\bdizziness\\b']"
    )
    assert edited != path.read_text(), "the test's edit must apply"
    path.write_text(edited)
    at.run()
    counts = {c["claim"]: c["studies"] for c in chart_data(at, "claim", "studies")}
    assert counts["headache"] == 1, "the claims view follows the edited vocabulary"
    at.sidebar.multiselect(key="f_adverse_effects").select("headache").run()
    at = open_tab(at, "Browse & screen")
    assert table_pmids(at) == [12], "so do the filters"


def test_the_drug_and_adverse_effect_filters_use_the_suggested_tags(
    tagged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(tagged, monkeypatch)
    at.sidebar.multiselect(key="f_drug").select("esketamine").run()
    assert table_pmids(at) == [11]
    at.sidebar.multiselect(key="f_drug").unselect("esketamine").run()
    at.sidebar.multiselect(key="f_adverse_effects").select("dizziness or lightheadedness").run()
    assert table_pmids(at) == [12]


# -- the evidence map and the leaflet's claims ------------------------------------------------


def test_the_evidence_map_counts_the_selection(
    tagged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_tab(app(tagged, monkeypatch), "Evidence map")
    assert not at.exception
    cells = chart_data(at, "design", "condition", "studies")
    assert {"design": "RCT", "condition": "fibromyalgia", "studies": 1} in cells
    assert sum(int(str(c["studies"])) for c in cells) >= 2
    at.sidebar.multiselect(key="f_drug").select("esketamine").run()
    assert texts(at)[0].startswith("Records in the sidebar's selection: 1.")
    assert all(c["design"] == "RCT" for c in chart_data(at, "design", "condition", "studies"))
    at.selectbox(key="map_rows").set_value("drug").run()
    cells = chart_data(at, "drug", "condition", "studies")
    assert {"drug": "esketamine", "condition": "fibromyalgia", "studies": 1} in cells


def test_the_claims_view_shows_included_studies_then_all(
    tagged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screening.decide(Store(tagged), [12], decision="include", reviewer="ana")
    at = open_tab(app(tagged, monkeypatch), "Evidence map")
    rows = frame_with(at, "Claim")
    assert set(rows.loc[rows["PMID"] != "", "PMID"].astype(int)) == {12}
    assert "1 of the 1 studies in scope report an adverse effect" in " ".join(texts(at))
    at.radio(key="claims_scope").set_value("all").run()
    rows = frame_with(at, "Claim")
    nausea = rows[rows["Claim"] == "nausea or vomiting"]
    assert nausea[["PMID", "Evidence"]].values.tolist() == [["11", "Nausea"]]
    assert rows.loc[rows["Claim"] == "hallucinations", "PMID"].tolist() == [""]
    unlisted = next(t for t in texts(at) if t.startswith("Reported by studies but missing"))
    assert "dissociation" in unlisted
    counts = {c["claim"]: c["studies"] for c in chart_data(at, "claim", "studies")}
    assert counts["nausea or vomiting"] == 1 and counts["hallucinations"] == 0
    at.selectbox(key="claims_pick").set_value("nausea or vomiting").run()
    assert frame_with(at, "Claim")["Claim"].unique().tolist() == ["nausea or vomiting"]


# -- citation metrics -------------------------------------------------------------------------


def test_citation_metrics_are_fetched_shown_and_sortable(
    tagged: Path, monkeypatch: pytest.MonkeyPatch, icite: FakeICite
) -> None:
    at = open_tab(app(tagged, monkeypatch, TRACKER_ICITE_URL=icite.base_url), "Fetch & import")
    at.text_input(key="icite_email").input("ana@example.org")
    at.button(key=ENRICH).click().run(timeout=60)
    assert not at.exception
    assert "2 PMIDs: 2 with citation metrics" in at.success[0].value
    frame = citations.load(Store(tagged))
    stored = dict(zip(frame["pmid"].tolist(), frame["citation_count"].tolist(), strict=True))
    assert stored == {p: fake_icite.metrics(p)["citation_count"] for p in (11, 12)}
    at = open_tab(at, "Browse & screen")
    at.selectbox(key="sort").set_value("most cited").run()
    table = at.dataframe(key="table").value
    expected = sorted(stored, key=lambda p: -stored[p])
    assert table["PMID"].tolist() == expected
    assert table["Citations"].tolist() == [stored[p] for p in expected]
    rcr = {p: fake_icite.metrics(p)["relative_citation_ratio"] for p in expected}
    assert [None if pd.isna(v) else v for v in table["RCR"]] == [rcr[p] for p in expected]


def test_a_failed_enrichment_says_why_and_keeps_the_stored_metrics(
    tagged: Path, monkeypatch: pytest.MonkeyPatch, icite: FakeICite
) -> None:
    settings = Settings(data_dir=tagged, email="ana@example.org", icite_url=icite.base_url)
    citations.enrich(Store(tagged), settings)
    before = citations.load(Store(tagged))
    icite.faults.fail_after = 0
    icite.faults.fail_kind = "nodata"
    at = open_tab(app(tagged, monkeypatch, TRACKER_ICITE_URL=icite.base_url), "Fetch & import")
    at.button(key=ENRICH).click().run(timeout=60)
    assert not at.exception
    assert "Citation metrics were not updated, and the stored ones are kept" in at.error[0].value
    pd.testing.assert_frame_equal(citations.load(Store(tagged)), before)


# -- the search log for a methods section -----------------------------------------------------


def test_the_search_log_is_offered_as_markdown_for_the_methods_section(
    eutils_fixtures: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_files(Store(data_dir), [eutils_fixtures / "pubmed1.xml"])
    at = open_tab(app(data_dir, monkeypatch), "Search runs")
    assert not at.exception
    markdown = at.code[0].value
    assert markdown.splitlines()[0].startswith("| Run | Date/time (UTC) | Database |")
    assert "PubMed export file (PubMed XML;" in markdown
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Search log (Markdown)", "Search log (CSV)"} <= labels
