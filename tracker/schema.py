"""The declared shape of every stored table, in one place.

``records.parquet`` follows :data:`RECORD_SCHEMA` (an explicit Arrow schema, so writes are
deterministic and never depend on pandas' type guessing); ``tracker.sqlite`` follows
:data:`DDL`. The store is the only user of the SQL; everyone may read the column lists.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
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


# -- tracker.sqlite --------------------------------------------------------------------------

DDL = """
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    query         TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    tool_version  TEXT NOT NULL,
    api_key_used  INTEGER NOT NULL,
    pid           INTEGER,
    host          TEXT
);
CREATE TABLE IF NOT EXISTS run_outcomes (
    run_id            INTEGER PRIMARY KEY REFERENCES runs(id),
    finished_at       TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    error             TEXT NOT NULL DEFAULT '',
    count             INTEGER,
    query_translation TEXT NOT NULL DEFAULT '',
    retrieved         INTEGER,
    new               INTEGER,
    updated           INTEGER,
    unchanged         INTEGER,
    gone              INTEGER,
    requests          INTEGER NOT NULL DEFAULT 0,
    retries           INTEGER NOT NULL DEFAULT 0,
    warnings          TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS run_pmids (
    run_id  INTEGER NOT NULL REFERENCES runs(id),
    pmid    INTEGER NOT NULL,
    PRIMARY KEY (run_id, pmid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    reviewer    TEXT NOT NULL,
    pmid        INTEGER,
    stage       TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    value       TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    target_id   INTEGER REFERENCES events(id)
);
CREATE INDEX IF NOT EXISTS events_pmid ON events (pmid);
"""

_APPEND_ONLY = ("runs", "run_outcomes", "run_pmids", "events")


def _guard_sql(table: str) -> str:
    return "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;\n"
        for verb in ("UPDATE", "DELETE")
    )


SCHEMA_VERSION = 1


def prepare_database(db: sqlite3.Connection) -> None:
    """Create the tables once per file; WAL lets readers work while a writer appends.

    Two processes may meet a brand-new file at once (the app and the CLI). Switching to WAL
    needs the file to itself and SQLite answers "locked" at once instead of waiting, so the
    switch is retried for a while before giving up.
    """
    db.execute("PRAGMA busy_timeout = 60000")
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version >= SCHEMA_VERSION:
        return
    _retry_locked(lambda: db.execute("PRAGMA journal_mode = WAL"))
    db.execute("BEGIN IMMEDIATE")
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version < SCHEMA_VERSION:
            for statement in (DDL + "".join(map(_guard_sql, _APPEND_ONLY))).split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _retry_locked(action: Callable[[], object], *, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


EVENT_COLUMNS: tuple[str, ...] = (
    "created_at", "reviewer", "pmid", "stage", "action", "value", "reason", "note", "target_id",
)  # fmt: skip
EVENT_DTYPES: dict[str, str] = {
    "id": "int64",
    "pmid": "Int64",
    "target_id": "Int64",
}
INSERT_EVENT_SQL = (
    "INSERT INTO events (" + ", ".join(EVENT_COLUMNS) + ") VALUES ("
    + ", ".join(":" + c for c in EVENT_COLUMNS) + ")"
)  # fmt: skip

RUN_COLUMNS: tuple[str, ...] = (
    "id", "kind", "status", "query", "query_translation", "started_at", "finished_at", "count",
    "retrieved", "new", "updated", "unchanged", "gone", "requests", "retries", "warnings",
    "error", "tool_version", "api_key_used", "pid", "host",
)  # fmt: skip
RUN_LOG_SQL = """
SELECT r.id, r.kind, o.status, r.query, COALESCE(o.query_translation, '') AS query_translation,
       r.started_at, o.finished_at, o.count, o.retrieved, o.new, o.updated, o.unchanged, o.gone,
       COALESCE(o.requests, 0) AS requests, COALESCE(o.retries, 0) AS retries,
       COALESCE(o.warnings, '[]') AS warnings, COALESCE(o.error, '') AS error,
       r.tool_version, r.api_key_used, r.pid, r.host
FROM runs AS r LEFT JOIN run_outcomes AS o ON o.run_id = r.id
ORDER BY r.id
"""
PREVIOUS_RUN_SQL = """
SELECT r.id FROM runs AS r JOIN run_outcomes AS o ON o.run_id = r.id
WHERE r.kind = ? AND r.query = ? AND o.status = 'succeeded' AND r.id < ?
ORDER BY r.id DESC LIMIT 1
"""
_OUTCOME_COLUMNS = (
    "run_id", "finished_at", "status", "error", "count", "query_translation", "retrieved", "new",
    "updated", "unchanged", "gone", "requests", "retries", "warnings",
)  # fmt: skip
INSERT_OUTCOME_SQL = (
    "INSERT INTO run_outcomes (" + ", ".join(_OUTCOME_COLUMNS) + ") VALUES ("
    + ", ".join(":" + c for c in _OUTCOME_COLUMNS) + ")"
)  # fmt: skip
