"""RIS and BibTeX on the real PubMed records plus hard cases: every record once, in PMID order,
every author, and nothing that breaks the reader."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import rispy

from tracker.bibliography import NO_TITLE, to_bibtex, to_ris
from tracker.export import Annotation
from tracker.importer import import_files
from tracker.records import Article, Author
from tracker.store import Store

SPECIAL_TITLE = r"Ketamine {50%} & S_ketamine in CRPS: $5 #1 ~ ^ \ test"
BOOK = Path(__file__).parent / "xml" / "book.xml"


@pytest.fixture
def records(eutils_fixtures: Path, data_dir: Path) -> pd.DataFrame:
    """The real fixture records, a Bookshelf chapter, and the cases that break writers."""
    store = Store(data_dir)
    import_files(store, [*sorted(eutils_fixtures.glob("pubmed*.xml")), BOOK])
    muller = (Author("Müller", "Jörg", "J"),)
    crowd = tuple(Author(f"N{i}", "", "A") for i in range(4000))
    group = (Author(collective_name="Pain and Society"),)
    store.upsert(
        [
            Article(pmid=1, title="", year=None),
            Article(pmid=2, title=SPECIAL_TITLE, authors=muller, year=2020, pages="113-25"),
            Article(pmid=3, title="Consortium", authors=crowd),
            Article(pmid=4, title="Ketamine in pain", authors=muller, year=2020),
            Article(pmid=5, title="Ketamine in pain, again", authors=muller, year=2020),
            Article(pmid=6, title="The ketamine story", authors=group),
        ]
    )
    return store.records()


def _ris(records: pd.DataFrame, notes: dict[int, Annotation] | None = None) -> dict[int, dict]:  # type: ignore[type-arg]
    entries = rispy.loads(to_ris(records, notes))
    assert [int(e["accession_number"]) for e in entries] == sorted(records["pmid"])
    return {int(e["accession_number"]): e for e in entries}


def _bibtex_entries(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """A small BibTeX reader: (type, key, fields) per entry, counting braces as BibTeX does
    (a backslash does not escape a brace), and failing on anything it cannot account for."""
    entries = []
    position = 0
    for match in re.finditer(r"@(\w+)\{([^,\s{}]+),\n", text):
        assert text[position : match.start()].strip() == "", "text between entries"
        fields: dict[str, str] = {}
        cursor = match.end()
        while not text.startswith("}", cursor):
            field = re.compile(r"  (\w+) = \{").match(text, cursor)
            assert field, text[cursor : cursor + 80]
            depth, end = 1, field.end()
            while depth:
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                end += 1
            assert field.group(1) not in fields, f"{field.group(1)} twice"
            fields[field.group(1)] = text[field.end() : end - 1]
            cursor = end + (2 if text.startswith(",\n", end) else 1)
        entries.append((match.group(1), match.group(2), fields))
        position = cursor + 1
    assert text[position:].strip() == ""
    return entries


def test_ris_has_every_record_once_in_pmid_order_and_reads_back(records: pd.DataFrame) -> None:
    by_pmid = _ris(records)
    for row in records.to_dict(orient="records"):
        entry = by_pmid[row["pmid"]]
        assert entry["title"] == (row["title"] or NO_TITLE)
        assert entry.get("authors", []) == list(row["authors_full"])
        assert entry["urls"] == [f"https://pubmed.ncbi.nlm.nih.gov/{row['pmid']}/"]
        assert (entry.get("doi", ""), entry.get("custom2", "")) == (row["doi"], row["pmcid"])
        assert entry.get("abstract", "") == " ".join(row["abstract"].split())  # RIS: one line
        assert entry.get("secondary_title", "") == row["journal"]
        assert set(row["mesh_terms"]) <= set(entry.get("keywords", []))


def test_ris_carries_the_tags_zotero_and_endnote_read(records: pd.DataFrame) -> None:
    article = _ris(records)[27797938]
    assert article["type_of_reference"] == "JOUR"
    assert len(article["authors"]) == 22 and article["authors"][0] == "Bao, Ying"
    assert (article["year"], article["date"]) == ("2017", "2017/06//")
    assert (article["alternate_title1"], article["issn"]) == ("Gut", "1468-3288")
    assert (article["start_page"], article["end_page"]) == ("1116", "1122")
    assert article["name_of_database"] == "PubMed" and article["language"] == "eng"
    text = to_ris(records)
    assert "\nJO  - " not in text and not text.startswith("1.")


def test_ris_expands_medline_page_ranges_and_keeps_4000_authors(records: pd.DataFrame) -> None:
    by_pmid = _ris(records)
    assert (by_pmid[2]["start_page"], by_pmid[2]["end_page"]) == ("113", "125")
    assert (by_pmid[9997]["start_page"], by_pmid[9997]["end_page"]) == ("179", "191")
    assert len(by_pmid[3]["authors"]) == 4000


def test_ris_exports_a_record_without_title_or_year(records: pd.DataFrame) -> None:
    empty = _ris(records)[1]
    assert empty["title"] == NO_TITLE and "year" not in empty and "authors" not in empty


def test_ris_writes_a_special_character_title_exactly(records: pd.DataFrame) -> None:
    assert _ris(records)[2]["title"] == SPECIAL_TITLE


def test_ris_writes_a_bookshelf_chapter_as_a_chapter_of_its_book(records: pd.DataFrame) -> None:
    chapter = _ris(records)[20301295]
    assert chapter["type_of_reference"] == "CHAP"
    assert chapter["secondary_title"] == "Pain Management Handbook"
    assert chapter["title"] == "Ketamine: a chapter on analgesia."


def test_ris_notes_carry_the_screening_annotations(records: pd.DataFrame) -> None:
    notes = {9997: Annotation("exclude", "wrong population", ("rct", "pk"), ("ok", "two\nlines"))}
    by_pmid = _ris(records, notes)
    assert by_pmid[9997]["notes"] == [
        "Decision: exclude", "Exclusion reason: wrong population", "Tags: rct; pk",
        "Note: ok", "Note: two lines",
    ]  # fmt: skip
    assert "notes" not in by_pmid[27797938]


def test_bibtex_has_one_well_formed_entry_per_record_in_pmid_order(records: pd.DataFrame) -> None:
    entries = _bibtex_entries(to_bibtex(records))
    assert [int(fields["pmid"]) for _, _, fields in entries] == sorted(records["pmid"])
    keys = [key for _, key, _ in entries]
    assert len(keys) == len(set(keys)) and all(re.fullmatch(r"[A-Za-z0-9]+", k) for k in keys)


def test_bibtex_keys_are_author_year_word_with_suffixes_in_pmid_order(
    records: pd.DataFrame,
) -> None:
    keys = {int(f["pmid"]): key for _, key, f in _bibtex_entries(to_bibtex(records))}
    assert (keys[2], keys[4], keys[5]) == (
        "Muller2020Ketamine",
        "Muller2020Ketaminea",
        "Muller2020Ketamineb",
    )
    assert keys[27797938] == "Bao2017Leucocyte" and keys[1] == "pmid1"
    assert keys[6] == "Pain" + "Ketamine"  # a group author, no year; "The" is no key word


def test_bibtex_keys_stay_put_when_later_records_arrive(records: pd.DataFrame) -> None:
    before = _bibtex_entries(to_bibtex(records[records["pmid"] < 5]))
    after = {f["pmid"]: key for _, key, f in _bibtex_entries(to_bibtex(records))}
    assert all(after[fields["pmid"]] == key for _, key, fields in before)
    assert to_bibtex(records) == to_bibtex(records.sample(frac=1, random_state=1))


def test_bibtex_escapes_every_latex_special_character(records: pd.DataFrame) -> None:
    fields = next(f for _, _, f in _bibtex_entries(to_bibtex(records)) if f["pmid"] == "2")
    assert fields["title"] == (
        r"{Ketamine \textbraceleft{}50\%\textbraceright{} \& S\_ketamine in CRPS: \$5 \#1 "
        r"\textasciitilde{} \textasciicircum{} \textbackslash{} test}"
    )
    for _, _, entry in _bibtex_entries(to_bibtex(records)):
        for name, value in entry.items():
            bare = re.sub(r"\\(?:[%&$#_]|text\w+\{\})", "", value)
            assert not re.search(r"[%&$#_~^\\]", bare) or name in ("doi", "url"), (name, value)


def test_bibtex_writes_authors_pages_and_identifiers(records: pd.DataFrame) -> None:
    by_pmid = {f["pmid"]: (kind, f) for kind, _, f in _bibtex_entries(to_bibtex(records))}
    kind, gut = by_pmid["27797938"]
    assert kind == "article" and gut["author"].startswith("Bao, Ying and ")
    assert gut["author"].count(" and ") == 21 and gut["pages"] == "1116--1122"
    assert (gut["doi"], gut["pmcid"], gut["eprinttype"]) == (
        "10.1136/gutjnl-2016-312510",
        "PMC5442267",
        "pubmed",
    )
    assert (
        gut["journal"] == "Gut" and gut["year"] == "2017" and gut["title"].startswith("{Leucocyte")
    )
    assert by_pmid["2"][1]["author"] == "Müller, Jörg" and by_pmid["2"][1]["pages"] == "113--125"
    assert by_pmid["6"][1]["author"] == "{Pain and Society}"
    assert by_pmid["3"][1]["author"].count(" and ") == 3999
    assert "year" not in by_pmid["1"][1] and by_pmid["1"][1]["title"] == "{" + NO_TITLE + "}"


def test_bibtex_writes_a_bookshelf_chapter_as_incollection(records: pd.DataFrame) -> None:
    kind, fields = next(
        (k, f) for k, _, f in _bibtex_entries(to_bibtex(records)) if f["pmid"] == "20301295"
    )
    assert kind == "incollection" and fields["booktitle"] == "Pain Management Handbook"


def test_bibtex_keeps_annotations_out_of_the_printed_note(records: pd.DataFrame) -> None:
    notes = {2: Annotation("include", "", ("50% dose",), ("see {table} 2",))}
    fields = next(f for _, _, f in _bibtex_entries(to_bibtex(records, notes)) if f["pmid"] == "2")
    assert (
        fields["annote"]
        == r"Decision: include; Tags: 50\% dose; Note: see \textbraceleft{}table\textbraceright{} 2"
    )
    assert "note" not in fields


def test_no_records_export_as_empty_text(records: pd.DataFrame) -> None:
    assert to_ris(records.iloc[:0]) == "" and to_bibtex(records.iloc[:0]) == ""
