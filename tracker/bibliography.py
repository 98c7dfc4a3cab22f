"""RIS (Zotero, EndNote, Mendeley) and BibTeX (LaTeX) writers: one entry per record, by PMID.

RIS is written by rispy, with the tags that Zotero's and EndNote's importers both read:
TY (JOUR; CHAP for Bookshelf records), TI, AU (every author, "Last, First"), PY (year), DA
(YYYY/MM/DD/), T2 (journal, or the book of a chapter), J2 (journal abbreviation), VL, IS,
SP/EP (MEDLINE's "113-25" expanded to 113 and 125), SN, DO, AB, KW (keywords, then MeSH
terms), LA, DB ("PubMed") with AN (the PMID): Zotero files them as archive and location in
archive, EndNote as database and accession number; UR (the PubMed page), C2 (PMCID: EndNote's
"PMCID" field; Zotero keeps it as a note) and, when annotations are given, one N1 per
screening fact (decision, exclusion reason, tags, each note). JO is not written: Zotero reads
it as the journal's abbreviation, so the full name there would be filed wrongly.

BibTeX entries are @article (@incollection for Bookshelf records) with keys made of the first
author's family name, the year and the first meaningful title word, folded to ASCII
("Muller2020Ketamine"); a record lacking an author gets "pmid<PMID>". When keys clash, the
lowest PMID keeps the plain key and the others get a, b, c... in PMID order, so keys stay put
as later records arrive. LaTeX's special characters are escaped, braces as \\textbraceleft{}
and \\textbraceright{} because BibTeX counts every brace, escaped or not. Other Unicode is kept
as UTF-8, which biber and LaTeX read natively (classic bibtex copes but may sort accented names
oddly). Titles are wrapped in one extra pair of braces: PubMed's titles are already in sentence
case with acronyms, gene names and stereodescriptors capitalised as they should be (CRPS, NMDA,
S-ketamine), and the braces stop styles that lowercase titles from undoing that. The PMID goes
in ``pmid`` and in biblatex's ``eprint`` (``eprinttype = {pubmed}``), the PMCID in ``pmcid``;
screening annotations go in ``annote``, which bibliography styles do not print.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd
import rispy

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
    entries = [_ris_entry(row, (annotations or {}).get(_pmid(row))) for row in _rows(records)]
    return rispy.dumps(entries, implementation=_RisWriter) if entries else ""


def to_bibtex(records: pd.DataFrame, annotations: Mapping[int, Annotation] | None = None) -> str:
    """The records as BibTeX entries with stable, unique keys, sorted by PMID."""
    rows = list(_rows(records))
    keys = _unique_keys([_key(row) for row in rows])
    entries = [
        _bibtex_entry(row, key, (annotations or {}).get(_pmid(row)))
        for row, key in zip(rows, keys, strict=True)
    ]
    return "\n".join(entries)


def _rows(records: pd.DataFrame) -> Iterator[dict[str, Any]]:
    for row in records.sort_values("pmid", kind="stable").to_dict(orient="records"):
        yield {str(name): value for name, value in row.items()}


def _pmid(row: Mapping[str, Any]) -> int:
    return int(row["pmid"])


def _text(row: Mapping[str, Any], name: str) -> str:
    """A text field on one line (RIS is line-based), "" when missing."""
    value = row.get(name)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return " ".join(str(value).split())


def _texts(row: Mapping[str, Any], name: str) -> list[str]:
    value = row.get(name)
    if value is None or isinstance(value, str | float):
        return []
    return [" ".join(str(v).split()) for v in value if str(v).strip()]


def _year(row: Mapping[str, Any]) -> str:
    value = row.get("year")
    return "" if value is None or pd.isna(value) else str(int(value))


def _title(row: Mapping[str, Any]) -> str:
    return _text(row, "title") or _text(row, "vernacular_title") or NO_TITLE


def _keywords(row: Mapping[str, Any]) -> list[str]:
    """Author keywords, then MeSH terms, each once."""
    return list(dict.fromkeys([*_texts(row, "keywords"), *_texts(row, "mesh_terms")]))


def _is_book(row: Mapping[str, Any]) -> bool:
    return _text(row, "record_type") == "book"


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
    start, end = _pages(_text(row, "pages"))
    book = _is_book(row)
    entry: dict[str, Any] = {
        "type_of_reference": "CHAP" if book else "JOUR",
        "title": _title(row),
        "authors": _texts(row, "authors_full"),
        "year": _year(row),
        "date": _ris_date(_text(row, "pub_date")),
        "secondary_title": _text(row, "journal"),
        "alternate_title1": "" if book else _text(row, "journal_abbrev"),
        "volume": _text(row, "volume"),
        "number": _text(row, "issue"),
        "start_page": start,
        "end_page": end,
        "issn": _text(row, "issn"),
        "doi": _text(row, "doi"),
        "abstract": _text(row, "abstract"),
        "keywords": _keywords(row),
        "language": "; ".join(_texts(row, "languages")),
        "name_of_database": "PubMed",
        "accession_number": str(_pmid(row)),
        "urls": [pubmed_url(_pmid(row))],
        "custom2": _text(row, "pmcid"),
        "notes": _annotation_lines(annotation),
    }
    return {name: value for name, value in entry.items() if value not in ("", [])}


def _latex(text: str) -> str:
    """Plain text made safe for a BibTeX field and for LaTeX."""
    return _LATEX_SPECIAL.sub(lambda m: _LATEX[m.group(0)], text)


def _ascii(text: str) -> str:
    """Letters and digits only, accents folded: "Müller-Øster" becomes "MullerOster"."""
    folded = unicodedata.normalize("NFKD", text.translate(_NOT_DECOMPOSED))
    return re.sub(r"[^A-Za-z0-9]", "", folded.encode("ascii", "ignore").decode())


def _key(row: Mapping[str, Any]) -> str:
    """FamilynameYearWord, or pmid<PMID> when the first author's name has no Latin letters."""
    authors = _texts(row, "authors_full")
    family = _ascii(authors[0].split(",")[0].split()[0]) if authors else ""
    if not family:
        return f"pmid{_pmid(row)}"
    words = [
        _ascii(w) for w in _title(row).split() if w.lower().strip(".,:;") not in _KEY_STOPWORDS
    ]
    word = next((w for w in words if w), "")
    return f"{family[0].upper()}{family[1:]}{_year(row)}{word[:1].upper()}{word[1:].lower()}"


def _unique_keys(keys: list[str]) -> list[str]:
    """Keys in PMID order; a clash keeps the first plain and suffixes the rest a, b, ... z, aa."""
    taken = set(keys)
    seen: set[str] = set()
    unique = []
    for key in keys:
        candidate, number = key, 0
        while candidate in seen or (candidate != key and candidate in taken):
            number += 1
            candidate = key + _suffix(number)
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _suffix(number: int) -> str:
    """1 → a, 26 → z, 27 → aa: letters the way spreadsheet columns count."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _bibtex_author(name: str) -> str:
    """A person as "Last, First"; a group's name braced so BibTeX reads it as one name."""
    escaped = _latex(name)
    return escaped if "," in name else "{" + escaped + "}"


def _bibtex_fields(row: Mapping[str, Any], annotation: Annotation | None) -> dict[str, str]:
    start, end = _pages(_text(row, "pages"))
    pmid = str(_pmid(row))
    date = _text(row, "pub_date")
    return {
        "title": "{" + _latex(_title(row)) + "}",
        "author": " and ".join(_bibtex_author(a) for a in _texts(row, "authors_full")),
        "booktitle" if _is_book(row) else "journal": _latex(_text(row, "journal")),
        "year": _year(row),
        "date": date if "-" in date else "",
        "volume": _latex(_text(row, "volume")),
        "number": _latex(_text(row, "issue")),
        "pages": _latex(f"{start}--{end}" if end else start),
        "issn": _latex(_text(row, "issn")),
        "doi": re.sub(r"[{}\\]", "", _text(row, "doi")),  # verbatim in biblatex: no escaping
        "pmid": pmid,
        "eprint": pmid,
        "eprinttype": "pubmed",
        "pmcid": _latex(_text(row, "pmcid")),
        "url": pubmed_url(int(pmid)),
        "abstract": _latex(_text(row, "abstract")),
        "keywords": _latex(", ".join(_keywords(row))),
        "annote": _latex("; ".join(_annotation_lines(annotation))),
    }


def _bibtex_entry(row: Mapping[str, Any], key: str, annotation: Annotation | None) -> str:
    fields = _bibtex_fields(row, annotation)
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items() if value)
    kind = "incollection" if _is_book(row) else "article"
    return f"@{kind}{{{key},\n{body}\n}}\n"
