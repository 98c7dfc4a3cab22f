"""The dashboard through Streamlit's AppTest: real app.py, real store on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_eutils import FakeNCBI
from streamlit.testing.v1 import AppTest

from tracker import Store, import_files, screening
from tracker.records import Article

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def app(data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> AppTest:
    monkeypatch.setenv("TRACKER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TRACKER_REVIEWER", "ana")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=60)
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


@pytest.fixture
def filled(eutils_fixtures: Path, data_dir: Path) -> Path:
    import_files(Store(data_dir), sorted(eutils_fixtures.glob("pubmed*.xml")))
    return data_dir


def test_an_empty_store_shows_the_welcome_and_the_fetch_form(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(data_dir, monkeypatch)
    assert not at.exception
    assert "The library is empty" in at.info[0].value
    assert str(at.text_area(key="query").value).startswith('("Ketamine"[MeSH Terms]')
    assert at.text_input(key="api_key").proto.type == at.text_input(key="api_key").proto.PASSWORD


def test_a_failed_fetch_shows_the_error_and_changes_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ncbi: FakeNCBI
) -> None:
    fake_ncbi.faults.fail_after = 0
    fake_ncbi.faults.fail_kind = "503"
    at = app(data_dir, monkeypatch, TRACKER_EUTILS_URL=fake_ncbi.base_url)
    at.text_input(key="email").input("ana@example.org")
    at.button[0].click().run(timeout=120)
    assert not at.exception
    (error,) = at.error
    assert "The fetch did not complete, and nothing was changed" in error.value
    assert "HTTP 503" in error.value and "import a PubMed XML file" in error.value
    assert not (data_dir / "records.parquet").exists()
    assert Store(data_dir).runs()["status"].tolist() == ["failed"]


def test_a_fetch_from_the_form_fills_the_library(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ncbi: FakeNCBI
) -> None:
    at = app(data_dir, monkeypatch, TRACKER_EUTILS_URL=fake_ncbi.base_url)
    at.text_input(key="email").input("ana@example.org")
    at.text_area(key="query").input("ketamine")
    at.button[0].click().run(timeout=120)
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("2,000 records: 2,000 new")
    assert len(Store(data_dir).known_pmids()) == 2000


def test_filters_narrow_the_table(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(filled, monkeypatch)
    assert not at.exception
    assert "8 of 8 records match." in texts(at)
    at.text_input(key="f_text").input("pancreatic").run()
    assert "1 of 8 records match." in texts(at)
    assert at.dataframe(key="table").value["PMID"].tolist() == [27797938]
    at.text_input(key="f_text").input("").run()
    at.multiselect(key="f_types").select("Review").run()
    assert "1 of 8 records match." in texts(at)


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
    assert "Say why it is excluded" in at.error[0].value
    assert Store(filled).events().empty


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


def test_titles_and_abstracts_are_shown_as_text_never_as_markup(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "<b>bold</b> *star* [link](https://example.org) <script>alert(1)</script>"
    Store(data_dir).upsert([Article(pmid=5, title=hostile, abstract="# not a heading\n<i>x</i>")])
    at = app(data_dir, monkeypatch)
    at.text_input(key="goto").input("5").run()
    assert hostile in texts(at)
    assert "# not a heading\n<i>x</i>" in texts(at)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<b>bold</b>" in m or "*star*" in m for m in rendered)


def test_the_overview_and_run_log_render(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(filled, monkeypatch)
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == ["Records", "Screened (title/abstract)", "Full texts assessed", "Included"]
    assert at.metric[0].value == "8"
    (runs,) = [d.value for d in at.dataframe if "Query as sent" in d.value.columns]
    assert runs["Status"].tolist() == ["succeeded"]
    assert runs["Query as sent"].tolist() == [
        "import pubmed1.xml, pubmed2.xml, pubmed4.xml, pubmed5.xml, pubmed6.xml, pubmed7.xml"
    ]
    assert "PRISMA 2020 flow (new review)" in at.code[-1].value
