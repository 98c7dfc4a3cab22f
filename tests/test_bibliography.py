"""RIS and BibTeX on the real PubMed records plus hard cases: every record once, in PMID order,
every author, nothing that breaks the reader, and a round trip through each format's own
reader (rispy; bibtexparser with LaTeX decoding) that gives back what was written."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import rispy
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from bibtexparser.middlewares.latex_encoding import LatexEncodingMiddleware
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from tracker.bibliography import NO_TITLE, _unique_keys, to_bibtex, to_ris
from tracker.export import Annotation
from tracker.importer import import_files
from tracker.records import Article, Author
from tracker.store import Store

SPECIAL_TITLE = r"Ketamine {50%} & S_ketamine in CRPS: $5 #1 ~ ^ \ test"
ACCENTED_TITLE = "Ørsted's {lone brace: α/β-ketamine, 5 µg·kg⁻¹ in Łódź (Müller, Çelik)"
MATHML_TITLE = "V̇O2max and x̄ ± σ of LEmin+1mM in runners: ≈7% (r² = 0.91)"
BOOK = Path(__file__).parent / "xml" / "book.xml"


@pytest.fixture
def records(eutils_fixtures: Path, data_dir: Path) -> pd.DataFrame:
    """The real fixture records, a Bookshelf chapter, a whole book and the cases that break
    writers."""
    store = Store(data_dir)
    import_files(store, [*sorted(eutils_fixtures.glob("pubmed*.xml")), BOOK])
    muller = (Author("Müller", "Jörg", "J"),)
    crowd = tuple(Author(f"N{i}", "", "A") for i in range(4000))
    group = (Author(collective_name="Pain & Society_UK"),)
    store.upsert(
        [
            Article(pmid=1, title="", year=None),
            Article(pmid=2, title=SPECIAL_TITLE, authors=muller, year=2020, pages="113-25"),
            Article(pmid=3, title="Consortium", authors=crowd),
            Article(pmid=4, title="Ketamine in pain", authors=muller, year=2020),
            Article(pmid=5, title="Ketamine in pain, again", authors=muller, year=2020),
            Article(pmid=6, title="The ketamine story", authors=group),
            Article(
                pmid=7,
                title="Ketamine: the book",
                journal="Seattle University Press",
                record_type="book",
                year=2019,
                authors=muller,
            ),
            Article(
                pmid=8,
                title=ACCENTED_TITLE,
                authors=(Author("Ørsted", "Łukasz", "Ł"),),
                year=2021,
                pub_date="2021-11-03",
                doi="10.1000/x_y%z",
            ),
            Article(pmid=9, title=MATHML_TITLE, authors=muller, year=2018),
        ]
    )
    return store.records()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _ris(records: pd.DataFrame, notes: dict[int, Annotation] | None = None) -> dict[int, Any]:
    entries = rispy.loads(to_ris(records, notes))
    assert [int(e["accession_number"]) for e in entries] == sorted(records["pmid"])
    return {int(e["accession_number"]): e for e in entries}


def _latex_to_text() -> LatexNodes2Text:
    """pylatexenc's LaTeX decoder (what bibtexparser's decoding middleware uses), taught the
    text-mode macros we write for {, } and ^: it drops the first two and turns the third into
    a modifier letter."""
    context = get_default_latex_context_db()
    context.add_context_category(
        "tracker-text-macros",
        prepend=True,
        macros=[
            MacroTextSpec("textbraceleft", "{"),
            MacroTextSpec("textbraceright", "}"),
            MacroTextSpec("textasciicircum", "^"),
        ],
    )
    return LatexNodes2Text(latex_context=context)


def _bibtex(text: str) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """(type, key, decoded fields) per PMID, read by bibtexparser as a user's LaTeX would."""
    decoder = _latex_to_text()
    middleware = [SeparateCoAuthors(), LatexDecodingMiddleware(decoder=decoder)]
    library = parse_string(text, append_middleware=middleware)
    assert library.failed_blocks == []
    for entry in library.entries:  # the middleware decodes strings, not lists of names
        if "author" in entry:
            entry["author"] = [decoder.latex_to_text(name) for name in entry["author"]]
    return {
        int(entry["pmid"]): (entry.entry_type, entry.key, entry.fields_dict)
        for entry in library.entries
    }


def _raw_bibtex(text: str) -> dict[int, dict[str, str]]:
    """Undecoded field values (enclosing braces removed) per PMID: what the file says."""
    library = parse_string(text)
    return {int(e["pmid"]): {k: f.value for k, f in e.fields_dict.items()} for e in library.entries}


def _value(fields: dict[str, Any], name: str) -> Any:
    return fields[name].value if name in fields else ""


def test_ris_round_trip_gives_back_every_record_s_pmid_title_authors_and_doi(
    records: pd.DataFrame,
) -> None:
    by_pmid = _ris(records)
    differences = []
    for row in records.to_dict(orient="records"):
        entry = by_pmid[row["pmid"]]
        expected = (
            _one_line(row["title"]) or NO_TITLE,
            [_one_line(a) for a in row["authors_full"]],
            row["doi"],
        )
        found = (entry["title"], entry.get("authors", []), entry.get("doi", ""))
        differences += [(row["pmid"], expected, found)] if expected != found else []
    assert differences == []
    assert by_pmid[8]["title"] == ACCENTED_TITLE and by_pmid[9]["title"] == MATHML_TITLE


def test_bibtex_round_trip_gives_back_every_record_s_pmid_title_authors_and_doi(
    records: pd.DataFrame,
) -> None:
    text = to_bibtex(records)
    by_pmid, raw = _bibtex(text), _raw_bibtex(text)
    assert sorted(by_pmid) == sorted(records["pmid"])
    differences = []
    for row in records.to_dict(orient="records"):
        _, _, fields = by_pmid[row["pmid"]]
        expected = (
            _one_line(row["title"]) or NO_TITLE,
            [_one_line(a) for a in row["authors_full"]],
            row["doi"],
            _one_line(row["abstract"]),
        )
        found = (
            _value(fields, "title"),
            _value(fields, "author") or [],
            raw[row["pmid"]].get("doi", ""),  # verbatim in biblatex: read as written
            _value(fields, "abstract"),
        )
        differences += [(row["pmid"], expected, found)] if expected != found else []
    assert differences == [], differences


def test_the_round_trips_cover_the_real_fixtures_and_the_hard_titles(
    records: pd.DataFrame,
) -> None:
    real = set(records["pmid"]) - set(range(1, 10)) - {20301295}
    assert len(real) == 8, "all eight records of the real fixture files"
    decoded = _bibtex(to_bibtex(records))
    assert _value(decoded[2][2], "title") == SPECIAL_TITLE
    assert _value(decoded[8][2], "title") == ACCENTED_TITLE
    assert _value(decoded[9][2], "title") == MATHML_TITLE
    assert _value(decoded[6][2], "author") == ["Pain & Society_UK"]


def test_ris_carries_the_tags_zotero_and_endnote_read(records: pd.DataFrame) -> None:
    article = _ris(records)[27797938]
    assert article["type_of_reference"] == "JOUR"
    assert len(article["authors"]) == 22 and article["authors"][0] == "Bao, Ying"
    assert (article["year"], article["date"]) == ("2017", "2017/06//")
    assert (article["secondary_title"], article["alternate_title1"]) == ("Gut", "Gut")
    assert article["issn"] == "1468-3288"
    assert (article["start_page"], article["end_page"]) == ("1116", "1122")
    assert (article["name_of_database"], article["language"]) == ("PubMed", "eng")
    assert article["urls"] == ["https://pubmed.ncbi.nlm.nih.gov/27797938/"]
    assert article["custom2"] == "PMC5442267" and article["notes"] == ["PMCID: PMC5442267"]
    text = to_ris(records)
    assert "\nJO  - " not in text and "\nJF  - " not in text and not text.startswith("1.")


def test_ris_keywords_hold_keywords_mesh_and_review_tags(records: pd.DataFrame) -> None:
    row = records.set_index("pmid").loc[27797938]
    notes = {27797938: Annotation("include", "", ("rct", "pk"), ())}
    keywords = _ris(records, notes)[27797938]["keywords"]
    assert keywords == [*row["keywords"], *row["mesh_terms"], "rct", "pk"]
    assert "Adenocarcinoma" in keywords


def test_ris_expands_medline_page_ranges_and_keeps_4000_authors(records: pd.DataFrame) -> None:
    by_pmid = _ris(records)
    assert (by_pmid[2]["start_page"], by_pmid[2]["end_page"]) == ("113", "125")
    assert (by_pmid[9997]["start_page"], by_pmid[9997]["end_page"]) == ("179", "191")
    assert len(by_pmid[3]["authors"]) == 4000


def test_ris_exports_a_record_without_title_or_year(records: pd.DataFrame) -> None:
    empty = _ris(records)[1]
    assert empty["title"] == NO_TITLE and "year" not in empty and "authors" not in empty


def test_ris_writes_a_bookshelf_chapter_and_a_whole_book_as_zotero_files_them(
    records: pd.DataFrame,
) -> None:
    by_pmid = _ris(records)
    chapter, book = by_pmid[20301295], by_pmid[7]
    assert chapter["type_of_reference"] == "CHAP"
    assert chapter["secondary_title"] == "Pain Management Handbook"  # Zotero: bookTitle
    assert chapter["title"] == "Ketamine: a chapter on analgesia."
    assert "custom2" not in chapter, "C2 on a chapter is a book author to Zotero"
    assert book["type_of_reference"] == "BOOK" and book["publisher"] == "Seattle University Press"
    assert "secondary_title" not in book, "T2 on a book is its series to Zotero"


def test_ris_notes_carry_the_screening_annotations(records: pd.DataFrame) -> None:
    notes = {9997: Annotation("exclude", "wrong population", ("rct", "pk"), ("ok", "two\nlines"))}
    by_pmid = _ris(records, notes)
    assert by_pmid[9997]["notes"] == [
        "Decision: exclude", "Exclusion reason: wrong population", "Tags: rct; pk",
        "Note: ok", "Note: two lines",
    ]  # fmt: skip
    assert "notes" not in by_pmid[12091962]


def test_bibtex_is_one_entry_per_record_in_pmid_order_with_unique_keys(
    records: pd.DataFrame,
) -> None:
    text = to_bibtex(records)
    pmids = [int(p) for p in re.findall(r"\n  pmid = \{(\d+)\}", text)]
    assert pmids == sorted(records["pmid"])
    keys = re.findall(r"^@\w+\{([^,]+),$", text, flags=re.M)
    assert len(keys) == len(set(keys)) == len(records)
    assert all(re.fullmatch(r"[A-Za-z0-9]+", k) for k in keys)


def test_bibtex_keys_are_author_year_word_with_suffixes_in_pmid_order(
    records: pd.DataFrame,
) -> None:
    keys = {pmid: key for pmid, (_, key, _) in _bibtex(to_bibtex(records)).items()}
    assert (keys[2], keys[4], keys[5]) == (
        "Muller2020Ketamine",
        "Muller2020Ketaminea",
        "Muller2020Ketamineb",
    )
    assert keys[27797938] == "Bao2017Leucocyte" and keys[1] == "pmid1"
    assert keys[6] == "Pain" + "Ketamine"  # a group author, no year; "The" is no key word
    assert keys[8] == "Orsted2021Orsteds"


def test_bibtex_keys_stay_put_when_later_records_arrive(records: pd.DataFrame) -> None:
    before = _bibtex(to_bibtex(records[records["pmid"] < 5]))
    after = _bibtex(to_bibtex(records))
    assert all(after[pmid][1] == key for pmid, (_, key, _) in before.items())
    assert to_bibtex(records) == to_bibtex(records.sample(frac=1, random_state=1))


def test_thirty_thousand_clashing_keys_are_suffixed_quickly() -> None:
    started = time.perf_counter()
    keys = _unique_keys(["Smith2020Pain"] * 30_000 + ["Smith2020Paina"])
    assert time.perf_counter() - started < 1.0
    assert keys[:3] == ["Smith2020Pain", "Smith2020Painb", "Smith2020Painc"]
    assert keys[-1] == "Smith2020Paina" and len(set(keys)) == len(keys)


def test_bibtex_escapes_every_latex_special_character(records: pd.DataFrame) -> None:
    raw = _raw_bibtex(to_bibtex(records))
    assert raw[2]["title"] == (
        r"{Ketamine \textbraceleft{}50\%\textbraceright{} \& S\_ketamine in CRPS: \$5 \#1 "
        r"\textasciitilde{} \textasciicircum{} \textbackslash{} test}"
    )
    assert raw[8]["title"].startswith("{Ørsted's \\textbraceleft{}lone brace: α/β-ketamine")
    for fields in raw.values():
        for name, value in fields.items():
            bare = re.sub(r"\\(?:[%&$#_]|text\w+\{\})", "", value)
            assert not re.search(r"[%&$#_~^\\]", bare) or name in ("doi", "url"), (name, value)


def test_bibtexparser_s_own_latex_encoding_would_break_a_lone_brace() -> None:
    """Why we escape ourselves: BibTeX counts "\\{" as a brace, so one brace in a title
    leaves the entry unbalanced and the rest of the file unreadable."""
    encoded, _ = LatexEncodingMiddleware()._transform_python_value_string("a {lone brace")
    assert encoded.count("{") != encoded.count("}")
    ours = to_bibtex(pd.DataFrame({"pmid": [1], "title": ["a {lone brace"]}))
    assert ours.count("{") == ours.count("}")


def test_bibtex_writes_authors_dates_pages_and_identifiers(records: pd.DataFrame) -> None:
    raw = _raw_bibtex(to_bibtex(records))
    gut = raw[27797938]
    assert gut["author"].startswith("Bao, Ying and ") and gut["author"].count(" and ") == 21
    assert (gut["journal"], gut["year"], gut["month"], gut["pages"]) == (
        "Gut", "2017", "jun", "1116--1122",
    )  # fmt: skip
    assert (gut["doi"], gut["pmid"], gut["pmcid"]) == (
        "10.1136/gutjnl-2016-312510", "27797938", "PMC5442267",
    )  # fmt: skip
    assert (gut["eprint"], gut["eprinttype"], gut["language"]) == ("27797938", "pubmed", "eng")
    assert gut["url"] == "https://pubmed.ncbi.nlm.nih.gov/27797938/"
    assert "Adenocarcinoma" in gut["keywords"] and gut["title"].startswith("{Leucocyte")
    assert "\n  month = jun,\n" in to_bibtex(records), "a month macro, not braced text"
    assert raw[2]["author"] == "Müller, Jörg" and raw[2]["pages"] == "113--125"
    assert raw[6]["author"] == r"{Pain \& Society\_UK}"
    assert raw[3]["author"].count(" and ") == 3999
    assert raw[8]["doi"] == "10.1000/x_y%z", "biblatex reads doi verbatim: no escaping"
    assert "year" not in raw[1] and raw[1]["title"] == "{" + NO_TITLE + "}"


def test_bibtex_writes_chapters_as_incollection_and_books_as_book(
    records: pd.DataFrame,
) -> None:
    by_pmid = _bibtex(to_bibtex(records))
    kind, _, chapter = by_pmid[20301295]
    assert kind == "incollection"
    assert _value(chapter, "booktitle") == "Pain Management Handbook"
    kind, _, book = by_pmid[7]
    assert kind == "book" and _value(book, "publisher") == "Seattle University Press"
    assert by_pmid[27797938][0] == "article"


def test_bibtex_keeps_annotations_out_of_the_printed_note(records: pd.DataFrame) -> None:
    notes = {2: Annotation("include", "", ("50% dose",), ("see {table} 2",))}
    fields = _raw_bibtex(to_bibtex(records, notes))[2]
    assert (
        fields["annote"]
        == r"Decision: include; Tags: 50\% dose; Note: see \textbraceleft{}table\textbraceright{} 2"
    )
    assert "note" not in fields and "50\\% dose" in fields["keywords"]


def test_no_records_export_as_empty_text(records: pd.DataFrame) -> None:
    assert to_ris(records.iloc[:0]) == "" and to_bibtex(records.iloc[:0]) == ""
