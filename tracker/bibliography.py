"""RIS (Zotero, EndNote, Mendeley) and BibTeX (LaTeX) writers: one entry per record, by PMID.

RIS is written by rispy with the tags Zotero and EndNote both read: TY, TI, AU (every author,
"Last, First"), PY, DA, JO (journal), J2 (abbreviation), VL, IS, SP/EP, SN, DO, AB, KW (keywords
and MeSH), LA, AN (the PMID), UR (the PubMed page), C2 (PMCID) and N1 (decision, reason, tags
and notes when annotations are given).

BibTeX keys are FirstAuthorYearWord (ASCII), with a/b/c added when two records would clash.
LaTeX's special characters are escaped; other Unicode is kept as UTF-8, which biber and
modern bibtex read. Title words in capitals (CRPS, NMDA) are braced so styles keep them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import pandas as pd
import rispy

from tracker.export import Annotation
from tracker.records import pubmed_url

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX))
_ACRONYM = re.compile(r"\b([A-Z][A-Z0-9-]*[A-Z0-9])\b")


def _rows(records: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): v for k, v in row.items()}
        for row in records.sort_values("pmid").to_dict(orient="records")
    ]


def _pages(pages: str) -> tuple[str, str]:
    start, _, end = (pages or "").partition("-")
    if end and len(end) < len(start):  # MEDLINE abbreviates "113-25" for 113-125
        end = start[: len(start) - len(end)] + end
    return start, end


def _note(annotation: Annotation | None) -> list[str]:
    if annotation is None:
        return []
    parts = [
        f"Decision: {annotation.decision}" if annotation.decision else "",
        f"Exclusion reason: {annotation.exclusion_reason}" if annotation.exclusion_reason else "",
        f"Tags: {'; '.join(annotation.tags)}" if annotation.tags else "",
        *(f"Note: {n}" for n in annotation.notes),
    ]
    return [p for p in parts if p]


def to_ris(records: pd.DataFrame, annotations: Mapping[int, Annotation] | None = None) -> str:
    """The records as an RIS file's text."""
    entries = []
    for row in _rows(records):
        pmid = int(row["pmid"])
        start, end = _pages(str(row["pages"]))
        entry: dict[str, Any] = {
            "type_of_reference": "CHAP" if row["record_type"] == "book" else "JOUR",
            "title": row["title"] or "(no title)",
            "authors": list(row["authors_full"]),
            "year": str(row["year"]) if pd.notna(row["year"]) else "",
            "date": str(row["pub_date"]).replace("-", "/"),
            "journal_name": row["journal"],
            "alternate_title1": row["journal_abbrev"],
            "volume": row["volume"],
            "number": row["issue"],
            "start_page": start,
            "end_page": end,
            "issn": row["issn"],
            "doi": row["doi"],
            "abstract": row["abstract"],
            "keywords": [*row["keywords"], *row["mesh_terms"]],
            "language": "; ".join(row["languages"]),
            "accession_number": str(pmid),
            "urls": [pubmed_url(pmid)],
            "custom2": row["pmcid"],
            "notes": _note((annotations or {}).get(pmid)),
        }
        entries.append({k: v for k, v in entry.items() if v not in ("", [], None)})
    return rispy.dumps(entries) if entries else ""


def _latex(text: str) -> str:
    return _LATEX_RE.sub(lambda m: _LATEX[m.group(0)], " ".join(str(text).split()))


def _title(text: str) -> str:
    """Escaped, with capitalised words braced so bibliography styles keep their case."""
    return _ACRONYM.sub(r"{\1}", _latex(text))


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", folded)


def _key(row: Mapping[str, Any]) -> str:
    authors = list(row["authors"])
    family = _ascii(authors[0].split(" ")[0]) if authors else ""
    year = str(row["year"]) if pd.notna(row["year"]) else ""
    words = [w for w in re.findall(r"[A-Za-z]+", _ascii_words(str(row["title"]))) if len(w) > 3]
    key = f"{family}{year}{words[0].capitalize() if words else ''}"
    return key or f"pmid{int(row['pmid'])}"


def _ascii_words(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def to_bibtex(records: pd.DataFrame, annotations: Mapping[int, Annotation] | None = None) -> str:
    """The records as BibTeX entries with stable, unique keys."""
    used: dict[str, int] = {}
    entries = []
    for row in _rows(records):
        base = _key(row)
        count = used.get(base, 0)
        used[base] = count + 1
        key = base if count == 0 else f"{base}{chr(ord('a') + count - 1) if count <= 26 else count}"
        pmid = int(row["pmid"])
        start, end = _pages(str(row["pages"]))
        fields = {
            "title": "{" + _title(row["title"] or "(no title)") + "}",
            "author": " and ".join(_latex(a) for a in row["authors_full"]),
            "journal": _latex(row["journal"]),
            "year": str(row["year"]) if pd.notna(row["year"]) else "",
            "volume": _latex(row["volume"]),
            "number": _latex(row["issue"]),
            "pages": f"{start}--{end}" if end else start,
            "doi": str(row["doi"]).replace("{", "").replace("}", ""),  # a verbatim field
            "pmid": str(pmid),
            "pmcid": row["pmcid"],
            "url": pubmed_url(pmid),
            "abstract": _latex(row["abstract"]),
            "keywords": _latex(", ".join([*row["keywords"], *row["mesh_terms"]])),
            "note": _latex("; ".join(_note((annotations or {}).get(pmid)))),
        }
        body = ",\n".join(
            f"  {name} = {{{value}}}" if not value.startswith("{") else f"  {name} = {value}"
            for name, value in fields.items()
            if value
        )
        kind = "incollection" if row["record_type"] == "book" else "article"
        entries.append(f"@{kind}{{{key},\n{body}\n}}\n")
    return "\n".join(entries)
