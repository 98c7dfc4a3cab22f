"""The declared shape of every stored table, in one place.

Records follow :data:`RECORD_SCHEMA` (an explicit Arrow schema, so writes are deterministic
and never depend on pandas' type guessing); the logs have the column lists below, which every
backend keeps (the SQL of the embedded one is in :mod:`tracker.sqlite_log`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from tracker.records import Article

_TEXT = pa.string()
_LIST = pa.list_(pa.string())

RECORD_SCHEMA = pa.schema(
    [
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
    ]
)
COLUMNS: tuple[str, ...] = tuple(RECORD_SCHEMA.names)
LIST_COLUMNS: frozenset[str] = frozenset(f.name for f in RECORD_SCHEMA if pa.types.is_list(f.type))


def article_row(article: Article) -> dict[str, Any]:
    """Flatten an Article into one row of records.parquet."""
    first = article.authors[0] if article.authors else None
    return {
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
    }


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
    if "pmid" in frame.columns:
        frame["pmid"] = frame["pmid"].astype("int64")
    return frame.reset_index(drop=True)


# -- the logs: column lists every backend shares (the SQL is each backend's own) -------------

EVENT_COLUMNS: tuple[str, ...] = (
    "created_at", "reviewer", "pmid", "stage", "action", "value", "reason", "note", "target_id",
)  # fmt: skip
EVENT_DTYPES: dict[str, str] = {
    "id": "int64",
    "pmid": "Int64",
    "target_id": "Int64",
}
RUN_COLUMNS: tuple[str, ...] = (
    "id", "kind", "status", "query", "query_translation", "started_at", "finished_at", "count",
    "retrieved", "new", "updated", "unchanged", "gone", "requests", "retries", "warnings",
    "error", "tool_version", "api_key_used", "pid", "host",
)  # fmt: skip
OUTCOME_COLUMNS: tuple[str, ...] = (
    "run_id", "finished_at", "status", "error", "count", "query_translation", "retrieved", "new",
    "updated", "unchanged", "gone", "requests", "retries", "warnings",
)  # fmt: skip
