"""PubMed's MEDLINE text (.nbib, "Send to: Citation manager") → SourceRecord, via Bio.Medline.

Biopython's ``Bio.Medline.parse`` reads the tags and continuation lines but checks nothing, so
:func:`read_medline` checks the shape first, line by line: every line is a tag line (``TAG`` padded
to four characters, then ``- ``) or a continuation (six spaces); every record has a PMID; and
since PubMed ends each record with ``SO`` (the citation), a file whose last record lacks the
``SO`` that the others have is cut off. Tags used (NLM's "MEDLINE/PubMed Data Element (Field)
Descriptions"): PMID, TI, AB, FAU/AU, DP, TA/JT, VI, IP, PG, IS, LID/AID (``… [doi]``), PMC,
PT, LA, OT and MH (as keywords), SI (secondary ids: ``ClinicalTrials.gov/NCT…``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from Bio import Medline

from tracker.formats.names import authors_from_names
from tracker.formats.refusal import ImportRefusedError
from tracker.source_record import (
    AccessionKind,
    SourceRecord,
    find_nct_numbers,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    year_of,
)

FORMAT = "MEDLINE text"
_EXPECTED = "PubMed MEDLINE text: 'PMID- ' records of 'TAG - value' lines"
_LINE = re.compile(r"^(?:[A-Z][A-Z0-9]{0,3} {0,3}- |      )")


def read_medline(text: str, path: Path, *, source: str | None = None) -> list[SourceRecord]:
    """Every record of a MEDLINE file, or ImportRefusedError naming the line at fault."""
    chunks = _records(text.splitlines(), path)
    items = [_parsed(lines) for _, lines in chunks]
    ends = ["SO" in item for item in items]
    if any(ends) and not ends[-1]:
        raise ImportRefusedError(
            path,
            f"the last record (line {chunks[-1][0]}) stops before its SO line: the file is cut off",
            line=len(text.splitlines()),
            expected=_EXPECTED,
        )
    return [
        _record(item, path, start, source) for item, (start, _) in zip(items, chunks, strict=True)
    ]


def _parsed(lines: list[str]) -> dict[str, Any]:
    """One record's tags by Bio.Medline: text tags joined, list tags (AU, PT, …) as lists."""
    return dict(next(Medline.parse(lines)))  # type: ignore[no-untyped-call]


def _records(lines: list[str], path: Path) -> list[tuple[int, list[str]]]:
    """(first line, lines) per record, records being separated by blank lines."""
    chunks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.lstrip("\ufeff").rstrip("\r")
        if not line.strip():
            current = []
            continue
        if not _LINE.match(line):
            raise ImportRefusedError(
                path,
                f"a line that is neither a tag nor a continuation: {line[:40]!r}",
                line=number,
                expected=_EXPECTED,
            )
        if not current:
            if not line.startswith("PMID- "):
                raise ImportRefusedError(
                    path,
                    "a record that does not start with its PMID",
                    line=number,
                    expected=_EXPECTED,
                )
            chunks.append((number, current))
        current.append(line + "\n")
    if not chunks:
        raise ImportRefusedError(path, "no record", line=1, expected=_EXPECTED)
    return chunks


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key, "")
    return " ".join(value) if isinstance(value, list) else str(value)


def _list(item: dict[str, Any], key: str) -> tuple[str, ...]:
    value = item.get(key, [])
    return tuple(value) if isinstance(value, list) else (str(value),)


def _record(item: dict[str, Any], path: Path, line: int, source: str | None) -> SourceRecord:
    ids = [*_list(item, "LID"), *_list(item, "AID")]
    doi = next((normalise_doi(v) for v in ids if v.endswith("[doi]")), "")
    trials = find_nct_numbers(" ".join(_list(item, "SI")), _text(item, "AB"))
    names = _list(item, "FAU") or _list(item, "AU")
    return SourceRecord(
        source=source or "PubMed",
        format=FORMAT,
        origin=path.name,
        line=line,
        title=_text(item, "TI"),
        abstract=_text(item, "AB"),
        authors=authors_from_names([*names, *_list(item, "CN")]),
        year=year_of(_text(item, "DP")),
        journal=_text(item, "JT"),
        journal_abbrev=_text(item, "TA"),
        volume=_text(item, "VI"),
        issue=_text(item, "IP"),
        pages=_text(item, "PG"),
        issn=_list(item, "IS")[0].split(" ")[0] if item.get("IS") else "",
        doi=doi,
        pmid=normalise_pmid(_text(item, "PMID")),
        pmcid=normalise_pmcid(_text(item, "PMC")),
        accessions={AccessionKind.NCT.value: trials[0]} if trials else {},
        keywords=tuple(dict.fromkeys([*_list(item, "OT"), *_list(item, "MH")])),
        publication_types=_list(item, "PT"),
        language=_list(item, "LA")[0] if item.get("LA") else "",
    )
