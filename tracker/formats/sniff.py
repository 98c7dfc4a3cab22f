"""Which format a file is in, from its content: the file name only breaks ties.

Exports are misnamed all the time (Ovid's ``.cgi``, EndNote's ``.txt``, PubMed's ``.nbib``,
Covidence's ``.csv`` that is really RIS), so the first lines decide:

- ``<?xml`` or ``<`` with ``PubmedArticleSet`` → PubMed XML (read by tracker/parse.py);
- a ``TY  - `` line among the first lines (after a BOM, blank lines, or the "Provider: …"
  header that the Cochrane Library writes above its records) → RIS;
- ``PMID- `` as the first tag → MEDLINE text (.nbib);
- a header line of tab-separated field codes with ``PT``, ``AU``, ``TI`` and ``UT`` → Web of
  Science tab-delimited;
- a CSV header, told apart by the columns only one tool writes: ``EID`` with ``Source title``
  (Scopus), ``Covidence #`` (Covidence), an ``asreview_`` column or ``record_id`` with
  ``included`` (ASReview), ``key`` with ``notes`` (Rayyan).

Text is decoded here too, once: UTF-8 (with or without BOM), UTF-16 with a BOM (Web of
Science's "Tab-delimited (Win)" and Excel's "Unicode text"), else Windows-1252 with a warning.
A NUL byte in what should be text, or a known binary signature (PDF, ZIP/XLSX, ...) means the
file is not an export at all.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from enum import StrEnum
from pathlib import Path

from tracker.formats.refusal import ImportRefusedError

HEAD_BYTES = 65_536
"""How much of a file the sniffer looks at: any export states its format in its first lines."""
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Excel .xlsx workbook)",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls or .doc)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"SQLite format 3": "an SQLite database",
    b"PAR1": "a Parquet file",
}
_RIS_TAG = re.compile(r"^[A-Z][A-Z0-9]  -( |$)")
_MEDLINE_TAG = re.compile(r"^PMID- ")
_HEADER_LINE = re.compile(r"^[A-Za-z][\w ]*:")


class Format(StrEnum):
    RIS = "RIS"
    MEDLINE = "MEDLINE text"
    PUBMED_XML = "PubMed XML"
    WOS_TAB = "Web of Science tab-delimited"
    SCOPUS_CSV = "Scopus CSV"
    RAYYAN_CSV = "Rayyan CSV"
    COVIDENCE_CSV = "Covidence CSV"
    ASREVIEW_CSV = "ASReview CSV"


CSV_FORMATS = (Format.SCOPUS_CSV, Format.RAYYAN_CSV, Format.COVIDENCE_CSV, Format.ASREVIEW_CSV)


def decode(data: bytes, path: Path) -> tuple[str, list[str]]:
    """The file's text and any warning about how it was decoded; binary files are refused."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
    refuse_binary(data, path)
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _strict(data, encoding, path), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        return text, ["not UTF-8: read as Windows-1252 (check accented names)"]


def refuse_binary(data: bytes, path: Path) -> None:
    """Refuse a file whose first bytes are a binary signature, or hold NULs outside UTF-16."""
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise ImportRefusedError(path, f"this is {what}, not a text export", line=1)
    head = data[:HEAD_BYTES]
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not utf16:
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        raise ImportRefusedError(path, "the file holds binary data, not text", line=line)


def sniff(text: str, path: Path) -> Format:
    """The format of a decoded file, from its first lines; refused when it is none we read."""
    lines = text[:HEAD_BYTES].splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ImportRefusedError(path, "the file is empty", line=1)
    opening = lines[first].lstrip("\ufeff").strip()
    if opening.startswith("<"):
        if "PubmedArticleSet" in text[:HEAD_BYTES] or "PubmedBookArticleSet" in text[:4096]:
            return Format.PUBMED_XML
        raise ImportRefusedError(path, "an XML file that is not PubMed XML", line=first + 1)
    if _is_ris(lines[first:]):
        return Format.RIS
    if _MEDLINE_TAG.match(opening):
        return Format.MEDLINE
    return _tabular(opening, lines[first : first + 2], path, first + 1)


def _is_ris(lines: list[str]) -> bool:
    """A TY line opens the file, or follows only a short "Key: value" header (Cochrane's)."""
    for line in lines[:12]:
        stripped = line.lstrip("\ufeff")
        if stripped.startswith("TY  -"):
            return True
        if stripped.strip() and not _HEADER_LINE.match(stripped):
            return False
    return False


def _tabular(opening: str, head: list[str], path: Path, line: int) -> Format:
    if "\t" in opening:
        codes = {cell.strip().upper() for cell in opening.split("\t")}
        if {"PT", "AU", "TI", "UT"} <= codes:
            return Format.WOS_TAB
    try:
        header = next(csv.reader(io.StringIO("\n".join(head))))
    except (csv.Error, StopIteration):
        header = []
    columns = {cell.strip().lstrip("\ufeff").casefold() for cell in header}
    found = _csv_format(columns)
    if found is None:
        shown = ", ".join(sorted(columns)[:8]) or "no columns"
        raise ImportRefusedError(
            path,
            f"a file none of the accepted formats opens with (its first line: {shown})",
            line=line,
        )
    return found


def _csv_format(columns: set[str]) -> Format | None:
    if "eid" in columns and "source title" in columns:
        return Format.SCOPUS_CSV
    if "covidence #" in columns:
        return Format.COVIDENCE_CSV
    if any(c.startswith("asreview_") for c in columns) or {"record_id", "included"} <= columns:
        return Format.ASREVIEW_CSV
    if {"key", "notes"} <= columns:
        return Format.RAYYAN_CSV
    return None


def _strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefusedError(path, f"the text is damaged ({exc.reason})", line=line) from exc


def _gunzip(data: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportRefusedError(path, f"a damaged gzip file ({exc})") from exc
