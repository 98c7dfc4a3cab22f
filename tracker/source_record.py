"""The shape of a record from any database a review searches: :class:`SourceRecord`.

PubMed's :class:`~tracker.records.Article` knows one database; a review also searches Embase,
CENTRAL, Web of Science, Scopus and ClinicalTrials.gov, and moves screening work in from
Rayyan, Covidence or ASReview. Every reader in ``tracker.formats`` and the ClinicalTrials.gov
client produce this one neutral shape, so the store, the matcher and the exporters need to know
no vendor. It holds what the source said, cleaned only where a comparison needs it:

- ``doi`` is lower-case, without ``https://doi.org/`` or ``doi:`` (:func:`normalise_doi`);
- ``authors`` are :class:`~tracker.records.Author` values, the same type PubMed records use, so
  the RIS and BibTeX writers serve both (``Author.display`` gives "Smith JA");
- ``accessions`` maps an id kind (:class:`AccessionKind`: ``embase``, ``scopus``, ``wos``,
  ``central``, ``nct``) to the id as the source writes it (``"WOS:000123456700001"``,
  ``"2-s2.0-85012345678"``, ``"CN-01234567"``, ``"NCT01234567"``);
- ``kind`` tells a journal report from a trial *registration* (a ClinicalTrials.gov study, or
  a CENTRAL record copied from a registry): two registrations with one NCT number are the same
  record, while an article naming that NCT number is only *related* to it.

Decisions found in a screening tool's export are kept apart from the metadata, as
:class:`ToolDecision` values, because they become events signed by a named reviewer, never
fields of a record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tracker.records import Article, Author, Decision, Stage


class AccessionKind(StrEnum):
    """The databases whose own record ids a record may carry besides PMID, PMCID and DOI."""

    EMBASE = "embase"
    SCOPUS = "scopus"
    WOS = "wos"
    CENTRAL = "central"
    NCT = "nct"


class RecordKind(StrEnum):
    """A report in the literature, or a trial's registration in a registry."""

    ARTICLE = "article"
    TRIAL = "trial"


@dataclass(frozen=True, slots=True)
class ToolDecision:
    """One decision a screening tool's export records for a row.

    ``reviewer_label`` is the tool's own name for the person (Rayyan's display name), empty
    when the tool exports one unsigned decision (ASReview, a Covidence list): whoever moves the
    review in names the reviewer the event is signed with. ``stage`` is None when the export
    does not say which stage the decision belongs to.
    """

    decision: Decision
    tool: str
    reviewer_label: str = ""
    reason: str = ""
    notes: str = ""
    stage: Stage | None = None


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as one source gave it: where it came from, what it says, which ids it has.

    ``origin`` is the file name (or ``"ClinicalTrials.gov API"``); ``line`` the line its entry
    starts on in that file, ``page`` the API page it arrived on. Trial fields (``conditions`` to
    ``linked_pmids``) are empty for articles; dates are ISO 8601 to the precision given
    ("2021", "2021-03", "2021-03-15"). Not hashable: ``accessions`` is a mapping.
    """

    source: str
    format: str
    origin: str
    line: int | None = None
    page: int | None = None
    kind: RecordKind = RecordKind.ARTICLE
    title: str = ""
    abstract: str = ""
    authors: tuple[Author, ...] = ()
    year: int | None = None
    journal: str = ""
    journal_abbrev: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    issn: str = ""
    doi: str = ""
    pmid: int | None = None
    pmcid: str = ""
    accessions: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    keywords: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    language: str = ""
    conditions: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    phase: str = ""
    status: str = ""
    enrolment: int | None = None
    start_date: str = ""
    completion_date: str = ""
    linked_pmids: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    decisions: tuple[ToolDecision, ...] = ()

    @property
    def first_author(self) -> str:
        """The first author's family name (or group name), as the source spelled it."""
        if not self.authors:
            return ""
        first = self.authors[0]
        return first.collective_name or first.last_name

    @property
    def nct(self) -> str:
        """The trial registration number this record carries, or ``""``."""
        return self.accessions.get(AccessionKind.NCT, "")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """A whole file, read: every record it holds, or (from the reader) an error instead."""

    path: Path
    format: str
    source: str
    records: tuple[SourceRecord, ...]
    warnings: tuple[str, ...] = ()
    articles: tuple[Article, ...] = ()
    deleted: tuple[int, ...] = ()
    """For a PubMed XML file, its records whole (MeSH, grants and all, which a SourceRecord
    does not carry) and the PMIDs it lists as deleted, so nobody parses it twice."""

    @property
    def decisions(self) -> int:
        """How many tool decisions the file carries, over all its records."""
        return sum(len(record.decisions) for record in self.records)


_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_NCT = re.compile(r"\bNCT\s?(\d{8})\b", re.IGNORECASE)
_PMCID = re.compile(r"\bPMC\d+\b", re.IGNORECASE)


def normalise_doi(text: str) -> str:
    """``"https://doi.org/10.1097/J.PAIN.0001"`` → ``"10.1097/j.pain.0001"``; ``""`` when none.

    DOIs are case-insensitive by definition (DOI Handbook, section 2.4), and vendors print them
    with a resolver prefix, a ``doi:`` label, percent-encoded slashes (Scopus links) or a
    trailing full stop; none of that is part of the name.
    """
    value = _DOI_PREFIX.sub("", text.strip()).replace("%2F", "/").replace("%2f", "/")
    found = _DOI.search(value)
    if found is None:
        return ""
    return found.group(0).rstrip(".,;)]").casefold()


def normalise_pmid(value: object) -> int | None:
    """A PMID from ``31234567``, ``"31234567"``, ``"PMID: 31234567"`` or ``"31234567.0"``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    digits = re.fullmatch(r"\s*(?:PMID:?\s*)?(\d{1,9})(?:\.0)?\s*", str(value), re.IGNORECASE)
    return int(digits.group(1)) if digits and int(digits.group(1)) > 0 else None


def normalise_pmcid(text: str) -> str:
    """``"pmc1234567"`` or ``"PMCID: PMC1234567"`` → ``"PMC1234567"``; ``""`` when none."""
    found = _PMCID.search(text)
    return found.group(0).upper() if found else ""


def find_nct_numbers(*texts: str) -> tuple[str, ...]:
    """Every ClinicalTrials.gov number (``NCT`` + 8 digits) in the texts, first seen first."""
    found = (f"NCT{m.group(1)}" for text in texts for m in _NCT.finditer(text))
    return tuple(dict.fromkeys(found))


def year_of(text: str) -> int | None:
    """The first plausible publication year (1800–2099) in a date as any vendor writes it."""
    found = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", text)
    return int(found.group(1)) if found else None


def plain(text: str) -> str:
    """Inline HTML removed and spacing collapsed: what a title or abstract says, as text."""
    without_tags = re.sub(r"<[^>]{1,40}>", " ", unicodedata.normalize("NFC", text))
    return " ".join(without_tags.split())
