"""Imports: PubMed XML files as one run (:func:`import_files`), and exports from any database
or screening tool, one run per database, merged across databases (:func:`import_exports`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracker.errors import ConfigError, TrackerError
from tracker.formats import ACCEPTED, read_file
from tracker.merging import MergeSummary, merge_automatic
from tracker.parse import read_articles
from tracker.records import PUBMED, Action, Article, Stage
from tracker.screening import check_reviewer, exclusion_reasons
from tracker.source_record import SourceRecord
from tracker.store import Event, RunSummary, Store


def import_files(
    store: Store, paths: Sequence[str | os.PathLike[str]]
) -> tuple[RunSummary, list[int]]:
    """Parse every file, then store them together; a bad file leaves the store untouched.

    Returns the run summary and the PMIDs that the files list as deleted (MEDLINE update files),
    which are reported, never removed: a deleted record may carry screening decisions.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ConfigError("No file given: name one or more PubMed XML files (.xml or .xml.gz).")
    for path in files:
        if not path.is_file():
            raise ConfigError(f"{path} does not exist or is not a file: check the path.")
    run_id = store.begin_run(
        kind="import", query="import " + ", ".join(p.name for p in files), api_key_used=False
    )
    with store.failing_run(run_id):
        articles, deleted = _read_all(files)
        warnings = [f"{len(deleted)} PMIDs listed as deleted by NCBI: kept"] if deleted else []
        summary = store.complete_run(run_id, articles, count=len(articles), warnings=warnings)
    return summary, sorted(set(deleted))


def _read_all(files: Sequence[Path]) -> tuple[list[Article], list[int]]:
    articles: list[Article] = []
    deleted: list[int] = []
    for path in files:
        result = read_articles(path)
        articles.extend(result.articles)
        deleted.extend(result.deleted)
    return articles, deleted


# -- exports from every database a review searches ------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceImport:
    """One database's part of an import: its run, its files and what they brought."""

    source: str
    files: tuple[str, ...]
    formats: tuple[str, ...]
    summary: RunSummary
    decisions: int = 0


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What ``import_exports`` did: a run per database, the merges across databases, the
    decisions moved in from a screening tool, and what the files warned of."""

    sources: tuple[SourceImport, ...]
    merges: MergeSummary
    deleted: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def decisions(self) -> int:
        return sum(part.decisions for part in self.sources)


@dataclass(slots=True)
class _Read:
    source: str
    files: list[Path] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    records: list[SourceRecord] = field(default_factory=list)


def import_exports(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    *,
    source: str | None = None,
    reviewer: str = "",
) -> ImportOutcome:
    """Import exports of any accepted format (:data:`tracker.formats.ACCEPTED`), told apart
    by their content, then merge what several databases both hold.

    Every file is read, and every screening-tool decision checked, before anything is stored:
    a bad file changes nothing. The files of each database become one run (a search in
    PRISMA-S's sense), so the search log and PRISMA count each database; each run lands whole
    or not at all. ``source`` names the database when the files do not say it (or say it
    wrongly). Decisions in a Rayyan, Covidence or ASReview export become events signed by the
    tool's own reviewer name when it gives one, else by ``reviewer``, who must be named.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ConfigError(f"No file given: name one or more exports ({ACCEPTED}).")
    for path in files:
        if not path.is_file():
            raise ConfigError(f"{path} does not exist or is not a file: check the path.")
    try:
        parts, deleted, warnings = _read_exports(files, source)
    except TrackerError as exc:
        # Logged as a failed run, so the search log says what was tried and why it failed.
        query = "import " + ", ".join(p.name for p in files)
        run_id = store.begin_run(kind="import", query=query, api_key_used=False,
                                 source=source or "unknown")  # fmt: skip
        reason = str(exc)
        for path in files:  # the log names files as the query does: by name, not by where
            reason = reason.replace(str(path), path.name)  # a browser upload was kept for a while
        store.fail_run(run_id, reason)
        raise
    moved_in = [r for part in parts.values() for r in part.records if r.decisions]
    who = check_reviewer(reviewer) if moved_in else ""
    done = []
    for part in parts.values():
        summary = _store_part(store, part)
        decisions = _move_decisions_in(store, part.records, who)
        done.append(SourceImport(part.source, tuple(p.name for p in part.files),
                                 tuple(part.formats), summary, decisions))  # fmt: skip
    merges = merge_automatic(store)
    return ImportOutcome(tuple(done), merges, tuple(sorted(set(deleted))), tuple(warnings))


def _read_exports(
    files: Sequence[Path], source: str | None
) -> tuple[dict[str, _Read], list[int], list[str]]:
    """Every file read whole, grouped by database; the first bad file raises."""
    parts: dict[str, _Read] = {}
    deleted: list[int] = []
    warnings: list[str] = []
    for path in files:
        result = read_file(path, source=source)
        warnings += [f"{path.name}: {w}" for w in result.warnings]
        name = result.source or source or "unnamed source"
        part = parts.setdefault(name, _Read(name))
        part.files.append(path)
        part.formats.append(result.format)
        if result.articles and name == PUBMED:
            part.articles += result.articles
            deleted += result.deleted
        else:
            part.records += result.records
    return parts, deleted, warnings


def _store_part(store: Store, part: _Read) -> RunSummary:
    query = "import " + ", ".join(p.name for p in part.files)
    run_id = store.begin_run(kind="import", query=query, api_key_used=False, source=part.source)
    with store.failing_run(run_id):
        count = len(part.articles) + len(part.records)
        return store.complete_run(run_id, part.articles, records=part.records, count=count)


def _move_decisions_in(store: Store, records: Sequence[SourceRecord], reviewer: str) -> int:
    """The tool's decisions as events on the records just stored, in one append."""
    if not any(r.decisions for r in records):
        return 0
    ids = store.ids_of(records)
    # A tool's exclusion reason is kept when it is one of the review's own; otherwise the
    # tool's words stay in the note.
    reasons = set(exclusion_reasons(store))
    events = []
    for record, record_id in zip(records, ids, strict=True):
        for decided in record.decisions:
            own = decided.reason if decided.reason in reasons else ""
            said = f"{decided.tool} reason: {decided.reason}" if decided.reason and not own else ""
            note = "; ".join(x for x in (decided.notes, said, f"from {decided.tool}") if x)
            events.append(
                Event(
                    Action.DECIDE,
                    decided.reviewer_label or reviewer,
                    record_id,
                    str(decided.stage or Stage.TITLE_ABSTRACT),
                    str(decided.decision),
                    own,
                    note,
                )
            )
    store.append_events(events)
    return len(events)
