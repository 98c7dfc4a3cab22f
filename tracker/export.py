"""Bibliography writers: CSV for spreadsheets (RIS and BibTeX live beside it).

Every writer takes the records DataFrame (``Store.records()``, possibly filtered, usually through
:func:`tracker.study_groups.entries` so confirmed duplicates fold into their original) plus the
current annotations, keyed by record id, and writes exactly one entry per row, in record-id order
(a PubMed record's id is its PMID, so PubMed records keep the order they always had).

The identifiers sit together at the front (Record ID, PMID, ..., DOI, PMCID, NCT); where the
record was found (Sources, and each source's own id in Source IDs) follows the URL, just before
the review's own columns.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from tracker.errors import DestinationUnwritable
from tracker.record_links import pmid_of, record_url

CSV_HEADERS: tuple[str, ...] = (
    "Record ID", "PMID", "Title", "Authors", "Journal", "Year", "DOI", "PMCID", "NCT",
    "Publication Types", "MeSH Terms", "Keywords", "Language", "Abstract", "URL", "Sources",
    "Source IDs", "Decision", "Exclusion Reason", "Tags", "Notes",
)  # fmt: skip

SUGGESTION_HEADERS: tuple[str, ...] = ("Suggested Tags", "Suggested Tag Evidence")
"""Written after "Tags" when the caller passes suggestions (:mod:`tracker.suggestions`)."""

EXCEL_CELL_LIMIT = 32_767
"""Excel silently splits or truncates longer cells; we shorten them and say so in the cell."""

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_CSV_SOURCE = ("record_id", "pmid", "title", "authors", "journal", "year", "doi", "pmcid", "nct",
               "publication_types", "mesh_terms", "keywords", "languages", "abstract", "kind",
               "url", "sources", "source_ids")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Annotation:
    """A record's current screening state, as exports show it."""

    decision: str = ""
    exclusion_reason: str = ""
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def inert(cell: str) -> str:
    """Make a cell that a spreadsheet would run as a formula show as text (OWASP advice).

    A leading apostrophe is what Excel, LibreOffice and Google Sheets all read as "text".
    """
    if cell.startswith(_FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def _fit(cell: str, what: str, whole: str = "full text in RIS/BibTeX") -> str:
    """The cell, shortened with a note when it (with the apostrophe :func:`inert` may add)
    would be longer than Excel keeps."""
    room = EXCEL_CELL_LIMIT - (1 if cell.startswith(_FORMULA_TRIGGERS) else 0)
    if len(cell) <= room:
        return cell
    marker = f" … [{what} shortened to fit one spreadsheet cell; {whole}]"
    return cell[: room - len(marker)] + marker


def _join_authors(authors: list[str]) -> str:
    joined = "; ".join(authors)
    if len(joined) <= EXCEL_CELL_LIMIT:
        return joined
    kept: list[str] = []
    size = 0
    for name in authors:
        size += len(name) + 2
        if size > EXCEL_CELL_LIMIT - 200:
            break
        kept.append(name)
    rest = len(authors) - len(kept)
    return "; ".join(kept) + f"; … and {rest:,} more authors (full list in RIS/BibTeX)"


def csv_headers(*, with_suggestions: bool = False) -> tuple[str, ...]:
    """The header row: :data:`CSV_HEADERS`, with the suggestion columns after "Tags"."""
    if not with_suggestions:
        return CSV_HEADERS
    at = CSV_HEADERS.index("Tags") + 1
    return (*CSV_HEADERS[:at], *SUGGESTION_HEADERS, *CSV_HEADERS[at:])


def csv_rows(
    records: pd.DataFrame,
    annotations: Mapping[int, Annotation] | None = None,
    suggestions: Mapping[int, tuple[str, str]] | None = None,
) -> Iterator[list[str]]:
    """One list of cells per record, sorted by record id, already safe for spreadsheets.

    ``annotations`` and ``suggestions`` are keyed by record id; ``suggestions`` holds each
    record's "Suggested Tags" and "Suggested Tag Evidence" cells
    (:func:`tracker.suggestions.suggested_tags_column`), and the columns appear only when given.
    """
    notes = annotations or {}
    for row in _rows(_csv_columns(records.sort_values("record_id", kind="stable"))):
        record_id, pmid = row["record_id"], row["pmid"]
        note = notes.get(record_id, Annotation())
        cells = [
            str(record_id),
            "" if pmid is None else str(pmid),
            _fit(row["title"], "title"),
            _join_authors(row["authors"]),
            row["journal"],
            row["year"],
            row["doi"],
            row["pmcid"],
            row["nct"],
            "; ".join(row["publication_types"]),
            "; ".join(row["mesh_terms"]),
            "; ".join(row["keywords"]),
            "; ".join(row["languages"]),
            _fit(row["abstract"], "abstract"),
            record_url(pmid=pmid, kind=row["kind"], nct=row["nct"], url=row["url"], doi=row["doi"]),
            "; ".join(row["sources"]),
            _fit("; ".join(row["source_ids"]), "source ids"),
            note.decision,
            note.exclusion_reason,
            "; ".join(note.tags),
            _fit(" | ".join(note.notes), "notes"),
        ]
        if suggestions is not None:
            tags, proof = suggestions.get(record_id, ("", ""))
            named = f"PMID {pmid}" if pmid is not None else f"record {record_id}"
            whole = f"all of them in the record's suggested tags ({named})"
            cells[-1:-1] = [_fit(tags, "suggested tags", whole), _fit(proof, "evidence", whole)]
        yield [inert(cell) for cell in cells]


_TEXTS = ("title", "journal", "doi", "pmcid", "nct", "abstract", "kind", "url")
_LISTS = ("authors", "publication_types", "mesh_terms", "keywords", "languages", "source_ids")


def _csv_columns(ordered: pd.DataFrame) -> dict[str, list[Any]]:
    """The columns the CSV reads, cleaned a column at a time: texts ``""`` when missing, lists
    ``[]``, the PMID an int or None, the year as text. Plain lists, zipped row by row: a third
    of the time of ``to_dict()`` on 100,000 records.

    A frame without ``sources`` (not passed through :func:`tracker.study_groups.entries`) names
    each row's own ``source``; one without ``record_id`` (an older caller's) uses the PMID.
    """
    size, present = len(ordered), set(ordered.columns)

    def column(name: str) -> list[Any]:
        return ordered[name].tolist() if name in present else [None] * size

    columns: dict[str, list[Any]] = {"pmid": [pmid_of(p) for p in column("pmid")]}
    ids = column("record_id") if "record_id" in present else columns["pmid"]
    columns["record_id"] = [int(i) for i in ids]
    for name in _TEXTS:
        columns[name] = [v if isinstance(v, str) else "" for v in column(name)]
    for name in _LISTS:
        columns[name] = [[] if v is None or isinstance(v, float) else list(v) for v in column(name)]
    columns["year"] = ["" if y is None or pd.isna(y) else str(int(y)) for y in column("year")]
    if "sources" in present:
        columns["sources"] = [list(v) for v in ordered["sources"].tolist()]
    else:
        columns["sources"] = [[v] if isinstance(v, str) and v else [] for v in column("source")]
    return columns


def _rows(columns: Mapping[str, list[Any]]) -> Iterator[dict[str, Any]]:
    names = list(columns)
    for cells in zip(*columns.values(), strict=True):
        yield dict(zip(names, cells, strict=True))


def write_csv(
    records: pd.DataFrame,
    sink: TextIO,
    annotations: Mapping[int, Annotation] | None = None,
    suggestions: Mapping[int, tuple[str, str]] | None = None,
) -> int:
    """Write the CSV (header + one row per record) and return the number of records.

    CRLF line ends and full quoting of text with line breaks, as Excel expects. The caller opens
    ``sink`` with ``encoding="utf-8-sig"`` so Excel sees the BOM and reads UTF-8.
    """
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(csv_headers(with_suggestions=suggestions is not None))
    count = 0
    for cells in csv_rows(records, annotations, suggestions):
        writer.writerow(cells)
        count += 1
    return count


def to_csv_bytes(
    records: pd.DataFrame,
    annotations: Mapping[int, Annotation] | None = None,
    suggestions: Mapping[int, tuple[str, str]] | None = None,
) -> bytes:
    """The CSV file's bytes, BOM included: what a download button or a file receives."""
    buffer = io.StringIO()
    write_csv(records, buffer, annotations, suggestions)
    return buffer.getvalue().encode("utf-8-sig")


def table_to_csv(frame: pd.DataFrame) -> bytes:
    """Any table (the search log, PRISMA counts) as spreadsheet-safe CSV bytes with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([inert(v) if isinstance(v, str) else _text(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _text(value: object) -> str:
    return "" if pd.isna(value) else inert(str(value))  # type: ignore[call-overload]


def save(data: bytes, out: str | os.PathLike[str]) -> Path:
    """Write an export atomically: a reader never sees half a file."""
    path = Path(out)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DestinationUnwritable(path, str(exc.strerror or exc)) from exc
    return path


def annotation_map(rows: Iterable[Mapping[str, Any]]) -> dict[int, Annotation]:
    """Build the record id → Annotation map from rows with record_id (or, from files written
    while records were keyed by PMID, pmid) and decision/reason/tags/notes."""
    return {
        int(r["record_id"] if "record_id" in r else r["pmid"]): Annotation(
            decision=str(r.get("decision") or ""),
            exclusion_reason=str(r.get("exclusion_reason") or ""),
            tags=tuple(r.get("tags") or ()),
            notes=tuple(r.get("notes") or ()),
        )
        for r in rows
    }
