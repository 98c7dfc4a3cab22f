"""The PRISMA-S search log: a real store filled by the fake NCBI and a real import, read back
as the table, the Markdown a methods section takes and the CSV a spreadsheet opens."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_eutils import FakeNCBI

from tracker import search_log
from tracker.cli import main
from tracker.config import Settings
from tracker.errors import NCBIQueryError
from tracker.fetch import fetch
from tracker.importer import import_files
from tracker.store import Store
from tracker.version import __version__

QUERY = 'ketamine AND ("2015"[dp] : "2020"[dp]) AND english[la]'


@pytest.fixture
def store(fake_ncbi: FakeNCBI, data_dir: Path, eutils_fixtures: Path) -> Store:
    """Three runs: a PubMed search with limits, an XML import, a query PubMed rejects."""
    store = Store(data_dir)
    settings = Settings(data_dir=data_dir, email="a@b.org", eutils_url=fake_ncbi.base_url)
    fetch(settings, store=store, query=QUERY)
    import_files(store, [eutils_fixtures / "pubmed4.xml"])
    with pytest.raises(NCBIQueryError):
        fetch(settings, store=store, query="(ketamine AND pain")
    return store


def _date(store: Store, run: int) -> pd.Timestamp:
    return pd.Timestamp(store.runs()["started_at"][run - 1])


def test_each_run_has_the_fields_prisma_s_asks_for(store: Store) -> None:
    log = search_log.search_log(store.runs())
    assert list(log.columns) == list(search_log.COLUMNS)
    search, imported, rejected = log.to_dict(orient="records")
    assert search["Date/time (UTC)"] == _date(store, 1).strftime("%Y-%m-%d %H:%M:%S")
    assert (search["Database"], search["Interface"]) == (
        "PubMed",
        f"PubMed via NCBI E-utilities (Bio.Entrez, tracker {__version__})",
    )
    assert search["Query as typed"] == search["Query as PubMed translated it"] == QUERY
    assert search["Limits"] == '"2015"[dp] : "2020"[dp]; english[la]'
    assert [search[c] for c in search_log.COLUMNS[7:14]] == [2000, 2000, 2000, 0, 0, 0,
                                                             "succeeded"]  # fmt: skip
    assert (imported["Database"], imported["Query as typed"]) == ("PubMed", "import pubmed4.xml")
    assert imported["Interface"] == f"PubMed export file (PubMed XML; tracker {__version__})"
    assert (imported["Records found"], imported["New"], imported["Limits"]) == (1, 1, "none")
    assert rejected["Status"] == "failed" and "NCBI rejected the query" in rejected["Error"]
    assert pd.isna(rejected["Records found"])


@pytest.mark.parametrize(
    ("query", "limits"),
    [
        ("ketamine", "none"),
        ("ketamine AND 2015:2020[dp]", "2015:2020[dp]"),
        ('ketamine AND (humans[mh]) AND "randomized controlled trial"[pt]',
         '"randomized controlled trial"[pt]'),
        ('pain AND ("2020/01/01"[crdt] : "3000"[crdt]) AND eng[LA]',
         '"2020/01/01"[crdt] : "3000"[crdt]; eng[LA]'),
    ],
)  # fmt: skip
def test_limits_are_the_date_language_and_type_terms_of_the_query(query: str, limits: str) -> None:
    assert search_log.limits(query) == limits


def test_markdown_is_a_table_and_a_methods_sentence_per_successful_search(store: Store) -> None:
    text = search_log.to_markdown(search_log.search_log(store.runs()))
    day = _date(store, 1)
    when = day.strftime("%Y-%m-%d %H:%M:%S")
    lines = text.splitlines()
    assert lines[0].startswith("| Run | Date/time (UTC) | Database | Interface | Query as typed |")
    assert lines[1] == "|" + "|".join(["---"] * 15) + "|"
    assert lines[2] == (
        f"| 1 | {when} | PubMed | PubMed via NCBI E-utilities "
        f"(Bio.Entrez, tracker {__version__}) | "
        f'`{QUERY}` | `{QUERY}` | "2015"[dp] : "2020"[dp]; english[la] | 2000 | 2000 | '
        "2000 | 0 | 0 | 0 | succeeded |  |"
    )
    assert lines[4].startswith("| 3 |") and lines[4].endswith("it accepts. |")
    sentences = [line for line in lines if line.startswith("PubMed was searched")]
    assert sentences == [
        f"PubMed was searched on {day.day} {day:%B %Y} via the NCBI E-utilities (Bio.Entrez, "
        f"tracker {__version__}) with the query `{QUERY}`, which PubMed translated as "
        f'`{QUERY}`; limits: `"2015"[dp] : "2020"[dp]; english[la]`. 2,000 records were found '
        "(run 1: 2,000 new, 0 no longer returned)."
    ]


def test_csv_is_the_same_log_spreadsheet_safe(store: Store) -> None:
    data = search_log.to_csv(search_log.search_log(store.runs()))
    assert data.startswith(b"\xef\xbb\xbfRun,Date/time (UTC),Database,")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [row["Status"] for row in rows] == ["succeeded", "succeeded", "failed"]
    assert rows[0]["Query as typed"] == QUERY and rows[0]["Records found"] == "2000"
    assert rows[2]["Records found"] == ""


@pytest.mark.parametrize("fmt", ["markdown", "csv", "json"])
def test_tracker_runs_writes_each_format_to_a_file(store: Store, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"log.{fmt}"
    result = CliRunner().invoke(
        main, ["runs", "--format", fmt, "--out", str(out), "--data-dir", str(store.data_dir)]
    )
    assert result.exit_code == 0, result.output
    log = search_log.search_log(store.runs())
    expected = {
        "markdown": search_log.to_markdown(log).encode("utf-8"),
        "csv": search_log.to_csv(log),
    }
    if fmt in expected:
        assert out.read_bytes() == expected[fmt]
    else:
        json_alias = CliRunner().invoke(main, ["runs", "--json", "--data-dir",
                                               str(store.data_dir)])  # fmt: skip
        assert out.read_bytes() == json_alias.stdout_bytes
