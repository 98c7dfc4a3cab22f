"""RIS and BibTeX: every record once, every author, and nothing that breaks the reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rispy

from tracker.bibliography import to_bibtex, to_ris
from tracker.export import Annotation
from tracker.importer import import_files
from tracker.records import Article, Author
from tracker.store import Store


@pytest.fixture
def store(eutils_fixtures: Path, data_dir: Path) -> Store:
    store = Store(data_dir)
    import_files(store, sorted(eutils_fixtures.glob("pubmed*.xml")))
    store.upsert(
        [
            Article(pmid=1, title="", year=None),
            Article(
                pmid=2,
                title="Ketamine {50%} & S_ketamine in CRPS: $5 #1 ~ ^ \\ test",
                authors=(Author("Müller", "Jörg", "J"),),
                year=2020,
                pages="113-25",
            ),
            Article(
                pmid=3,
                title="Consortium",
                authors=tuple(Author(f"N{i}", "", "A") for i in range(4000)),
            ),
            Article(
                pmid=4,
                title="Ketamine in pain",
                authors=(Author("Müller", "Jörg", "J"),),
                year=2020,
            ),
            Article(
                pmid=5,
                title="Ketamine in pain, again",
                authors=(Author("Müller", "Jörg", "J"),),
                year=2020,
            ),
        ]
    )
    return store


def test_ris_has_one_entry_per_record_that_reads_back(store: Store) -> None:
    records = store.records()
    entries = rispy.loads(to_ris(records, {9997: Annotation("include", "", ("rct",), ("ok",))}))
    assert sorted(int(e["accession_number"]) for e in entries) == sorted(records["pmid"])
    by_pmid = {int(e["accession_number"]): e for e in entries}
    article = by_pmid[27797938]
    assert article["type_of_reference"] == "JOUR"
    assert len(article["authors"]) == 22 and article["authors"][0] == "Bao, Ying"
    assert article["doi"] == "10.1136/gutjnl-2016-312510"
    assert article["urls"] == ["https://pubmed.ncbi.nlm.nih.gov/27797938/"]
    assert len(by_pmid[3]["authors"]) == 4000
    assert (by_pmid[2]["start_page"], by_pmid[2]["end_page"]) == ("113", "125")
    assert by_pmid[9997]["notes"] == ["Decision: include", "Tags: rct", "Note: ok"]
    assert by_pmid[1]["title"] == "(no title)"


def _entries(text: str) -> list[str]:
    return [e for e in re.split(r"\n(?=@)", text.strip()) if e]


def test_bibtex_has_unique_keys_balanced_braces_and_escaped_specials(store: Store) -> None:
    records = store.records()
    text = to_bibtex(records)
    entries = _entries(text)
    assert len(entries) == len(records)
    keys = [re.match(r"@\w+\{([^,]+),", e).group(1) for e in entries]  # type: ignore[union-attr]
    assert len(keys) == len(set(keys))
    assert {"Muller2020Ketamine", "Muller2020Ketaminea"} <= set(keys)
    for entry in entries:
        depth = 0
        for char in entry.replace("\\{", "").replace("\\}", ""):
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0
        assert depth == 0, entry[:80]
    special = next(e for e in entries if "pmid = {2}" in e)
    assert r"\{50\%\} \& S\_ketamine in {CRPS}: \$5 \#1" in special
    assert "author = {Müller, Jörg}" in special
    assert "pages = {113--125}" in special
    assert next(e for e in entries if "pmid = {3}" in e).count(" and ") == 3999
