"""RIS (Zotero, EndNote, Mendeley) and BibTeX (LaTeX) writers: one entry per record, by record id.

Records come from any database; a PubMed record's id is its PMID, so PubMed records keep the
order, the accession numbers and the BibTeX keys they always had, and records from elsewhere
(ids from 10^10 up) follow them. The caller usually folds confirmed duplicates into their
original first (:func:`tracker.study_groups.entries`), so an entry names every source of its
study.

RIS is written by rispy with the tags both Zotero's importer (its RIS translator's field map)
and EndNote's RIS tag list read the same way: TY (JOUR; CHAP for a Bookshelf chapter, BOOK for
a whole book, ELEC, a web page to both, for a trial's registration), TI, one AU per author
("Family, Given"), PY, DA (YYYY/MM/DD/), T2, J2, VL, IS, SP/EP (MEDLINE's "113-25" expanded to
113 and 125), SN, DO, AB, KW, LA, PB (a whole book's publisher) and N1. DB names the
database(s) the entry was found in ("PubMed; Embase"); AN is the PMID when there is one, else
the record's id in its own database (the Embase accession, the NCT number), else the tracker's
record id; UR is the one link :func:`tracker.record_links.record_url` gives.

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
so C2 is written for journal articles only and the note keeps the PMCID for Zotero. Ids that
have no RIS tag of their own are notes too, so a re-import can find the record again: the NCT
number, the record id when it is not the PMID in AN, and every source's id when the entry
stands for more than one.

BibTeX is built as a bibtexparser Library and written by its writer: @article, @incollection
(a Bookshelf chapter) or @book. Keys are the first author's family name, the year and the
first meaningful title word, folded to ASCII ("Muller2020Ketamine"); a record without a Latin
author name gets "pmid<PMID>", or "record<id>" when it has no PMID. When keys clash, the lowest
record id keeps the plain key and the others get a, b, c... in record-id order, so keys stay
put as later records arrive (and a PubMed record's key never moves for a record from
elsewhere, whose id is higher than any PMID).

LaTeX's special characters are escaped here, not by bibtexparser's latex-encoding middleware:
that one writes a brace as ``\\{``, which BibTeX still counts, so a title with one brace
makes the whole file unreadable; we write \\textbraceleft{} and \\textbraceright{}. The
middleware also turns every accent and Greek letter into a macro; we keep UTF-8, which biber
and LaTeX read natively (classic bibtex copes but may sort accented names oddly). Titles get
an extra pair of braces: PubMed's titles are in sentence case with acronyms and gene names
capitalised as they should be (CRPS, NMDA, S-ketamine), and the braces stop styles that
lowercase titles from undoing that. A PMID, when there is one, goes in ``pmid`` and in
biblatex's ``eprint`` (``eprinttype = {pubmed}``); an NCT number in ``nct``, the record id of a
record PubMed did not give in ``recordid`` (fields styles ignore); a trial's registration is a
``@misc``. Screening annotations go in ``annote``, which styles do not print.
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
from tracker.record_links import own_id, pmid_of, record_url
from tracker.records import PUBMED

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
    """The records as the text of an RIS file, one entry per record, sorted by record id;
    ``annotations`` are keyed by record id."""
    notes = annotations or {}
    with collector_paused():
        rows = _rows(_columns(records))
        entries = [_ris_entry(row, notes.get(row["record_id"])) for row in rows]
        return rispy.dumps(entries, implementation=_RisWriter) if entries else ""


def to_bibtex(records: pd.DataFrame, annotations: Mapping[int, Annotation] | None = None) -> str:
    """The records as BibTeX entries with stable, unique keys, sorted by record id;
    ``annotations`` are keyed by record id."""
    with collector_paused():
        return _bibtex_text(records, annotations or {})


def _bibtex_text(records: pd.DataFrame, notes: Mapping[int, Annotation]) -> str:
    columns = _columns(records)
    if not columns["record_id"]:
        return ""
    names = ("record_id", "pmid", "authors_full", "title", "year")
    keys = _unique_keys(
        [_key(*fields) for fields in zip(*(columns[c] for c in names), strict=True)]
    )
    for name in _LATEX_COLUMNS:
        columns[name + "_tex"] = _latex_column(columns[name])
    columns["author_tex"] = _bibtex_authors(columns["authors_full"])
    library = Library(
        [
            _bibtex_entry(row, key, notes.get(row["record_id"]))
            for row, key in zip(_rows(columns), keys, strict=True)
        ]
    )
    layout = BibtexFormat()  # type: ignore[no-untyped-call]
    layout.indent, layout.block_separator = "  ", "\n"
    # The values are enclosed as they are built, so no middleware has to run: the default
    # stack would deep-copy every entry and then visit every field again, doubling the time.
    return str(write_string(library, unparse_stack=[], bibtex_format=layout))


_TEXT_COLUMNS = ("title", "vernacular_title", "journal", "journal_abbrev", "pub_date", "volume",
                 "issue", "pages", "issn", "doi", "pmcid", "abstract", "record_type", "nct",
                 "url", "kind", "source")  # fmt: skip
_LIST_COLUMNS = ("authors_full", "keywords", "mesh_terms", "languages", "source_ids")
_LATEX_COLUMNS = ("title", "journal", "volume", "issue", "issn", "pmcid", "abstract")


def _columns(records: pd.DataFrame) -> dict[str, list[Any]]:
    """The columns the writers read, in record-id order: texts on one line ("" when missing),
    lists without blanks, the PMID an int or None, the year as text, the title with its
    fallbacks, the kind of record, and the sources it was found in.

    Cleaned a column at a time, once, because the writers read each value several times. A
    frame without ``record_id`` (an older caller's) is keyed by its PMIDs, one without
    ``sources`` names each row's own ``source``.
    """
    key = "record_id" if "record_id" in records.columns else "pmid"
    ordered = records.sort_values(key, kind="stable")
    size, present = len(ordered), set(ordered.columns)
    pmids = ordered["pmid"].tolist() if "pmid" in present else [None] * size
    columns: dict[str, list[Any]] = {
        "record_id": [int(i) for i in ordered[key].tolist()],
        "pmid": [pmid_of(p) for p in pmids],
    }
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
    if "sources" in present:
        columns["sources"] = [list(v) for v in ordered["sources"].tolist()]
    else:
        columns["sources"] = [[v] if v else [] for v in columns["source"]]
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
    url = _url(row)
    entry: dict[str, Any] = {
        "type_of_reference": _RIS_TYPES.get(kind, "JOUR"),
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
        "name_of_database": "; ".join(_databases(row)),
        "accession_number": _accession(row),
        "urls": [url] if url else [],
        "custom2": pmcid if kind == "article" else "",
        "notes": [
            *_annotation_lines(annotation),
            *([f"PMCID: {pmcid}"] if pmcid else []),
            *_id_notes(row),
        ],
    }
    return {name: value for name, value in entry.items() if value not in ("", [])}


_RIS_TYPES = {"chapter": "CHAP", "book": "BOOK", "registration": "ELEC"}


def _databases(row: Mapping[str, Any]) -> list[str]:
    """Where the entry was found; PubMed for a table from before records had a source."""
    if row["sources"]:
        return list(row["sources"])
    return [PUBMED] if row["pmid"] is not None else []


def _accession(row: Mapping[str, Any]) -> str:
    """AN: the PMID, else the record's id in its own database, else the tracker's record id."""
    if row["pmid"] is not None:
        return str(row["pmid"])
    return own_id(row["source"], row["source_ids"]) or str(row["record_id"])


def _id_notes(row: Mapping[str, Any]) -> list[str]:
    """The ids RIS has no tag for, as notes: the NCT number, the record id when AN is not it
    (AN is a PubMed record's id, its PMID), and each source's id when the entry stands for
    more than one."""
    record_id = row["record_id"]
    return [
        *([f"NCT number: {row['nct']}"] if row["nct"] else []),
        *([f"Record ID: {record_id}"] if str(record_id) not in (_accession(row), "") else []),
        *([f"Source IDs: {'; '.join(row['source_ids'])}"] if len(row["source_ids"]) > 1 else []),
    ]


def _url(row: Mapping[str, Any]) -> str:
    return record_url(pmid=row["pmid"], kind=row["kind"], nct=row["nct"], url=row["url"],
                      doi=row["doi"])  # fmt: skip


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


def _key(record_id: int, pmid: int | None, authors: list[str], title: str, year: str) -> str:
    """FamilynameYearWord; when the first author's name has no Latin letters, pmid<PMID>, or
    record<id> for a record without a PMID."""
    family = _ascii(authors[0].split(",")[0].split()[0]) if authors else ""
    if not family:
        return f"pmid{pmid}" if pmid is not None else f"record{record_id}"
    words = (_ascii(w) for w in title.split() if w.lower().strip(".,:;") not in _KEY_STOPWORDS)
    word = next((w for w in words if w), "")
    return f"{family[0].upper()}{family[1:]}{year}{word[:1].upper()}{word[1:].lower()}"


def _unique_keys(keys: list[str]) -> list[str]:
    """Keys in record-id order; a clash keeps the first plain and suffixes the rest a, b, ... z, aa.

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
    pmid, kind = "" if row["pmid"] is None else str(row["pmid"]), row["record_type"]
    record_id = "" if row["pmid"] == row["record_id"] else str(row["record_id"])
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
        "nct": _latex(row["nct"]),
        "recordid": record_id,
        "eprint": pmid,
        "eprinttype": "pubmed" if pmid else "",
        "url": re.sub(r"[{}\\]", "", _url(row)),  # verbatim too; a brace would unbalance it
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
    kind = {"chapter": "incollection", "book": "book", "registration": "misc"}.get(
        row["record_type"], "article"
    )
    return Entry(kind, key, fields)
