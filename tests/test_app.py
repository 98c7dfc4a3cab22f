"""The dashboard through Streamlit's AppTest: real app.py, real store on disk, real fake NCBI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fake_eutils import FakeNCBI
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import FileUploader

from tracker import Store, screening
from tracker.records import Article

pytestmark = pytest.mark.both_backends

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FETCH = "FormSubmitter:fetch_form-Fetch from PubMed"


def app(data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> AppTest:
    monkeypatch.setenv("TRACKER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TRACKER_REVIEWER", env.pop("reviewer", "ana"))
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    monkeypatch.delenv("NCBI_EMAIL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=60)
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one data table showing ``column`` (AppTest keeps keys of selectable tables only)."""
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def upload(at: AppTest, name: str, data: bytes) -> None:
    uploader = at.get("file_uploader")[0]
    assert isinstance(uploader, FileUploader)
    uploader.set_value((name, data, "text/xml"))
    at.run()


def table_pmids(at: AppTest) -> list[int]:
    return [int(p) for p in at.dataframe(key="table").value["PMID"]]


# -- first run: fetch and import -------------------------------------------------------------


def test_an_empty_store_shows_the_welcome_and_the_fetch_form(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(data_dir, monkeypatch)
    assert not at.exception
    assert "The library is empty" in at.info[0].value
    assert str(at.text_area(key="query").value).startswith('("Ketamine"[MeSH Terms]')
    assert at.text_input(key="api_key").proto.type == at.text_input(key="api_key").proto.PASSWORD
    assert "No runs yet." in texts(at)


@pytest.mark.slow
def test_a_failed_fetch_shows_the_error_and_changes_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ncbi: FakeNCBI
) -> None:
    fake_ncbi.faults.fail_after = 0
    fake_ncbi.faults.fail_kind = "503"
    at = app(data_dir, monkeypatch, TRACKER_EUTILS_URL=fake_ncbi.base_url)
    at.text_input(key="email").input("ana@example.org")
    at.button(key=FETCH).click().run(timeout=120)
    assert not at.exception
    (error,) = at.error
    assert "The fetch did not complete, and nothing was changed" in error.value
    assert "HTTP 503" in error.value and "import a PubMed XML file" in error.value
    assert not (data_dir / "records.parquet").exists()
    assert Store(data_dir).runs()["status"].tolist() == ["failed"]


def test_a_fetch_without_an_email_asks_for_one_and_sends_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ncbi: FakeNCBI
) -> None:
    at = app(data_dir, monkeypatch, TRACKER_EUTILS_URL=fake_ncbi.base_url)
    at.button(key=FETCH).click().run()
    assert "contact email" in at.error[0].value
    assert fake_ncbi.requests() == [] and Store(data_dir).runs().empty


def test_a_fetch_from_the_form_fills_the_library(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ncbi: FakeNCBI
) -> None:
    at = app(data_dir, monkeypatch, TRACKER_EUTILS_URL=fake_ncbi.base_url)
    at.text_input(key="email").input("ana@example.org")
    at.text_area(key="query").input("ketamine")
    at.button(key=FETCH).click().run(timeout=120)
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("2,000 records: 2,000 new")
    assert len(Store(data_dir).known_ids()) == 2000
    assert "2,000 of 2,000 records match." in texts(at)


def test_the_api_key_is_sent_to_ncbi_but_never_written_to_disk(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ncbi: FakeNCBI
) -> None:
    secret = "k3y0nly1nmemory0123456789abcdef"
    at = app(data_dir, monkeypatch, TRACKER_EUTILS_URL=fake_ncbi.base_url)
    at.text_input(key="email").input("ana@example.org")
    at.text_input(key="api_key").input(secret)
    at.text_area(key="query").input("ketamine")
    at.button(key=FETCH).click().run(timeout=120)
    assert not at.error
    assert {r["params"].get("api_key") for r in fake_ncbi.requests()} == {"<key>"}
    assert Store(data_dir).runs()["api_key_used"].tolist() == [True]
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    shown = texts(at) + [str(d.value.to_csv()) for d in at.dataframe]
    assert not any(secret in s for s in shown)


def test_an_uploaded_pubmed_xml_file_is_imported(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, eutils_fixtures: Path
) -> None:
    at = app(data_dir, monkeypatch)
    upload(at, "pubmed5.xml", (eutils_fixtures / "pubmed5.xml").read_bytes())
    at.button(key="import").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("PubMed: 1 record: 1 new, 0 already known")
    assert Store(data_dir).runs()["query"].tolist() == ["import pubmed5.xml"]
    assert len(Store(data_dir).known_ids()) > 0


def test_an_upload_that_is_not_pubmed_xml_is_refused_and_changes_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(data_dir, monkeypatch)
    upload(at, "search.xml", b"<html><body>Service unavailable</body></html>")
    at.button(key="import").click().run()
    assert not at.exception
    assert "The import did not complete, and nothing was changed" in at.error[0].value
    assert not (data_dir / "records.parquet").exists()
    assert Store(data_dir).known_ids() == set()


# -- browse ----------------------------------------------------------------------------------


def test_filters_narrow_the_table(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(filled, monkeypatch)
    assert not at.exception
    assert "8 of 8 records match." in texts(at)
    at.text_input(key="f_text").input("pancreatic").run()
    assert "1 of 8 records match." in texts(at)
    assert table_pmids(at) == [27797938]
    at.text_input(key="f_text").input("").run()
    at.multiselect(key="f_types").select("Review").run()
    assert "1 of 8 records match." in texts(at)
    assert table_pmids(at) == [12091962]


def test_the_table_carries_no_abstracts(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(filled, monkeypatch)
    columns = list(at.dataframe(key="table").value.columns)
    assert columns == ["Record", "PMID", "Source", "Year", "Title", "First author", "Journal",
                       "Decision", "Tags",
                       "Relevance"]  # fmt: skip


def test_a_row_selected_in_the_table_opens_its_detail(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(filled, monkeypatch)
    at.text_input(key="f_text").input("pancreatic").run()
    table = at.dataframe(key="table")
    at.session_state["table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert table.value["PMID"].tolist() == [27797938]
    assert at.session_state["current"] == 27797938
    assert "PMID 27797938" in [c.value for c in at.caption]
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert links == {
        "PubMed": "https://pubmed.ncbi.nlm.nih.gov/27797938/",
        "DOI": "https://doi.org/10.1136/gutjnl-2016-312510",
        "PMC": "https://pmc.ncbi.nlm.nih.gov/articles/PMC5442267/",
    }


def test_titles_and_abstracts_are_shown_as_text_never_as_markup(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "<b>x</b> *y* [z](http://e) <script>alert(1)</script>"
    Store(data_dir).upsert([Article(pmid=5, title=hostile, abstract="# not a heading\n<i>x</i>")])
    at = app(data_dir, monkeypatch)
    at.text_input(key="goto").input("5").run()
    assert hostile in texts(at)
    assert "# not a heading\n<i>x</i>" in texts(at)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    rendered += [e.value for e in at.error] + [s.value for s in at.success]
    assert not any("<b>x</b>" in m or "*y*" in m for m in rendered)
    assert not at.get("html")


# -- screen ----------------------------------------------------------------------------------


def test_a_decision_from_the_detail_pane_lands_in_the_store(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(filled, monkeypatch)
    at.text_input(key="goto").input("9997").run()
    assert "Magnetic studies of Chromatium flavocytochrome C552. A mechanism for heme-flavin " \
           "interaction." in texts(at)  # fmt: skip
    at.selectbox(key="reason").set_value("animal or in-vitro study")
    at.button(key="decide_exclude").click().run()
    assert not at.exception and not at.error
    state = screening.summary(Store(filled)).loc[9997]
    assert (state["decision"], state["exclusion_reason"]) == ("exclude", "animal or in-vitro study")
    assert any("9997: exclude saved" in s.value for s in at.success)


def test_exclude_without_a_reason_is_refused_with_a_message(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(filled, monkeypatch)
    at.text_input(key="goto").input("9997").run()
    at.button(key="decide_exclude").click().run()
    assert "Choose a reason" in at.error[0].value
    assert Store(filled).events().empty


def test_a_decision_moves_on_to_the_next_unscreened_record(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(filled, monkeypatch)
    at.text_input(key="goto").input("27797938").run()
    at.button(key="decide_include").click().run()
    following = at.session_state["current"]
    assert following not in (None, 27797938)
    assert screening.summary(Store(filled)).loc[following, "decision"] == "unscreened"
    at.checkbox(key="advance").uncheck().run()
    at.button(key="decide_maybe").click().run()
    assert at.session_state["current"] == following


def test_next_unscreened_moves_through_the_list(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screening.decide(Store(filled), [29963580], decision="include", reviewer="ana")
    at = app(filled, monkeypatch)
    at.button(key="next").click().run()
    first = at.session_state["current"]
    assert first != 29963580
    at.button(key="next").click().run()
    assert at.session_state["current"] not in (first, 29963580)


def test_tags_are_added_filtered_on_and_removed(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(filled, monkeypatch)
    at.text_input(key="goto").input("9997").run()
    at.text_input(key="tag_9997").input("check dose")
    at.button(key="add_tag").click().run()
    assert screening.summary(Store(filled)).loc[9997, "tags"] == ["check dose"]
    at.multiselect(key="f_tags").select("check dose").run()
    assert table_pmids(at) == [9997]
    at.button(key="rm_check dose").click().run()
    assert screening.summary(Store(filled)).loc[9997, "tags"] == []


def test_a_note_is_saved_and_shown_with_the_record(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(filled, monkeypatch)
    at.text_input(key="goto").input("9997").run()
    at.text_input(key="note_9997").input("<b>ask</b> the authors")
    at.button(key="save_note").click().run()
    assert screening.summary(Store(filled)).loc[9997, "notes"] == ["<b>ask</b> the authors"]
    assert "Note: <b>ask</b> the authors" in texts(at)


def test_undo_takes_back_my_last_decision(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(filled, monkeypatch)
    at.text_input(key="goto").input("9997").run()
    at.checkbox(key="advance").uncheck()
    at.text_input(key="note_9997").input("**bold** [z](http://e)")
    at.button(key="decide_maybe").click().run()
    assert screening.summary(Store(filled)).loc[9997, "decision"] == "maybe"
    at.button(key="undo").click().run()
    assert not at.error
    assert screening.summary(Store(filled)).loc[9997, "decision"] == "unscreened"
    (message,) = [s.value for s in at.success]  # it quotes the note: escaped, shown as typed
    assert message.startswith("undid decide") and r"\*\*bold\*\* \[z\]" in message


def test_dual_screening_hides_the_other_reviewers_call_and_resolves_conflicts(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(filled)
    screening.decide(store, [9997, 11700088], decision="include", reviewer="ben")
    at = app(filled, monkeypatch, reviewer="ana")
    shown = at.dataframe(key="table").value
    decisions = dict(zip(shown["PMID"], shown["Decision"], strict=True))
    assert decisions[9997] == "unscreened"  # ben's include is not shown to ana
    screening.decide(store, [9997], decision="maybe", reviewer="ana")
    at.run()
    assert frame_with(at, "decisions")["record_id"].tolist() == [9997]
    assert frame_with(at, "kappa")["both_decided"].tolist() == [1]
    at.selectbox(key="resolve_pmid").set_value(9997)
    at.radio(key="resolve").set_value("include")
    at.button(key="FormSubmitter:resolve_form-Resolve").click().run()
    assert not at.error, at.error[0].value
    assert screening.summary(Store(filled)).loc[9997, "decision"] == "include"


def test_the_decision_filter_applies_at_the_chosen_stage(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(filled)
    screening.decide(store, [9997, 11700088], decision="include", reviewer="ana")
    screening.decide(store, [9997], decision="exclude", reviewer="ana", stage="full-text",
                     reason="wrong population")  # fmt: skip
    at = app(filled, monkeypatch)
    at.multiselect(key="f_decisions").select("include").run()
    assert table_pmids(at) == [11700088]  # 9997's latest stage says exclude
    at.selectbox(key="f_stage").set_value("title-abstract").run()
    assert sorted(table_pmids(at)) == [9997, 11700088]


# -- overview and run log --------------------------------------------------------------------


def test_only_the_open_tab_runs(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(filled, monkeypatch)
    assert [t.label for t in at.tabs] == ["Browse & screen", "Evidence map", "Overview",
                                          "Search runs", "Fetch & import"]  # fmt: skip
    assert at.dataframe(key="table") and not at.metric and not at.get("graphviz_chart")
    at.session_state["tab"] = "Overview"
    at.run()
    assert at.metric and not [d for d in at.dataframe if d.key == "table"]


def test_the_overview_shows_charts_and_the_prisma_flow(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screening.decide(Store(filled), [9997], decision="include", reviewer="ana")
    at = app(filled, monkeypatch)
    at.session_state["tab"] = "Overview"
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == ["Records", "Screened (title/abstract)", "Full texts assessed", "Included"]
    assert [m.value for m in at.metric][:2] == ["8", "1"]
    assert len(at.get("vega_lite_chart")) == 6  # years, design, drug, route, condition, progress
    (diagram,) = at.get("graphviz_chart")
    assert "Records screened" in diagram.proto.spec
    assert "PRISMA 2020 flow (new review)" in at.code[-1].value


def test_the_run_log_lists_every_run(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(filled, monkeypatch)
    at.session_state["tab"] = "Search runs"
    at.run()
    runs = frame_with(at, "Query as sent")
    assert runs["Status"].tolist() == ["succeeded"]
    assert runs["Query as sent"].tolist() == [
        "import pubmed1.xml, pubmed2.xml, pubmed4.xml, pubmed5.xml, pubmed6.xml, pubmed7.xml"
    ]
