"""The seed-claims view: the leaflet's side effects against what studies report, on eight
hand-written records whose expected answers are in tests/expected/claims_cases.json."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from tracker import claims, dashboard, screening, suggestions
from tracker.cli import main
from tracker.errors import TrackerError
from tracker.records import Article
from tracker.store import Store
from tracker.vocabulary import load_vocabulary

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "expected" / "claims_cases.json").read_text(encoding="utf-8")
)


@pytest.fixture
def store(data_dir: Path) -> Store:
    store = Store(data_dir)
    store.upsert(
        Article(pmid=r["pmid"], title=r["title"], abstract=r["abstract"], year=r["year"])
        for r in CASES["records"]
    )
    for record in CASES["records"]:
        if record["decision"]:
            reason = "wrong population" if record["decision"] == "exclude" else ""
            screening.decide(store, [record["pmid"]], decision=record["decision"],
                             reviewer="ana", reason=reason)  # fmt: skip
    for tag in CASES["rejected"]:
        suggestions.reject(store, tag["pmid"], tag["facet"], tag["value"], reviewer="ana")
    return store


def run(store: Store, *args: str) -> tuple[int, str, str, bytes]:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(store.data_dir)])
    return result.exit_code, result.stdout, result.stderr, result.stdout_bytes


@pytest.mark.parametrize("scope", ["included", "all"])
def test_each_claim_lists_the_studies_that_report_it(store: Store, scope: str) -> None:
    view = claims.claims_view(store, scope)
    found = {claim.text: view.studies(claim.text) for claim in claims.SEED_CLAIMS}
    assert found == CASES[scope]["claims"]
    assert view.in_scope == CASES[scope]["in_scope"]
    assert view.records == len(CASES["records"])


@pytest.mark.parametrize("scope", ["included", "all"])
def test_effects_the_leaflet_lacks_are_listed_with_their_studies(store: Store, scope: str) -> None:
    view = claims.claims_view(store, scope)
    assert {e: view.studies(e) for e in view.unlisted()} == CASES[scope]["unlisted"]


def test_every_row_with_a_study_carries_its_evidence_span(store: Store) -> None:
    rows = claims.claims_view(store, "all").rows
    with_study = rows[rows["PMID"] != ""]
    abstracts = {str(r["pmid"]): r["abstract"] for r in CASES["records"]}
    effects = CASES["all"]["claims"] | CASES["all"]["unlisted"]
    studies = {(effect, pmid) for effect, pmids in effects.items() for pmid in pmids}
    shown = set(zip(with_study["Claim"], with_study["PMID"].astype(int), strict=True))
    assert studies and shown == studies, "every study of every effect has its rows"
    for row in with_study.to_dict(orient="records"):
        assert row["Field"] == "abstract"
        assert row["Evidence"] and row["Evidence"] in abstracts[str(row["PMID"])], row


def test_a_rejected_suggestion_stops_counting_and_undo_brings_it_back(store: Store) -> None:
    claim = "dizziness or lightheadedness"
    assert 107 not in claims.claims_view(store).studies(claim)
    screening.undo(store, reviewer="ana")  # the rejection was ana's latest action
    assert 107 in claims.claims_view(store).studies(claim)


def test_an_accepted_suggestion_counts(store: Store) -> None:
    suggestions.accept(store, 101, "adverse effects", "headache", reviewer="ben")
    assert claims.claims_view(store).studies("headache") == [101]


@pytest.mark.parametrize("scope", ["included", "all"])
def test_the_evidence_the_app_holds_gives_the_same_view(store: Store, scope: str) -> None:
    """The app passes the library's evidence frame, so that the tags are not read again: the
    view is the one the store's own suggestions give, rejections included."""
    held = dashboard.load_library(store).evidence
    given = claims.claims_view(store, scope, evidence=held)
    pd.testing.assert_frame_equal(given.rows, claims.claims_view(store, scope).rows)
    assert 107 not in given.studies("dizziness or lightheadedness")  # ana rejected it


def test_the_claims_match_what_the_vocabulary_marks_as_claimed() -> None:
    vocabulary = load_vocabulary(None)
    marked = vocabulary.claimed_effects()
    mapped = {effect: claim.frequency for claim in claims.SEED_CLAIMS for effect in claim.effects}
    assert mapped == marked


def test_claims_keep_the_leaflets_words_and_order() -> None:
    assert [(c.text, c.frequency) for c in claims.SEED_CLAIMS] == [
        ("dizziness or lightheadedness", "common"),
        ("headache", "common"),
        ("nausea or vomiting", "common"),
        ("drowsiness", "common"),
        ("confusion, disorientation or altered perception", "less common"),
        ("hallucinations", "less common"),
        ("increased heart rate and blood pressure", "less common"),
        ("changes in appetite or sleep", "less common"),
    ]


def test_an_unknown_scope_is_refused(store: Store) -> None:
    with pytest.raises(TrackerError, match="use one of included, all"):
        claims.claims_view(store, "some")


# -- text ---------------------------------------------------------------------------------------


def test_the_text_has_a_block_per_claim_with_quoted_spans(store: Store) -> None:
    text = claims.to_text(claims.claims_view(store))
    assert "Scope: included studies, 6 of 8 records" in text
    assert "  nausea or vomiting: 1 study\n    PMID 101 (2020) Intranasal esketamine" in text
    assert '      abstract: "nausea"\n' in text
    assert "  hallucinations: 0 studies\n" in text
    unlisted = text.split("Reported by studies but not listed in the patient information", 1)[1]
    assert "  urinary symptoms: 1 study\n    PMID 102 (2021)" in unlisted
    assert 'abstract: "cystitis"' in unlisted


def test_with_nothing_included_the_text_says_so_and_suggests_scope_all(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([Article(pmid=1, title="Ketamine", abstract="Nausea was common.")])
    text = claims.to_text(claims.claims_view(store))
    assert "No study is included yet" in text
    assert "Widen the scope to all records" in text
    result = CliRunner().invoke(main, ["evidence", "--data-dir", str(data_dir)])
    assert result.exit_code == 0 and "tracker evidence --scope all" in result.stdout


def test_an_empty_library_gives_an_empty_view(data_dir: Path) -> None:
    view = claims.claims_view(Store(data_dir), "all")
    assert (view.in_scope, view.reporting, view.unlisted()) == (0, 0, [])
    assert "The library is empty" in claims.to_text(view)


# -- CSV ----------------------------------------------------------------------------------------


def read(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_csv_has_a_row_per_claim_tag_and_study(store: Store) -> None:
    rows = read(claims.to_csv(claims.claims_view(store, "all")))
    assert list(rows[0]) == list(claims.ROW_COLUMNS)
    confusion = [r for r in rows if r["Claim"].startswith("confusion")]
    assert [(r["PMID"], r["Effect tag"], r["Evidence"]) for r in confusion] == [
        ("103", "confusion", "Confusion"),
        ("105", "altered perception", "altered perception"),
        ("105", "disorientation", "disoriented"),
    ]
    urinary = next(r for r in rows if r["Claim"] == "urinary symptoms")
    assert (urinary["Listed in leaflet"], urinary["Frequency"], urinary["Year"]) == (
        "no",
        "",
        "2021",
    )
    assert urinary["Title"].startswith("Ketamine infusion for complex regional pain")


def test_a_claim_no_study_reports_still_has_its_row(store: Store) -> None:
    rows = read(claims.to_csv(claims.claims_view(store)))
    empty = [r for r in rows if r["Claim"] == "hallucinations"]
    assert [(r["Listed in leaflet"], r["PMID"], r["Evidence"]) for r in empty] == [("yes", "", "")]


def test_csv_cells_a_spreadsheet_would_run_are_inert(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([Article(pmid=1, title='=HYPERLINK("x") ketamine', abstract="Nausea.")])
    rows = read(claims.to_csv(claims.claims_view(store, "all")))
    assert next(r for r in rows if r["PMID"] == "1")["Title"] == '\'=HYPERLINK("x") ketamine'


# -- the command --------------------------------------------------------------------------------


def test_tracker_evidence_prints_the_text_report(store: Store) -> None:
    code, out, _, _ = run(store, "evidence")
    assert code == 0
    assert out.startswith("Side effects in the patient information")
    assert "  drowsiness: 1 study" in out


def test_tracker_evidence_writes_csv_for_all_records(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "claims.csv"
    code, _, err, _ = run(store, "evidence", "--format", "csv", "--scope", "all", "--out", str(out))
    assert (code, err) == (0, f"Seed claims (all) written to {out}\n")
    rows = read(out.read_bytes())
    assert {r["PMID"] for r in rows if r["Claim"] == "nausea or vomiting"} == {"101", "106"}


def test_tracker_evidence_csv_goes_to_standard_output(store: Store) -> None:
    code, _, _, data = run(store, "evidence", "--format", "csv")
    assert code == 0
    assert read(data)[0]["Claim"] == "dizziness or lightheadedness"


def test_tracker_evidence_refuses_an_unknown_scope(store: Store) -> None:
    code, _, err, _ = run(store, "evidence", "--scope", "most")
    assert code == 2
    assert "Invalid value for '--scope'" in err
