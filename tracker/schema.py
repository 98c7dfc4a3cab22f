"""The declared shape of every stored table, in one place.

Records follow :data:`RECORD_SCHEMA` (an explicit Arrow schema, so writes are deterministic
and never depend on pandas' type guessing); the logs have the column lists below, which every
backend keeps (the SQL of the embedded one is in :mod:`tracker.sqlite_log`).

Every record is keyed by ``record_id``, the tracker's own id. A record PubMed gave keeps its
PMID as its id (so every event written while records were keyed by PMID still names the right
record, and nothing in the append-only log is rewritten); a record from any other database
gets an id from :data:`FIRST_OWN_ID` up, a range no PMID reaches. ``pmid`` is then an
attribute like DOI or NCT number, empty for a record PubMed does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from tracker.match_keys import fold
from tracker.record_links import OWN_ID_KINDS
from tracker.records import PUBMED, Article
from tracker.source_record import SourceRecord

_TEXT = pa.string()
_LIST = pa.list_(pa.string())

FIRST_OWN_ID = 10_000_000_000
"""The first record id the tracker gives a record PubMed did not give (PMIDs have at most
8 digits today and NLM's format allows 9 at most)."""

RECORD_SCHEMA = pa.schema(
    [
        ("record_id", pa.int64()),
        ("pmid", pa.int64()),
        ("title", _TEXT),
        ("abstract", _TEXT),
        ("authors", _LIST),
        ("authors_full", _LIST),
        ("first_author_affiliations", _LIST),
        ("author_count", pa.int32()),
        ("journal", _TEXT),
        ("journal_abbrev", _TEXT),
        ("year", pa.int32()),
        ("pub_date", _TEXT),
        ("volume", _TEXT),
        ("issue", _TEXT),
        ("pages", _TEXT),
        ("issn", _TEXT),
        ("doi", _TEXT),
        ("pmcid", _TEXT),
        ("publication_types", _LIST),
        ("mesh_terms", _LIST),
        ("mesh_major", _LIST),
        ("mesh_qualified", _LIST),
        ("keywords", _LIST),
        ("languages", _LIST),
        ("grants", _LIST),
        ("vernacular_title", _TEXT),
        ("record_type", _TEXT),
        # Which databases hold the record (PRISMA's "records identified from"), the record's
        # id in each ("Embase: L2012345"), and what only a trial registration has.
        ("source", _TEXT),
        ("source_ids", _LIST),
        ("kind", _TEXT),
        ("nct", _TEXT),
        ("url", _TEXT),
        ("conditions", _LIST),
        ("interventions", _LIST),
        ("phase", _TEXT),
        ("status", _TEXT),
        ("enrolment", pa.int64()),
        ("start_date", _TEXT),
        ("completion_date", _TEXT),
        ("linked_pmids", pa.list_(pa.int64())),
    ]
)

COLUMNS: tuple[str, ...] = tuple(RECORD_SCHEMA.names)
LIST_COLUMNS: frozenset[str] = frozenset(f.name for f in RECORD_SCHEMA if pa.types.is_list(f.type))


def article_row(article: Article) -> dict[str, Any]:
    """Flatten an Article into one row of records.parquet."""
    first = article.authors[0] if article.authors else None
    return {
        "record_id": article.pmid,
        "pmid": article.pmid,
        "title": article.title,
        "abstract": article.abstract,
        "authors": [a.display for a in article.authors],
        "authors_full": [a.full for a in article.authors],
        "first_author_affiliations": list(first.affiliations) if first else [],
        "author_count": len(article.authors),
        "journal": article.journal,
        "journal_abbrev": article.journal_abbrev,
        "year": article.year,
        "pub_date": article.pub_date,
        "volume": article.volume,
        "issue": article.issue,
        "pages": article.pages,
        "issn": article.issn,
        "doi": article.doi,
        "pmcid": article.pmcid,
        "publication_types": list(article.publication_types),
        "mesh_terms": [m.descriptor for m in article.mesh],
        "mesh_major": [m.descriptor for m in article.mesh if m.is_major],
        "mesh_qualified": [
            _qualified(m.descriptor, q.name, q.major) for m in article.mesh for q in m.qualifiers
        ],
        "keywords": list(article.keywords),
        "languages": list(article.languages),
        "grants": [
            " / ".join(p for p in (g.grant_id, g.agency, g.country) if p) for g in article.grants
        ],
        "vernacular_title": article.vernacular_title,
        "record_type": article.record_type,
        **_pubmed_source(article.pmid),
    }


def _pubmed_source(pmid: int) -> dict[str, Any]:
    return {**_NO_TRIAL, "source": PUBMED, "source_ids": [f"{PUBMED}: {pmid}"], "kind": "article"}


_NO_TRIAL: dict[str, Any] = {
    "nct": None, "url": None, "conditions": [], "interventions": [], "phase": None,
    "status": None, "enrolment": None, "start_date": None, "completion_date": None,
    "linked_pmids": [],
}  # fmt: skip


def with_record_ids(table: pa.Table) -> pa.Table:
    """A records table as the PMID-keyed tracker wrote it, in today's schema: each record's id
    is its PMID, its source PubMed (the only database it could hold), the new fields empty."""
    if "record_id" in table.schema.names:
        return table
    pmids = table.column("pmid")
    rows = len(table)
    extra = {
        "record_id": pmids,
        "source": pa.array([PUBMED] * rows, _TEXT),
        "source_ids": pa.array([[f"{PUBMED}: {p}"] for p in pmids.to_pylist()], _LIST),
        "kind": pa.array(["article"] * rows, _TEXT),
    }
    columns = []
    for name in RECORD_SCHEMA.names:
        if name in extra:
            columns.append(extra[name])
        elif name in table.schema.names:
            columns.append(table.column(name))
        else:
            kind = RECORD_SCHEMA.field(name).type
            empty: list[Any] = [[] if pa.types.is_list(kind) else None] * rows
            columns.append(pa.array(empty, kind))
    return pa.Table.from_arrays(columns, schema=RECORD_SCHEMA)


def _qualified(descriptor: str, qualifier: str, major: bool) -> str:
    return f"{descriptor}/{qualifier}{'*' if major else ''}"


def to_frame(table: pa.Table, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Arrow table → DataFrame with plain Python lists and a nullable integer year."""
    frame: pd.DataFrame = table.to_pandas()
    for name in frame.columns:
        if name in LIST_COLUMNS:
            frame[name] = [list(v) if v is not None else [] for v in frame[name]]
    if "year" in frame.columns:
        frame["year"] = frame["year"].astype("Int64")
    if "record_id" in frame.columns:
        frame["record_id"] = frame["record_id"].astype("int64")
    for name in ("pmid", "enrolment"):
        if name in frame.columns:
            frame[name] = frame[name].astype("Int64")
    return frame.reset_index(drop=True)


# -- the logs: column lists every backend shares (the SQL is each backend's own) -------------

EVENT_COLUMNS: tuple[str, ...] = (
    "created_at", "reviewer", "record_id", "stage", "action", "value", "reason", "note",
    "target_id",
)  # fmt: skip
EVENT_DTYPES: dict[str, str] = {
    "id": "int64",
    "record_id": "Int64",
    "target_id": "Int64",
}
RUN_COLUMNS: tuple[str, ...] = (
    "id", "kind", "source", "status", "query", "query_translation", "started_at", "finished_at",
    "count", "retrieved", "new", "updated", "unchanged", "gone", "requests", "retries", "warnings",
    "error", "tool_version", "api_key_used", "pid", "host",
)  # fmt: skip
LOG_TABLES: dict[str, tuple[str, ...]] = {
    "runs": (
        "id", "kind", "query", "started_at", "tool_version", "api_key_used", "pid", "host",
        "source",
    ),
    "run_outcomes": (
        "run_id", "finished_at", "status", "error", "count", "query_translation", "retrieved",
        "new", "updated", "unchanged", "gone", "requests", "retries", "warnings",
    ),
    "run_records": ("run_id", "record_id"),
    "events": ("id", *EVENT_COLUMNS),
}  # fmt: skip
"""Every table of the append-only log with its columns, as each backend stores them, in the
order a copy must write them (a run before its outcome and records)."""
OUTCOME_COLUMNS: tuple[str, ...] = (
    "run_id", "finished_at", "status", "error", "count", "query_translation", "retrieved", "new",
    "updated", "unchanged", "gone", "requests", "retries", "warnings",
)  # fmt: skip


# -- records from other databases ----------------------------------------------------------------


def source_row(record: SourceRecord, record_id: int) -> dict[str, Any]:
    """Flatten a record any reader or the registry client gave into one row of the records."""
    first = record.authors[0] if record.authors else None
    ids = [f"{kind}: {value}" for kind, value in sorted(record.accessions.items())]
    if record.pmid is not None:
        ids.insert(0, f"{PUBMED}: {record.pmid}")
    return {
        **dict.fromkeys(COLUMNS),
        "record_id": record_id,
        "pmid": record.pmid,
        "title": record.title,
        "abstract": record.abstract,
        "authors": [a.display for a in record.authors],
        "authors_full": [a.full for a in record.authors],
        "first_author_affiliations": list(first.affiliations) if first else [],
        "author_count": len(record.authors),
        "journal": record.journal,
        "journal_abbrev": record.journal_abbrev,
        "year": record.year,
        "pub_date": record.start_date if record.kind == "trial" else (str(record.year or "")),
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "issn": record.issn,
        "doi": record.doi,
        "pmcid": record.pmcid,
        "publication_types": list(record.publication_types),
        "mesh_terms": [],
        "mesh_major": [],
        "mesh_qualified": [],
        "keywords": list(record.keywords),
        "languages": [record.language] if record.language else [],
        "grants": [],
        "vernacular_title": "",
        "record_type": "registration" if record.kind == "trial" else "article",
        "source": record.source,
        "source_ids": ids,
        "kind": str(record.kind),
        "nct": record.nct or None,
        "url": record.url or None,
        "conditions": list(record.conditions),
        "interventions": list(record.interventions),
        "phase": record.phase or None,
        "status": record.status or None,
        "enrolment": record.enrolment,
        "start_date": record.start_date or None,
        "completion_date": record.completion_date or None,
        "linked_pmids": list(record.linked_pmids),
    }


def identity(row: Mapping[str, Any]) -> str:
    """What makes a row the same record when its source gives it again (a re-import, a
    refetch): its id in that source, else its DOI, else its normalised title and year.

    PubMed's records are named by PMID (their record id); an Embase record by its Embase
    accession; a ClinicalTrials.gov study by its NCT number.
    """
    source = row["source"]
    kind = OWN_ID_KINDS.get(source)
    own = [i.split(": ", 1)[1] for i in row["source_ids"] or () if i.split(": ", 1)[0] == kind]
    if source == PUBMED and row.get("pmid") is not None:
        return f"{source}|pmid|{row['pmid']}"
    if own:
        return f"{source}|id|{own[0]}"
    if row.get("nct") and row.get("kind") == "trial":
        return f"{source}|nct|{row['nct']}"
    if row.get("doi"):
        return f"{source}|doi|{row['doi']}"
    title = fold(row.get("title") or "")
    year = row.get("year")
    return f"{source}|title|{title}|{'' if year is None or pd.isna(year) else int(year)}"
