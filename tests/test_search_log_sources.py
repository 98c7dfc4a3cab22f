"""The PRISMA-S search log of a review that searched several databases: one row per search per
database, each with its own interface, and a methods sentence for every database's runs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tracker import search_log
from tracker.cli import main
from tracker.records import Article
from tracker.source_record import RecordKind, SourceRecord
from tracker.store import Store
from tracker.version import __version__

TOOL = f"tracker {__version__}"


def _records(source: str, count: int, kind: RecordKind = RecordKind.ARTICLE) -> list[SourceRecord]:
    return [SourceRecord(source=source, format="RIS", origin="file", kind=kind,
                         title=f"{source} record {n}", accessions={"nct": f"NCT1000000{n}"})
            for n in range(count)]  # fmt: skip


@pytest.fixture
def store(data_dir: Path) -> Store:
    """A PubMed search, an Embase RIS import, a Scopus CSV import, a ClinicalTrials.gov
    search, an import whose file name shows no format, and a failed Web of Science import."""
    store = Store(data_dir)
    run = store.begin_run(kind="fetch", query="esketamine AND english[la]", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in (1, 2)], count=2)
    for kind, query, source, records in [
        ("import", "import embase.ris", "Embase", _records("Embase", 3)),
        ("import", "import scopus.csv, scopus-2.csv", "Scopus", _records("Scopus", 1)),
        ("fetch", "esketamine chronic pain", "ClinicalTrials.gov",
         _records("ClinicalTrials.gov", 2, RecordKind.TRIAL)),
        ("import", "import central-export", "CENTRAL", _records("CENTRAL", 1)),
    ]:  # fmt: skip
        run = store.begin_run(kind=kind, query=query, api_key_used=False, source=source)  # type: ignore[arg-type]
        store.complete_run(run, [], records=records, count=len(records))
    run = store.begin_run(kind="import", query="import wos.txt", api_key_used=False,
                          source="Web of Science")  # fmt: skip
    store.fail_run(run, "wos.txt line 3: not a Web of Science tab-delimited file")
    return store


def test_each_run_names_its_database_and_the_interface_it_came_through(store: Store) -> None:
    log = search_log.search_log(store.runs())
    assert list(zip(log["Database"], log["Interface"], strict=True)) == [
        ("PubMed", f"PubMed via NCBI E-utilities (Bio.Entrez, {TOOL})"),
        ("Embase", f"Embase export file (RIS; {TOOL})"),
        ("Scopus", f"Scopus export file (CSV; {TOOL})"),
        ("ClinicalTrials.gov", f"ClinicalTrials.gov API v2 ({TOOL})"),
        ("CENTRAL", f"CENTRAL export file ({TOOL})"),
        ("Web of Science", f"Web of Science export file (text; {TOOL})"),
    ]
    assert log["Records found"].tolist()[:5] == [2, 3, 1, 2, 1]
    assert pd.isna(log["Records found"].iloc[5]), "a failed run found nothing to count"
    assert log["Limits"].tolist()[:2] == ["english[la]", "none"], "PubMed's field tags only"


@pytest.mark.parametrize(
    ("query", "source", "formats"),
    [
        ("import a.ris, b.RIS", "Embase", ["RIS"]),
        ("import pubmed.xml.gz", "PubMed", ["PubMed XML"]),
        ("import records.nbib, wos.txt", "PubMed", ["MEDLINE", "text"]),
        ("import export", "CENTRAL", []),
        ("esketamine", "PubMed", []),
    ],
)
def test_file_formats_are_read_from_the_file_names_and_never_guessed(
    query: str, source: str, formats: list[str]
) -> None:
    assert search_log.file_formats(query, source) == formats


def test_the_methods_sentences_cover_every_database_s_successful_runs(store: Store) -> None:
    text = search_log.to_markdown(search_log.search_log(store.runs()))
    sentences = [line for line in text.splitlines() if line and not line.startswith("|")]
    assert len(sentences) == 5, "one per successful run; the failed import has none"
    pubmed, embase, scopus, registry, central = sentences
    assert pubmed.startswith("PubMed was searched on ") and "via the NCBI E-utilities" in pubmed
    assert embase.startswith("Records from Embase were imported on ")
    assert f"from its export file `embase.ris` (RIS; {TOOL}). 3 records were read" in embase
    assert "`scopus.csv, scopus-2.csv` (CSV;" in scopus and "1 record was read" in scopus
    assert registry.startswith("ClinicalTrials.gov was searched on ")
    assert f"via its API v2 ({TOOL}) with the query `esketamine chronic pain`" in registry
    assert "2 records were found (run 4: 2 new, 0 no longer returned)." in registry
    assert central.startswith("Records from CENTRAL were imported")
    assert not any("Web of Science" in sentence for sentence in sentences)


def test_tracker_runs_csv_has_a_row_per_search_per_database(store: Store) -> None:
    result = CliRunner().invoke(main, ["runs", "--format", "csv", "--data-dir",
                                       str(store.data_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline="")))
    assert [(r["Database"], r["Status"]) for r in rows] == [
        ("PubMed", "succeeded"), ("Embase", "succeeded"), ("Scopus", "succeeded"),
        ("ClinicalTrials.gov", "succeeded"), ("CENTRAL", "succeeded"),
        ("Web of Science", "failed"),
    ]  # fmt: skip
    assert "not a Web of Science tab-delimited file" in rows[-1]["Error"]
