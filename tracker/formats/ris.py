"""RIS exports → :class:`~tracker.source_record.SourceRecord`, through rispy, vendor by vendor.

rispy (its ``RisParser``) splits the file into entries and tags; this module checks the file's
shape first, because rispy silently drops an entry with no ``ER`` line (a truncated file reads
as one record short) and merges one into the next when an ``ER`` is missing between them.
:func:`check_structure` refuses both, naming the line. Tags are read under their own two
letters (an identity mapping over rispy's tag list, every tag as a list), so vendor quirks can
be written against the tags vendors document:

- Embase on Ovid: the abstract in ``N2`` (and sometimes ``AB`` too: the longer is kept), the
  Embase accession in ``AN`` with ``DB - Embase``; Ovid MEDLINE puts the PMID in ``AN``.
- Embase.com (Elsevier): ``T1``/``A1``/``Y1``/``N2``/``JF``/``JA``, the Embase id as ``L…`` in
  ``U2`` (and in the ``UR`` link's ``id=L…``), the MEDLINE PMID in ``C5``, ``DB`` repeated.
- Cochrane Library (CENTRAL): a "Provider: …" header above the records, the accession
  ``CN-…`` in ``ID`` (or ``AN``), the record's link in ``US``; trial registry numbers (NCT…)
  in text fields, and registry records (from ClinicalTrials.gov) named by their registry link.
- Web of Science: the accession ``WOS:…`` in ``AN``.
- Scopus: ``DB - Scopus``, the DOI in ``DO``, the EID (``2-s2.0-…``) in the ``UR`` link.
- EndNote and Zotero: ``SP`` may hold the whole page range, ``C2`` a PMCID, and a "PMID: …"
  line in ``N1`` or ``M1`` (Zotero's Extra field).

Where each quirk was read is listed in tests/imports/README.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import rispy

from tracker.formats.names import authors_from_names
from tracker.formats.refusal import ImportRefusedError
from tracker.source_record import (
    AccessionKind,
    RecordKind,
    SourceRecord,
    find_nct_numbers,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    plain,
    year_of,
)

FORMAT = "RIS"
Fields = dict[str, list[str]]

_TAGS = [tag for tag in rispy.TAG_KEY_MAPPING if tag not in ("ER", "UK")]
_PARSER_OPTIONS = {
    "mapping": {tag: tag for tag in rispy.TAG_KEY_MAPPING},
    "list_tags": [tag for tag in _TAGS if tag != "TY"],
}
_EXPECTED = "RIS: every record from a 'TY  - ' line to an 'ER  - ' line"
_WOS = re.compile(r"\bWOS:\d{15}\b")
_EID = re.compile(r"\b2-s2\.0-\d{8,12}\b")
_CENTRAL = re.compile(r"\bCN-\d{8}\b")
_EMBASE_L = re.compile(r"\bL\d{9,11}\b")
_PMID_TEXT = re.compile(r"\b(?:PMID|PUBMED)\s*:?\s*(\d{1,9})\b", re.IGNORECASE)
_PROSE = frozenset({"AB", "N2", "TI", "T1"})
"""Tags whose text may mention ids of other records (a cited PMID); ids are read elsewhere."""
_REGISTRY = re.compile(r"clinicaltrials\.gov|trialsearch\.who\.int|trial registry record", re.I)


def read_ris(text: str, path: Path, *, source: str | None = None) -> list[SourceRecord]:
    """Every record of an RIS file, or ImportRefusedError naming the line that breaks the format."""
    lines = text.splitlines()
    starts = check_structure(lines, path)
    entries = rispy.RisParser(**_PARSER_OPTIONS).parse_lines(iter(lines))
    if len(entries) != len(starts):
        raise ImportRefusedError(
            path,
            f"{len(starts)} records open with TY but {len(entries)} could be read",
            expected=_EXPECTED,
        )
    return [
        _record(_fields(entry), path, line, source)
        for entry, line in zip(entries, starts, strict=True)
    ]


def check_structure(lines: list[str], path: Path) -> list[int]:
    """The line each record starts on; refuses a record left open (no ER) or an ER alone."""
    starts: list[int] = []
    open_at: int | None = None
    for number, line in enumerate(lines, start=1):
        tag = line.lstrip("\ufeff")[:5]
        if tag == "TY  -":
            if open_at is not None:
                raise ImportRefusedError(
                    path,
                    f"the record that starts on line {open_at} has no"
                    " ER line before the next record",
                    line=number,
                    expected=_EXPECTED,
                )
            open_at = number
            starts.append(number)
        elif tag == "ER  -" or line.rstrip() == "ER":
            if open_at is None:
                raise ImportRefusedError(
                    path, "an ER line closes no record", line=number, expected=_EXPECTED
                )
            open_at = None
    if open_at is not None:
        raise ImportRefusedError(
            path,
            f"the file ends inside the record that starts on line"
            f" {open_at}: it is cut off (no ER line)",
            line=len(lines),
            expected=_EXPECTED,
        )
    if not starts:
        raise ImportRefusedError(path, "no record (no 'TY  - ' line)", line=1, expected=_EXPECTED)
    return starts


def _fields(entry: dict[str, object]) -> Fields:
    fields: Fields = {}
    for tag, value in entry.items():
        if tag == "UK" and isinstance(value, dict):
            for unknown, values in value.items():
                fields.setdefault(unknown, []).extend(str(v) for v in values)
        elif isinstance(value, list):
            fields[tag] = [str(v).strip() for v in value if str(v).strip()]
        elif value is not None:
            fields[tag] = [str(value).strip()]
    return fields


def _one(fields: Fields, *tags: str) -> str:
    """The first tag present, its lines joined: a wrapped value is one value."""
    for tag in tags:
        if fields.get(tag):
            return " ".join(fields[tag])
    return ""


def _all(fields: Fields) -> Iterator[str]:
    for values in fields.values():
        yield from values


def _record(fields: Fields, path: Path, line: int, source: str | None) -> SourceRecord:
    abstracts = [plain(_one(fields, tag)) for tag in ("AB", "N2")]
    record = SourceRecord(
        source=source or _source(fields),
        format=FORMAT,
        origin=path.name,
        line=line,
        title=plain(_one(fields, "TI", "T1", "CT")),
        abstract=max(abstracts, key=len),
        authors=authors_from_names([*fields.get("AU", []), *fields.get("A1", [])]),
        year=year_of(_one(fields, "PY", "Y1", "DA")),
        volume=_one(fields, "VL"),
        issue=_one(fields, "IS"),
        pages=_pages(fields),
        issn=_one(fields, "SN").split(" ")[0],
        keywords=tuple(fields.get("KW", [])),
        publication_types=tuple(dict.fromkeys([*fields.get("M3", []), *fields.get("TY", [])])),
        language=_one(fields, "LA"),
        url=_one(fields, "UR", "US", "L2"),
    )
    return _ids(_journal(record, fields), fields)


def _journal(record: SourceRecord, fields: Fields) -> SourceRecord:
    """Full name from JF, T2 or JO; the abbreviation from J2, JA, or JO when a full name exists.

    Zotero reads JO as the abbreviation and the RIS specification as the full name: JO is
    taken as full only when nothing else names the journal.
    """
    full = _one(fields, "JF", "T2") or _one(fields, "JO")
    abbrev = _one(fields, "J2", "JA") or (_one(fields, "JO") if _one(fields, "JF", "T2") else "")
    if full.startswith(("http://", "https://")):  # CENTRAL names a registry record by its link
        return replace(record, url=full, journal_abbrev=plain(abbrev))
    return replace(record, journal=plain(full), journal_abbrev=plain(abbrev))


def _pages(fields: Fields) -> str:
    start, end = _one(fields, "SP"), _one(fields, "EP")
    return f"{start}-{end}" if start and end and "-" not in start else start or end


def _ids(record: SourceRecord, fields: Fields) -> SourceRecord:
    text = " ".join(_all(fields))
    ids_text = " ".join(v for tag, vs in fields.items() if tag not in _PROSE for v in vs)
    databases = " ".join(fields.get("DB", [])).casefold()
    accessions: dict[str, str] = {}
    for kind, pattern in (
        (AccessionKind.WOS, _WOS),
        (AccessionKind.SCOPUS, _EID),
        (AccessionKind.CENTRAL, _CENTRAL),
    ):
        found = pattern.search(ids_text)
        if found:
            accessions[kind] = found.group(0)
    embase = _embase_id(fields, databases)
    if embase:
        accessions[AccessionKind.EMBASE] = embase
    trials = find_nct_numbers(text)
    if trials:
        accessions[AccessionKind.NCT] = trials[0]
    registry = bool(accessions.get(AccessionKind.CENTRAL)) and bool(
        _REGISTRY.search(" ".join([_one(fields, "JO", "T2", "JF"), *fields.get("M3", [])]))
    )
    return replace(
        record,
        doi=_doi(fields),
        pmid=_pmid(fields, databases, ids_text),
        pmcid=normalise_pmcid(" ".join([*fields.get("C2", []), *fields.get("N1", [])])),
        accessions=accessions,
        kind=RecordKind.TRIAL if registry else RecordKind.ARTICLE,
    )


def _doi(fields: Fields) -> str:
    for tag in ("DO", "DI", "L2", "UR", "M3", "N1"):
        for value in fields.get(tag, []):
            if tag in ("DO", "DI") or "doi" in value.casefold():
                doi = normalise_doi(value)
                if doi:
                    return doi
    return ""


def _embase_id(fields: Fields, databases: str) -> str:
    """Embase.com's ``L…`` id (U2, or the link), or Ovid Embase's ``AN`` accession."""
    for value in [*fields.get("U2", []), *fields.get("UR", []), *fields.get("ID", [])]:
        found = _EMBASE_L.search(value)
        if found:
            return found.group(0)
    accession = _one(fields, "AN")
    if "embase" in databases and accession.isdigit():
        return accession
    return ""


def _pmid(fields: Fields, databases: str, text: str) -> int | None:
    """C5 (Embase.com), AN of an Ovid MEDLINE record, Scopus's C2, or "PMID: …" in a note."""
    for value in fields.get("C5", []):
        if normalise_pmid(value):
            return normalise_pmid(value)
    accession = _one(fields, "AN")
    if (
        ("medline" in databases or "pubmed" in databases)
        and "embase" not in databases
        and normalise_pmid(accession)
    ):
        return normalise_pmid(accession)
    if "scopus" in databases and normalise_pmid(_one(fields, "C2")):
        return normalise_pmid(_one(fields, "C2"))
    found = _PMID_TEXT.search(text)
    return int(found.group(1)) if found else None


def _source(fields: Fields) -> str:
    """The database a record came from, from what the record itself says."""
    databases = " ".join([*fields.get("DB", []), *fields.get("DP", [])]).casefold()
    text = " ".join(_all(fields))
    if "embase" in databases:
        return "Embase"
    if "scopus" in databases or _EID.search(_one(fields, "UR")):
        return "Scopus"
    if _WOS.search(_one(fields, "AN", "UT")) or "web of science" in databases:
        return "Web of Science"
    if _CENTRAL.search(text) or "cochrane" in databases:
        return "CENTRAL"
    if "medline" in databases or "pubmed" in databases:
        return "PubMed"
    return _one(fields, "DB", "DP")
