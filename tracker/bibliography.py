"""RIS (Zotero, EndNote, Mendeley) and BibTeX (LaTeX) writers: one entry per record, by PMID.

RIS is written by rispy with the tags both Zotero's importer (its RIS translator's field map)
and EndNote's RIS tag list read the same way: TY (JOUR; CHAP for a Bookshelf chapter, BOOK for
a whole book), TI, one AU per author ("Family, Given"), PY, DA (YYYY/MM/DD/), T2, J2, VL, IS,
SP/EP (MEDLINE's "113-25" expanded to 113 and 125), SN, DO, AB, KW, LA, DB "PubMed" with AN
(the PMID), UR (the PubMed page), PB (a whole book's publisher) and N1.

The journal goes in T2 only. Zotero files T2 as a journal article's publication title (and as
a chapter's book title); EndNote reads T2 as the Secondary Title, which is the Journal of a
Journal Article. JO is defined as the full name by the RIS specification and EndNote, but
Zotero reads JO as the journal *abbreviation*, so a full name there lands in the wrong field;
JF would be read right by both but only duplicate T2. The abbreviation goes in J2, which
Zotero reads as the journal abbreviation and EndNote as the Alternate Title.

KW holds the author keywords, then the MeSH terms, then the review's own tags: Zotero turns
each KW into a tag, EndNote into a keyword. N1 holds the screening facts, one note each
(decision, exclusion reason, tags, notes), and the PMCID: EndNote also reads C2 as its PMCID
field, but Zotero ignores C2 on an article and would read it as a *book author* on a chapter,
so C2 is written for journal articles only and the note keeps the PMCID for Zotero.

BibTeX is built as a bibtexparser Library and written by its writer: @article, @incollection
(a Bookshelf chapter) or @book. Keys are the first author's family name, the year and the
first meaningful title word, folded to ASCII ("Muller2020Ketamine"); a record without a Latin
author name gets "pmid<PMID>". When keys clash, the lowest PMID keeps the plain key and the
others get a, b, c... in PMID order, so keys stay put as later (higher) PMIDs arrive.

LaTeX's special characters are escaped here, not by bibtexparser's latex-encoding middleware:
that one writes a brace as ``\\{``, which BibTeX still counts, so a title with one brace
makes the whole file unreadable; we write \\textbraceleft{} and \\textbraceright{}. The
middleware also turns every accent and Greek letter into a macro; we keep UTF-8, which biber
and LaTeX read natively (classic bibtex copes but may sort accented names oddly). Titles get
an extra pair of braces: PubMed's titles are in sentence case with acronyms and gene names
capitalised as they should be (CRPS, NMDA, S-ketamine), and the braces stop styles that
lowercase titles from undoing that. The PMID goes in ``pmid`` and in biblatex's ``eprint``
(``eprinttype = {pubmed}``); screening annotations go in ``annote``, which styles do not print.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd
import rispy
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from bibtexparser.writer import BibtexFormat

from tracker.decision_log import collector_paused
from tracker.export import Annotation
from tracker.records import pubmed_url

NO_TITLE = "[No title available]"
"""What PubMed itself shows for a record without a title; readers choke on an empty one."""

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_SPECIAL = re.compile("|".join(re.escape(c) for c in _LATEX))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NOT_DECOMPOSED = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "đ": "d",
     "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ı": "i"}
)  # fmt: skip
_KEY_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "on", "in", "for", "and", "or", "to", "with", "from", "by", "at",
     "as", "is", "are", "was", "were", "does", "do", "can", "vs", "versus", "its", "their", "our"}
)  # fmt: skip


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]
    """rispy's writer without the "1." line it puts before each entry, which no reader needs."""

    def set_header(self, count: int) -> str:
        return ""


def to_ris(records: pd.DataFrame, annotations: Mapping[int, Annotation] | None = None) -> str:
    """The records as the text of an RIS file, one entry per record, sorted by PMID."""
    notes = annotations or {}
    with collector_paused():
        entries = [_ris_entry(row, notes.get(row["pmid"])) for row in _rows(_columns(records))]
        return rispy.dumps(entries, implementation=_RisWriter) if entries else ""


def to_bibtex(records: pd.DataFrame, annotations: Mapping[int, Annotation] | None = None) -> str:
    """The records as BibTeX entries with stable, unique keys, sorted by PMID."""
    with collector_paused():
        return _bibtex_text(records, annotations or {})


def _bibtex_text(records: pd.DataFrame, notes: Mapping[int, Annotation]) -> str:
    columns = _columns(records)
    if not columns["pmid"]:
        return ""
    keys = _unique_keys(
        [
            _key(*fields)
            for fields in zip(
                *(columns[c] for c in ("pmid", "authors_full", "title", "year")), strict=True
            )
        ]
    )
    for name in _LATEX_COLUMNS:
        columns[name + "_tex"] = _latex_column(columns[name])
    columns["author_tex"] = _bibtex_authors(columns["authors_full"])
    library = Library(
        [
            _bibtex_entry(row, key, notes.get(row["pmid"]))
            for row, key in zip(_rows(columns), keys, strict=True)
        ]
    )
    layout = BibtexFormat()  # type: ignore[no-untyped-call]
    layout.indent, layout.block_separator = "  ", "\n"
    # The values are enclosed as they are built, so no middleware has to run: the default
    # stack would deep-copy every entry and then visit every field again, doubling the time.
    return str(write_string(library, unparse_stack=[], bibtex_format=layout))


_TEXT_COLUMNS = ("title", "vernacular_title", "journal", "journal_abbrev", "pub_date", "volume",
                 "issue", "pages", "issn", "doi", "pmcid", "abstract", "record_type")  # fmt: skip
_LIST_COLUMNS = ("authors_full", "keywords", "mesh_terms", "languages")
_LATEX_COLUMNS = ("title", "journal", "volume", "issue", "issn", "pmcid", "abstract")


def _columns(records: pd.DataFrame) -> dict[str, list[Any]]:
    """The columns the writers read, in PMID order: texts on one line ("" when missing), lists
    without blanks, the year as text, the title with its fallbacks, the kind of record.

    Cleaned a column at a time, once, because the writers read each value several times.
    """
    ordered = records.sort_values("pmid", kind="stable")
    size, present = len(ordered), set(ordered.columns)
    columns: dict[str, list[Any]] = {"pmid": [int(p) for p in ordered["pmid"].tolist()]}
    for name in _TEXT_COLUMNS:
        values = ordered[name].tolist() if name in present else [""] * size
        columns[name] = _one_line_column(values)
    for name in _LIST_COLUMNS:
        values = ordered[name].tolist() if name in present else [None] * size
        columns[name] = _one_line_lists(values)
    years = ordered["year"].tolist() if "year" in present else [None] * size
    columns["year"] = ["" if y is None or pd.isna(y) else str(int(y)) for y in years]
    columns["title"] = [
        title or vernacular or NO_TITLE
        for title, vernacular in zip(columns["title"], columns["vernacular_title"], strict=True)
    ]
    columns["record_type"] = [kind or "article" for kind in columns["record_type"]]
    return columns


def _rows(columns: Mapping[str, list[Any]]) -> Iterator[dict[str, Any]]:
    names = list(columns)
    for cells in zip(*columns.values(), strict=True):
        yield dict(zip(names, cells, strict=True))


def _one_line_column(values: list[Any]) -> list[str]:
    """Each text on one line; checked on the whole column at once, as it rarely needs it."""
    texts = [v if isinstance(v, str) else "" for v in values]
    joined = "|".join(texts)
    tidy = joined.isprintable() and not any(s in joined for s in ("  ", "| ", " |"))
    if tidy and joined[:1] != " " and joined[-1:] != " ":
        return texts
    return [_one_line(text) for text in texts]


def _one_line(text: str) -> str:
    """The text with each run of whitespace (line breaks included) as one space, trimmed."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # the common case, checked in C: nothing to change
    return " ".join(text.split())


def _one_line_lists(values: list[Any]) -> list[list[str]]:
    """Each list's texts on one line, blanks dropped; checked on the whole column at once."""
    lists = [[] if v is None or isinstance(v, str | float) else [str(t) for t in v] for v in values]
    joined = "|".join("|".join(texts) for texts in lists if texts)
    tidy = joined.isprintable() and not any(s in joined for s in ("  ", "| ", " |", "||"))
    if tidy and joined[:1] not in (" ", "|") and joined[-1:] not in (" ", "|"):
        return lists
    return [[t for t in (_one_line(text) for text in texts) if t] for texts in lists]


def _pmid(row: Mapping[str, Any]) -> int:
    return int(row["pmid"])


def _keywords(row: Mapping[str, Any], tags: tuple[str, ...] = ()) -> list[str]:
    """Author keywords, then MeSH terms, then the review's tags, each once."""
    return list(dict.fromkeys([*row["keywords"], *row["mesh_terms"], *tags]))


def _pages(pages: str) -> tuple[str, str]:
    """First and last page; MEDLINE's "113-25" means 113 to 125."""
    start, _, end = pages.partition("-")
    start, end = start.strip(), end.strip()
    if start.isdigit() and end.isdigit() and len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return start, end


def _ris_date(pub_date: str) -> str:
    """ISO "2017-06-28" / "2017-06" as RIS's "2017/06/28/" / "2017/06//"; a bare year
    stays in PY only."""
    parts = pub_date.split("-")
    if len(parts) < 2:
        return ""
    return "/".join([*parts, *[""] * (3 - len(parts))]) + "/"


def _annotation_lines(annotation: Annotation | None) -> list[str]:
    if annotation is None:
        return []
    lines = [
        f"Decision: {annotation.decision}" if annotation.decision else "",
        f"Exclusion reason: {annotation.exclusion_reason}" if annotation.exclusion_reason else "",
        f"Tags: {'; '.join(annotation.tags)}" if annotation.tags else "",
        *(f"Note: {note}" for note in annotation.notes),
    ]
    return [" ".join(line.split()) for line in lines if line.strip()]


def _ris_entry(row: Mapping[str, Any], annotation: Annotation | None) -> dict[str, Any]:
    """One RIS entry as rispy's field names; empty fields are left out."""
    start, end = _pages(row["pages"])
    kind, pmcid = row["record_type"], row["pmcid"]
    tags = tuple(" ".join(t.split()) for t in annotation.tags) if annotation else ()
    entry: dict[str, Any] = {
        "type_of_reference": {"chapter": "CHAP", "book": "BOOK"}.get(kind, "JOUR"),
        "title": row["title"],
        "authors": row["authors_full"],
        "year": row["year"],
        "date": _ris_date(row["pub_date"]),
        "secondary_title": "" if kind == "book" else row["journal"],
        "publisher": row["journal"] if kind == "book" else "",
        "alternate_title1": row["journal_abbrev"] if kind == "article" else "",
        "volume": row["volume"],
        "number": row["issue"],
        "start_page": start,
        "end_page": end,
        "issn": row["issn"],
        "doi": row["doi"],
        "abstract": row["abstract"],
        "keywords": _keywords(row, tags),
        "language": "; ".join(row["languages"]),
        "name_of_database": "PubMed",
        "accession_number": str(_pmid(row)),
        "urls": [pubmed_url(_pmid(row))],
        "custom2": pmcid if kind == "article" else "",
        "notes": [*_annotation_lines(annotation), *([f"PMCID: {pmcid}"] if pmcid else [])],
    }
    return {name: value for name, value in entry.items() if value not in ("", [])}


def _latex(text: str) -> str:
    """Plain text made safe for a BibTeX field and for LaTeX."""
    return _LATEX_SPECIAL.sub(_latex_for, text)


def _latex_for(match: re.Match[str]) -> str:
    return _LATEX[match.group(0)]


def _latex_column(texts: list[str]) -> list[str]:
    """:func:`_latex` of each text; a column without special characters is returned as is."""
    if not _LATEX_SPECIAL.search("".join(texts)):
        return texts
    escape = _LATEX_SPECIAL.sub
    return [escape(_latex_for, text) for text in texts]


def _ascii(text: str) -> str:
    """Letters and digits only, accents folded: "Müller-Øster" becomes "MullerOster"."""
    folded = unicodedata.normalize("NFKD", text.translate(_NOT_DECOMPOSED))
    return re.sub(r"[^A-Za-z0-9]", "", folded.encode("ascii", "ignore").decode())


def _key(pmid: int, authors: list[str], title: str, year: str) -> str:
    """FamilynameYearWord, or pmid<PMID> when the first author's name has no Latin letters."""
    family = _ascii(authors[0].split(",")[0].split()[0]) if authors else ""
    if not family:
        return f"pmid{pmid}"
    words = (_ascii(w) for w in title.split() if w.lower().strip(".,:;") not in _KEY_STOPWORDS)
    word = next((w for w in words if w), "")
    return f"{family[0].upper()}{family[1:]}{year}{word[:1].upper()}{word[1:].lower()}"


def _unique_keys(keys: list[str]) -> list[str]:
    """Keys in PMID order; a clash keeps the first plain and suffixes the rest a, b, ... z, aa.

    A suffixed key never takes a key that some record has as its plain key.
    """
    plain = set(keys)
    used: set[str] = set()
    last_suffix: dict[str, int] = {}  # so 1,000 clashing keys cost 1,000 steps, not 500,000
    unique = []
    for key in keys:
        candidate = key
        if key in used:
            number = last_suffix.get(key, 0)
            while candidate in used or candidate in plain:
                number += 1
                candidate = key + _suffix(number)
            last_suffix[key] = number
        used.add(candidate)
        unique.append(candidate)
    return unique


def _suffix(number: int) -> str:
    """1 → a, 26 → z, 27 → aa: letters the way spreadsheet columns count."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _bibtex_authors(lists: list[list[str]]) -> list[str]:
    """Each record's author field: people as "Family, Given", a group's name braced so BibTeX
    reads it as one name, joined by "and"."""
    if _LATEX_SPECIAL.search("".join("".join(names) for names in lists)):
        lists = [[_latex(name) for name in names] for names in lists]
    return [" and ".join([n if "," in n else "{" + n + "}" for n in names]) for names in lists]


def _month(pub_date: str) -> str:
    """BibTeX's month macro ("jun") for an ISO date with a month, else ""."""
    parts = pub_date.split("-")
    if len(parts) < 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 12:
        return ""
    return _MONTHS[int(parts[1]) - 1]


def _bibtex_fields(row: Mapping[str, Any], annotation: Annotation | None) -> dict[str, str]:
    start, end = _pages(row["pages"])
    pmid, kind = str(_pmid(row)), row["record_type"]
    date = row["pub_date"]
    container = {"chapter": "booktitle", "book": "publisher"}.get(kind, "journal")
    tags = annotation.tags if annotation else ()
    return {
        "author": row["author_tex"],
        "title": "{" + row["title_tex"] + "}",
        container: row["journal_tex"],
        "year": row["year"],
        "month": _month(date),
        "date": date if "-" in date else "",
        "volume": row["volume_tex"],
        "number": row["issue_tex"],
        "pages": _latex(f"{start}--{end}" if end else start),
        "issn": row["issn_tex"],
        "doi": re.sub(r"[{}\\]", "", row["doi"]),  # verbatim in biblatex: no escaping
        "pmid": pmid,
        "pmcid": row["pmcid_tex"],
        "eprint": pmid,
        "eprinttype": "pubmed",
        "url": pubmed_url(int(pmid)),
        "abstract": row["abstract_tex"],
        "keywords": _latex(", ".join(_keywords(row, tags))),
        "language": _latex(", ".join(row["languages"])),
        "annote": _latex("; ".join(_annotation_lines(annotation))),
    }


def _bibtex_entry(row: Mapping[str, Any], key: str, annotation: Annotation | None) -> Entry:
    fields = [
        # the month is a macro ("jun"), unbraced, so styles print it in the document's language
        Field(name, value if name == "month" else "{" + value + "}")
        for name, value in _bibtex_fields(row, annotation).items()
        if value
    ]
    kind = {"chapter": "incollection", "book": "book"}.get(row["record_type"], "article")
    return Entry(kind, key, fields)
