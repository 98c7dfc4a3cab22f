"""Web of Science tab-delimited and Scopus CSV exports → SourceRecord.

Web of Science: one header line of two-letter field codes, tab-separated, unquoted (Clarivate's
"Web of Science Core Collection Field Tags" help page): AU (authors, "Family, AB; …"), AF (full
names), TI, SO (source, in capitals), J9/JI (abbreviations), PY, VL, IS, BP/EP, AR (article
number), DI (DOI), PM (PubMed ID), UT (accession, ``WOS:`` + 15 digits), AB, DE (author
keywords), ID (Keywords Plus), DT (document type), LA, SN.

Scopus: a quoted CSV with English column names (Scopus's "What can I export?" list, and the
column names bibliometrix's Scopus reader expects): "Authors" (``Rivera A.M.; Chen B.``, or
comma-separated in older exports), "Author full names" (``Rivera, Ana M. (57190000000)``),
"Title", "Year", "Source title", "Abbreviated Source Title", "Volume", "Issue", "Art. No.",
"Page start", "Page end", "DOI", "Link" (the EID again, in the URL), "Abstract",
"Author Keywords", "Index Keywords", "ISSN", "PubMed ID", "Language of Original Document",
"Document Type", "EID" (``2-s2.0-…``).
"""

from __future__ import annotations

import re
from pathlib import Path

from tracker.formats.names import authors_from_names, split_names
from tracker.formats.table import Row, read_table
from tracker.source_record import (
    AccessionKind,
    SourceRecord,
    find_nct_numbers,
    normalise_doi,
    normalise_pmid,
    plain,
    year_of,
)

WOS_FORMAT = "Web of Science tab-delimited"
SCOPUS_FORMAT = "Scopus CSV"
_AUTHOR_ID = re.compile(r"\s*\(\d+\)\s*$")


def read_wos_tab(text: str, path: Path, *, source: str | None = None) -> list[SourceRecord]:
    """Every row of a Web of Science tab-delimited export."""
    expected = "Web of Science tab-delimited (a header of field codes)"
    table = read_table(text, path, delimiter="\t", title_columns=("TI",), expected=expected)
    return [_wos(row, path, source or "Web of Science") for row in table.rows]


def read_scopus_csv(text: str, path: Path, *, source: str | None = None) -> list[SourceRecord]:
    """Every row of a Scopus CSV export."""
    table = read_table(
        text,
        path,
        title_columns=("Title",),
        expected="Scopus CSV (its header: Authors, Title, Year, Source title, …)",
    )
    return [_scopus(row, path, source or "Scopus") for row in table.rows]


def _wos(row: Row, path: Path, source: str) -> SourceRecord:
    names = split_names(row.get("AF") or row.get("AU"))
    start, end = row.get("BP"), row.get("EP")
    accession = row.get("UT")
    accessions: dict[str, str] = {AccessionKind.WOS: accession} if accession else {}
    trials = find_nct_numbers(row.get("AB"))
    if trials:
        accessions[AccessionKind.NCT] = trials[0]
    return SourceRecord(
        source=source,
        format=WOS_FORMAT,
        origin=path.name,
        line=row.line,
        title=plain(row.get("TI")),
        abstract=plain(row.get("AB")),
        authors=authors_from_names([*names, *split_names(row.get("CA"))]),
        year=year_of(row.get("PY") or row.get("EY") or row.get("PD")),
        journal=row.get("SO"),
        journal_abbrev=row.get("JI", "J9"),
        volume=row.get("VL"),
        issue=row.get("IS"),
        pages=f"{start}-{end}" if start and end else start or row.get("AR"),
        issn=row.get("SN", "EI"),
        doi=normalise_doi(row.get("DI")),
        pmid=normalise_pmid(row.get("PM")),
        accessions=accessions,
        keywords=tuple(split_names(row.get("DE")) + split_names(row.get("ID"))),
        publication_types=tuple(split_names(row.get("DT"))),
        language=row.get("LA"),
    )


def _scopus(row: Row, path: Path, source: str) -> SourceRecord:
    eid = row.get("EID")
    accessions: dict[str, str] = {AccessionKind.SCOPUS: eid} if eid else {}
    trials = find_nct_numbers(row.get("Abstract"))
    if trials:
        accessions[AccessionKind.NCT] = trials[0]
    start, end = row.get("Page start"), row.get("Page end")
    return SourceRecord(
        source=source,
        format=SCOPUS_FORMAT,
        origin=path.name,
        line=row.line,
        title=plain(row.get("Title")),
        abstract=_scopus_abstract(row.get("Abstract")),
        authors=authors_from_names(_scopus_names(row)),
        year=year_of(row.get("Year")),
        journal=row.get("Source title"),
        journal_abbrev=row.get("Abbreviated Source Title"),
        volume=row.get("Volume"),
        issue=row.get("Issue"),
        pages=f"{start}-{end}" if start and end else start or row.get("Art. No."),
        issn=row.get("ISSN"),
        doi=normalise_doi(row.get("DOI")),
        pmid=normalise_pmid(row.get("PubMed ID")),
        accessions=accessions,
        url=row.get("Link"),
        keywords=tuple(
            split_names(row.get("Author Keywords")) + split_names(row.get("Index Keywords"))
        ),
        publication_types=tuple(split_names(row.get("Document Type"))),
        language=row.get("Language of Original Document"),
    )


def _scopus_names(row: Row) -> list[str]:
    """Full names without their Scopus author ids; else "Authors", split the way it is written."""
    full = row.get("Author full names")
    if full:
        return [_AUTHOR_ID.sub("", name) for name in split_names(full)]
    names = row.get("Authors")
    if names.startswith("[No author name available]"):
        return []
    return split_names(names, ";" if ";" in names else ",")


def _scopus_abstract(text: str) -> str:
    """Scopus writes "[No abstract available]" where there is none."""
    return "" if text.startswith("[No abstract available]") else plain(text)
