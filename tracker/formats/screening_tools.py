"""Exports of screening tools (Rayyan, Covidence, ASReview) → SourceRecord with ToolDecisions.

A team that moves a review in brings its decisions; each becomes a :class:`ToolDecision` on its
record, and whoever wires the import signs them as events by a named reviewer. Shapes:

- Rayyan's CSV (columns key, title, authors, journal, issn, volume, issue, pages, year,
  publisher, url, abstract, notes, doi, keywords) keeps the screening work in ``notes``:
  ``RAYYAN-INCLUSION: {"Ana"=>"Included", "Ben"=>"Excluded"} | RAYYAN-LABELS: RCT,pain |
  RAYYAN-EXCLUSION-REASONS: wrong population | USER-NOTES: {"Ana"=>["check dose"]}``. Each
  reviewer's decision keeps the reviewer's display name; the record's exclusion reasons go
  with its exclude decisions. Rayyan's export does not say the stage.
- Covidence exports one list at a time (Title, Authors, Abstract, Published Year, Journal,
  Volume, Issue, Pages, Accession Number, DOI, Ref, Covidence #, Study, Notes, Tags) and names
  the list in the file name, ``review_<id>_<list>_csv_<time>.csv``: ``included`` and
  ``excluded`` are full-text decisions, ``irrelevant`` a title/abstract exclusion. Another
  list (or a renamed file) gives records without decisions, with a warning.
- ASReview's export keeps the dataset's own columns and adds the label: ``included`` (1, 0 or
  blank: ASReview 1) or ``asreview_label`` (ASReview 2, with ``asreview_note``), and
  ``asreview_ranking``. Its labels are title/abstract decisions by one unnamed screener.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from tracker.formats.names import authors_from_names, split_names
from tracker.formats.table import Row, read_table
from tracker.records import Decision, Stage
from tracker.source_record import (
    SourceRecord,
    ToolDecision,
    normalise_doi,
    normalise_pmid,
    plain,
    year_of,
)

RAYYAN_FORMAT, COVIDENCE_FORMAT, ASREVIEW_FORMAT = "Rayyan CSV", "Covidence CSV", "ASReview CSV"
_RAYYAN_VALUES = {
    "included": Decision.INCLUDE,
    "excluded": Decision.EXCLUDE,
    "maybe": Decision.MAYBE,
}
_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*"((?:[^"\\]|\\.)*)"')
_NOTES = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*\[(.*?)\]')
_SECTION = re.compile(r"(RAYYAN-[A-Z-]+|USER-NOTES):\s*")
_COVIDENCE_LIST = re.compile(r"_(included|excluded|irrelevant)_csv", re.IGNORECASE)
_COVIDENCE_DECISIONS = {
    "included": (Decision.INCLUDE, Stage.FULL_TEXT),
    "excluded": (Decision.EXCLUDE, Stage.FULL_TEXT),
    "irrelevant": (Decision.EXCLUDE, Stage.TITLE_ABSTRACT),
}


def read_rayyan(
    text: str, path: Path, *, source: str | None = None
) -> tuple[list[SourceRecord], list[str]]:
    table = read_table(
        text, path, title_columns=("title",), expected="Rayyan CSV (key, title, authors, …, notes)"
    )
    return [_rayyan(row, path, source or "Rayyan") for row in table.rows], []


def read_covidence(
    text: str, path: Path, *, source: str | None = None
) -> tuple[list[SourceRecord], list[str]]:
    table = read_table(
        text,
        path,
        title_columns=("Title",),
        expected="Covidence CSV (Title, Authors, …, Covidence #)",
    )
    listed = _COVIDENCE_LIST.search(path.name)
    decided = _COVIDENCE_DECISIONS.get(listed.group(1).casefold()) if listed else None
    warnings = (
        []
        if decided
        else [
            "the file name does not say which Covidence list it holds (included, excluded or"
            " irrelevant), so its records carry no decision"
        ]
    )
    records = [_covidence(row, path, source or "Covidence", decided) for row in table.rows]
    return records, warnings


def read_asreview(
    text: str, path: Path, *, source: str | None = None
) -> tuple[list[SourceRecord], list[str]]:
    table = read_table(
        text,
        path,
        title_columns=("title", "primary_title"),
        expected="ASReview CSV (record_id, title, …, included or asreview_label)",
    )
    label = "asreview_label" if table.has("asreview_label") else "included"
    return [_asreview(row, path, source or "ASReview", label) for row in table.rows], []


def _common(row: Row, path: Path, source: str, format_: str, table_authors: str) -> SourceRecord:
    authors = row.get(table_authors)
    separator = " and " if " and " in authors and ";" not in authors else ";"
    return SourceRecord(
        source=source,
        format=format_,
        origin=path.name,
        line=row.line,
        title=plain(row.get("title", "primary_title")),
        abstract=plain(row.get("abstract", "notes_abstract")),
        authors=authors_from_names(split_names(authors, separator)),
        year=year_of(row.get("year", "published year", "publication_year")),
        journal=row.get("journal", "secondary_title", "journal_name"),
        volume=row.get("volume"),
        issue=row.get("issue", "number"),
        pages=row.get("pages"),
        issn=row.get("issn"),
        doi=normalise_doi(row.get("doi")),
        pmid=normalise_pmid(row.get("pmid", "pubmed_id", "pubmedid")),
        url=row.get("url"),
        keywords=tuple(split_names(row.get("keywords"))),
        language=row.get("language"),
    )


def _rayyan(row: Row, path: Path, source: str) -> SourceRecord:
    record = _common(row, path, source, RAYYAN_FORMAT, "authors")
    sections, free_text = rayyan_notes(row.get("notes"))
    reasons = "; ".join(split_names(sections.get("RAYYAN-EXCLUSION-REASONS", ""), ","))
    notes = {
        name: "; ".join(_quoted(items))
        for name, items in _NOTES.findall(sections.get("USER-NOTES", ""))
    }
    decisions = []
    for name, value in _PAIR.findall(sections.get("RAYYAN-INCLUSION", "")):
        decision = _RAYYAN_VALUES.get(value.casefold())
        if decision is not None:
            decisions.append(
                ToolDecision(
                    decision,
                    "Rayyan",
                    reviewer_label=name,
                    notes=notes.get(name, free_text),
                    reason=reasons if decision is Decision.EXCLUDE else "",
                )
            )
    labels = tuple(split_names(sections.get("RAYYAN-LABELS", ""), ","))
    return replace(record, labels=labels, decisions=tuple(decisions))


def rayyan_notes(notes: str) -> tuple[dict[str, str], str]:
    """Rayyan's ``notes`` cell split into its RAYYAN-… sections and the free text left over."""
    parts = _SECTION.split(notes)
    free = parts[0].strip(" |")
    sections = {
        parts[i]: parts[i + 1].strip().rstrip("|").strip() for i in range(1, len(parts) - 1, 2)
    }
    return sections, free


def _covidence(
    row: Row, path: Path, source: str, decided: tuple[Decision, Stage] | None
) -> SourceRecord:
    record = _common(row, path, source, COVIDENCE_FORMAT, "authors")
    labels = tuple(split_names(row.get("Tags")))
    if decided is None:
        return replace(record, labels=labels)
    decision, stage = decided
    found = ToolDecision(decision, "Covidence", notes=row.get("Notes"), stage=stage)
    return replace(record, labels=labels, decisions=(found,))


def _asreview(row: Row, path: Path, source: str, label: str) -> SourceRecord:
    record = _common(row, path, source, ASREVIEW_FORMAT, "authors")
    value = row.get(label).removesuffix(".0")
    decision = {"1": Decision.INCLUDE, "0": Decision.EXCLUDE}.get(value)
    if decision is None:
        return record
    note = row.get("asreview_note", "exported_notes_1")
    found = ToolDecision(decision, "ASReview", notes=note, stage=Stage.TITLE_ABSTRACT)
    return replace(record, decisions=(found,))


def _quoted(items: str) -> list[str]:
    return [item for item in re.findall(r'"((?:[^"\\]|\\.)*)"', items) if item.strip()]
