"""Records from every database through the real app.py: exports uploaded in the Fetch & import
tab, a ClinicalTrials.gov search against the fake registry (tests/fake_clinicaltrials.py), the
source filter in the sidebar, and a trial read in the record pane."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fake_clinicaltrials import FakeClinicalTrials, fake_ctgov_factory
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import FileUploader
from test_app import app, texts

from tracker import ACCEPTED, Settings, Store, TrialQuery, fetch_registry, import_exports
from tracker.courtesy import Pacer

pytestmark = pytest.mark.both_backends

__all__ = ["fake_ctgov_factory"]
Factory = Callable[..., FakeClinicalTrials]
IMPORTS = Path(__file__).resolve().parent / "imports"
SEARCH = "FormSubmitter:ctgov_form-Search ClinicalTrials.gov"


def open_tab(at: AppTest, label: str) -> None:
    at.session_state["tab"] = label
    at.run()


def upload(at: AppTest, *names: str) -> None:
    """Files of tests/imports/ put in the import form's uploader, as a browser sends them."""
    (uploader,) = [u for u in at.get("file_uploader") if isinstance(u, FileUploader)]
    uploader.set_value([(name, (IMPORTS / name).read_bytes(), "text/plain") for name in names])
    at.run()


def trials_in(data_dir: Path, server: FakeClinicalTrials) -> None:
    """The fake registry's studies stored as one search run, fast."""
    settings = Settings(data_dir=data_dir, ctgov_url=server.base_url)
    fetch_registry(Store(data_dir), settings, pacer=Pacer(1000.0), sleep=lambda _: None)


def sources_shown(at: AppTest) -> set[str]:
    return set(at.dataframe(key="table").value["Source"])


# -- the import form -------------------------------------------------------------------------


def test_the_import_form_takes_every_export_format_a_database_and_a_reviewer(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(data_dir, monkeypatch, reviewer="ana")
    (uploader,) = at.get("file_uploader")
    assert isinstance(uploader, FileUploader) and uploader.accept_multiple_files
    assert {".ris", ".txt", ".nbib", ".csv", ".xml", ".gz"} <= set(uploader.allowed_type)
    assert at.text_input(key="import_source").label == "Database (when the files do not say)"
    reviewer = at.text_input(key="import_reviewer")
    assert reviewer.value == "ana", "the sidebar's reviewer (TRACKER_REVIEWER) by default"
    assert reviewer.label == "Reviewer (for decisions in Rayyan, Covidence or ASReview files)"
    assert any(ACCEPTED in c.value for c in at.caption)
    assert "Import PubMed XML" not in [h.value for h in at.subheader]


def test_an_embase_ris_and_a_medline_file_import_as_one_run_per_database(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(data_dir, monkeypatch)
    upload(at, "embase_ovid.ris", "pubmed.nbib")
    at.button(key="import").click().run()
    assert not at.exception and not at.error
    (message,) = [s.value for s in at.success]
    assert message.startswith("Embase: 2 records: 2 new, 0 already known\\. PubMed: 2 records")
    assert "Across databases: " in message and "waiting for a person to compare" in message
    runs = Store(data_dir).runs()
    assert runs[["source", "status"]].values.tolist() == [["Embase", "succeeded"],
                                                          ["PubMed", "succeeded"]]  # fmt: skip
    assert sources_shown(at) == {"Embase", "PubMed"}, "the library opens on the new records"


def test_a_screening_tool_export_without_a_reviewer_names_the_forms_field(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(data_dir, monkeypatch, reviewer="")
    upload(at, "rayyan_articles.csv")
    at.button(key="import").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith("The import did not complete, and nothing was changed")
    assert "*Reviewer (for decisions in Rayyan, Covidence or ASReview files)*" in error
    assert Store(data_dir).runs().empty and Store(data_dir).events().empty


def test_a_cut_off_export_is_refused_by_its_own_name_and_changes_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(data_dir, monkeypatch)
    (uploader,) = at.get("file_uploader")
    assert isinstance(uploader, FileUploader)
    uploader.set_value(("embase.ris", b"TY  - JOUR\nTI  - Cut off here\n", "text/plain"))
    at.run()
    at.button(key="import").click().run()
    (error,) = [e.value for e in at.error]
    assert "embase\\.ris, line " in error and "tracker-upload" not in error
    assert "export it again" in error
    assert not (data_dir / "records.parquet").exists()


# -- the registry search ---------------------------------------------------------------------


def test_a_registry_search_from_the_form_stores_its_trials_as_one_run(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ctgov_factory: Factory
) -> None:
    server = fake_ctgov_factory(studies=30)
    at = app(data_dir, monkeypatch, TRACKER_CTGOV_URL=server.base_url)
    default = TrialQuery()
    assert at.text_area(key="ct_conditions").value == default.conditions
    assert at.text_input(key="ct_interventions").value == default.interventions
    at.text_input(key="ct_term").input("intranasal")
    at.button(key=SEARCH).click().run(timeout=60)
    assert not at.exception and not at.error
    (message,) = [s.value for s in at.success]
    assert message.startswith("ClinicalTrials\\.gov: 30 studies: 30 new, 0 already known; 1 req")
    (asked,) = [r["params"] for r in server.requests()]
    assert (asked["query.cond"], asked["query.intr"], asked["query.term"]) == (
        default.conditions, default.interventions, "intranasal")  # fmt: skip
    (run,) = Store(data_dir).runs().to_dict(orient="records")
    assert (run["source"], run["status"], run["retrieved"]) == ("ClinicalTrials.gov",
                                                                "succeeded", 30)  # fmt: skip
    assert sources_shown(at) == {"ClinicalTrials.gov"}


def test_an_empty_registry_search_is_refused_before_any_request(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ctgov_factory: Factory
) -> None:
    server = fake_ctgov_factory(studies=30)
    at = app(data_dir, monkeypatch, TRACKER_CTGOV_URL=server.base_url)
    at.text_area(key="ct_conditions").input(" ")
    at.text_input(key="ct_interventions").input("")
    at.button(key=SEARCH).click().run()
    (error,) = [e.value for e in at.error]
    assert "The search is empty" in error and "*Conditions*" in error
    assert server.requests() == [] and Store(data_dir).runs().empty


# -- the source filter -----------------------------------------------------------------------


@pytest.fixture
def mixed(filled: Path, fake_ctgov_factory: Factory) -> Path:
    """The 8 real PubMed records, 2 Embase records and 6 registered trials."""
    import_exports(Store(filled), [IMPORTS / "embase_ovid.ris"])
    trials_in(filled, fake_ctgov_factory(studies=6))
    return filled


def test_the_source_filter_narrows_the_table_the_exports_and_the_evidence_map_alike(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(mixed, monkeypatch)
    chooser = at.multiselect(key="f_sources")
    assert chooser.options == ["ClinicalTrials.gov", "Embase", "PubMed"]
    assert chooser.value == chooser.options, "every database is chosen at first"
    assert "16 of 16 records match." in texts(at)
    at.multiselect(key="f_sources").unselect("PubMed").run()
    assert "8 of 16 records match." in texts(at)
    assert not at.exception and not at.warning
    assert sources_shown(at) == {"ClinicalTrials.gov", "Embase"}
    assert all(int(r) >= 10**10 for r in at.dataframe(key="table").value["Record"])
    assert "Download these 8 records, with decisions, tags and notes:" in texts(at)
    open_tab(at, "Evidence map")
    assert any(t.startswith("Records in the sidebar's selection: 8.") for t in texts(at))


def test_a_database_imported_after_filtering_is_shown_and_a_removed_one_stays_out(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(mixed, monkeypatch)
    at.multiselect(key="f_sources").unselect("Embase").run()
    import_exports(Store(mixed), [IMPORTS / "scopus.csv"])
    at.run()
    assert at.multiselect(key="f_sources").value == ["ClinicalTrials.gov", "PubMed", "Scopus"]
    assert sources_shown(at) == {"ClinicalTrials.gov", "PubMed", "Scopus"}


# -- a trial in the record pane --------------------------------------------------------------


def test_a_trial_opened_in_the_record_pane_shows_its_registry_fields_as_text(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, fake_ctgov_factory: Factory
) -> None:
    trials_in(data_dir, fake_ctgov_factory(studies=6))
    records = Store(data_dir).records()
    first = int(records.loc[(records["nct"] == "NCT00000001").to_numpy(bool), "record_id"].iloc[0])
    at = app(data_dir, monkeypatch)
    at.text_input(key="goto").input(str(first)).run()
    assert not at.exception
    assert f"Record {first} · ClinicalTrials.gov · NCT00000001" in [c.value for c in at.caption]
    shown = texts(at)
    assert "A Randomised Trial of Esketamine in Chronic Pain 1" in shown
    for line in ("Registered trial NCT00000001 · Status: Completed · Phase: Phase 1",
                 "Conditions: Neuropathic Pain", "Interventions: Esketamine; Placebo",
                 "Enrolment: 21", "Start: 2006-02 · Completion: 2008-06-30"):  # fmt: skip
        assert line in shown, line
    assert not any("Conditions:" in m.value for m in at.markdown), "never rendered as Markdown"
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert links == {"ClinicalTrials.gov": "https://clinicaltrials.gov/study/NCT00000001"}
