"""CSV export: opens cleanly in Excel, one row per record, nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tracker.export import (
    CSV_HEADERS,
    EXCEL_CELL_LIMIT,
    Annotation,
    csv_headers,
    inert,
    save,
    to_csv_bytes,
)
from tracker.records import Article, Author
from tracker.store import Store


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM to read accents right"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def store(data_dir: Path) -> Store:
    store = Store(data_dir)
    store.upsert(
        [
            Article(
                pmid=31,
                title="Esketamine nasal spray in fibromyalgia: a randomised trial",
                abstract="BACKGROUND: Pain.\nRESULTS: Less pain (p<0.05).",
                authors=(Author("Smith", "John A", "JA"), Author("Doe", "Bea", "B")),
                journal="Pain Medicine",
                year=2021,
                doi="10.1000/xyz(21)",
                pmcid="PMC123",
                publication_types=("Journal Article", "Randomized Controlled Trial"),
                keywords=("ketamine", "fibromyalgia"),
                languages=("eng",),
            ),
            Article(pmid=7, title="=cmd|' /C calc'!A0", abstract="@SUM(1+1)"),
            Article(pmid=1200, title="Kétamine et douleur chronique", year=None),
        ]
    )
    return store


def test_the_header_row_is_the_documented_one_in_order(store: Store) -> None:
    data = to_csv_bytes(store.records())
    first_line = data.decode("utf-8-sig").split("\r\n")[0]
    assert first_line.split(",") == [
        "Record ID", "PMID", "Title", "Authors", "Journal", "Year", "DOI", "PMCID", "NCT",
        "Publication Types", "MeSH Terms", "Keywords", "Language", "Abstract", "URL",
        "Sources", "Source IDs", "Decision", "Exclusion Reason", "Tags", "Notes",
    ]  # fmt: skip
    assert tuple(first_line.split(",")) == CSV_HEADERS


def test_there_is_one_row_per_stored_record_sorted_by_pmid(store: Store) -> None:
    rows = read_csv(to_csv_bytes(store.records()))
    assert [row["PMID"] for row in rows] == ["7", "31", "1200"]
    assert {int(r["PMID"]) for r in rows} == store.known_pmids()


def test_lists_are_joined_and_authors_read_like_pubmed(store: Store) -> None:
    row = read_csv(to_csv_bytes(store.records()))[1]
    assert row["Authors"] == "Smith JA; Doe B"
    assert row["Publication Types"] == "Journal Article; Randomized Controlled Trial"
    assert row["Keywords"] == "ketamine; fibromyalgia"
    assert row["Year"] == "2021"
    assert row["DOI"] == "10.1000/xyz(21)"
    assert row["URL"] == "https://pubmed.ncbi.nlm.nih.gov/31/"
    assert row["Abstract"] == "BACKGROUND: Pain.\nRESULTS: Less pain (p<0.05)."


def test_accents_survive_and_a_missing_year_is_an_empty_cell(store: Store) -> None:
    row = read_csv(to_csv_bytes(store.records()))[2]
    assert row["Title"] == "Kétamine et douleur chronique"
    assert row["Year"] == ""


def test_cells_that_a_spreadsheet_would_run_are_made_inert(store: Store) -> None:
    row = read_csv(to_csv_bytes(store.records()))[0]
    assert row["Title"] == "'=cmd|' /C calc'!A0"
    assert row["Abstract"] == "'@SUM(1+1)"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_every_formula_trigger_is_neutralised(cell: str) -> None:
    assert inert(cell) == "'" + cell


def test_ordinary_text_is_left_alone() -> None:
    assert inert("Ketamine 0.5 mg/kg = effective?") == "Ketamine 0.5 mg/kg = effective?"


def test_annotations_fill_the_screening_columns(store: Store) -> None:
    notes = {31: Annotation("exclude", "wrong population", ("rct", "intranasal"), ("=risky",))}
    row = read_csv(to_csv_bytes(store.records(), notes))[1]
    assert (row["Decision"], row["Exclusion Reason"]) == ("exclude", "wrong population")
    assert row["Tags"] == "rct; intranasal"
    assert row["Notes"] == "'=risky"


def test_a_4000_author_list_fits_one_excel_cell_and_says_how_many_were_cut(
    data_dir: Path,
) -> None:
    authors = tuple(Author(f"Author{n:04d}", "", "AB") for n in range(4000))
    store = Store(data_dir)
    store.upsert([Article(pmid=1, title="Big consortium", authors=authors)])
    assert len(store.records().iloc[0]["authors"]) == 4000, "the store keeps every author"
    cell = read_csv(to_csv_bytes(store.records()))[0]["Authors"]
    assert len(cell) <= EXCEL_CELL_LIMIT
    assert cell.startswith("Author0000 AB; Author0001 AB")
    assert cell.endswith("more authors (full list in RIS/BibTeX)")


def test_an_empty_store_exports_only_the_header(data_dir: Path) -> None:
    assert read_csv(to_csv_bytes(Store(data_dir).records())) == []


def test_saving_to_an_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    from tracker.errors import ExportError

    with pytest.raises(ExportError, match="Choose another file to write to"):
        save(b"x", tmp_path / "missing-folder" / "out.csv")


def test_suggestions_add_two_columns_after_tags(store: Store) -> None:
    cells = {31: ("design: RCT (accepted)", 'design: RCT <- publication type "RCT"')}
    data = to_csv_bytes(store.records(), None, cells)
    header = data.decode("utf-8-sig").split("\r\n")[0].split(",")
    assert header == [*CSV_HEADERS[:-1], "Suggested Tags", "Suggested Tag Evidence", "Notes"]
    assert csv_headers(with_suggestions=True) == tuple(header)
    rows = {r["PMID"]: r for r in read_csv(data)}
    assert rows["31"]["Suggested Tags"] == "design: RCT (accepted)"
    assert rows["31"]["Suggested Tag Evidence"] == 'design: RCT <- publication type "RCT"'
    assert (rows["7"]["Suggested Tags"], rows["7"]["Suggested Tag Evidence"]) == ("", "")


def test_suggestion_cells_are_inert_and_fit_one_excel_cell(store: Store) -> None:
    long = "; ".join(f'adverse effects: nausea or vomiting <- abstract "n{i}"' for i in range(900))
    cells = {7: ("=SUM(A1)", "-" + long)}
    row = read_csv(to_csv_bytes(store.records(), None, cells))[0]
    assert row["Suggested Tags"] == "'=SUM(A1)"
    evidence = row["Suggested Tag Evidence"]
    assert evidence.startswith("'-adverse effects") and len(evidence) <= EXCEL_CELL_LIMIT
    assert evidence.endswith(
        "[evidence shortened to fit one spreadsheet cell;"
        " all of them in the record's suggested tags (PMID 7)]"
    )


def test_a_long_formula_like_title_fits_one_excel_cell_with_its_apostrophe(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([Article(pmid=1, title="=" + "x" * EXCEL_CELL_LIMIT)])
    title = read_csv(to_csv_bytes(store.records()))[0]["Title"]
    assert title.startswith("'=x") and len(title) == EXCEL_CELL_LIMIT


def test_without_suggestions_the_header_is_unchanged(store: Store) -> None:
    data = to_csv_bytes(store.records(), {})
    assert "Suggested Tags" not in data.decode("utf-8-sig").split("\r\n")[0]
