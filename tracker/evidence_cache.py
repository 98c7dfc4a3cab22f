"""The library's evidence tags, kept between runs so that only new or changed records are tagged.

Tagging reads every title and abstract with the vocabulary's patterns, their context, sample
sizes and the learned opinions: 100,000 records take about half a minute (bench/RESULTS.md). A
living review adds a few hundred records a week, and the app used to tag the whole library
again after each fetch and each restart. Each record's tags depend on that record alone (its
title, abstract, publication types and MeSH) and on the tagger (its rules, models and
vocabulary), so they are kept per record in a side table of the store, ``evidence``, keyed by a
hash of what the tagger reads; a record whose key is unchanged reuses its tags, and the others
are tagged.

Like the suggestions cache it is only a shortcut: a missing, stale, unreadable or foreign cache
is ignored (everything is tagged), a tagger or vocabulary that changed throws it away (the
fingerprint of :func:`tracker.suggestions.tagging_fingerprint`), and a cache that cannot be
written (read-only folder, full disk) leaves the tags in memory with an
:class:`EvidenceCacheWarning`. The frame returned is the one :func:`tracker.tagging.evidence`
gives for the same records, column for column.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from tracker import tagging
from tracker.errors import StoreError
from tracker.store import Store
from tracker.vocabulary import Vocabulary, load_vocabulary

CACHE_NAME = "evidence"
READ_COLUMNS = ("record_id", "title", "abstract", "publication_types", "mesh_terms",
                "mesh_qualified")  # fmt: skip
"""What the tagger reads of a record: a change in any of them tags the record again."""
_SCHEMA = pa.schema([("record_id", pa.int64()), ("key", pa.string()), ("tags", pa.string())])
_FINGERPRINT_KEY = b"tracker.tagging_fingerprint"


class EvidenceCacheWarning(UserWarning):
    """The evidence tags could not be kept; they were computed and are used all the same."""


def library_evidence(
    store: Store, records: pd.DataFrame, *, vocabulary: Vocabulary | None = None
) -> pd.DataFrame:
    """The evidence frame of ``records`` (which must hold :data:`READ_COLUMNS`), tagging only
    the records the cache does not hold as they are now, and keeping the result for next time."""
    from tracker.suggestions import tagging_fingerprint

    vocabulary = vocabulary or load_vocabulary(store)
    fingerprint = tagging_fingerprint(vocabulary)
    keys = record_keys(records)
    ids = records["record_id"].astype("int64").to_numpy()
    cached = _read(store, fingerprint)
    known = [cached.get((int(pmid), key)) for pmid, key in zip(ids.tolist(), keys, strict=True)]
    missing = np.array([row is None for row in known], dtype=bool)
    fresh = tagging.evidence(records[missing], vocabulary=vocabulary) if missing.any() else None
    rows: list[dict[str, Any]] = []
    fresh_rows = iter(_rows(fresh, vocabulary) if fresh is not None else [])
    for row in known:
        rows.append(row if row is not None else next(fresh_rows))
    frame = _frame(rows, ids, vocabulary)
    if missing.any() or len(cached) != len(rows):
        _write(store, ids, keys, rows, fingerprint)
    return frame


def record_keys(records: pd.DataFrame) -> list[str]:
    """Per record, a hash of everything the tagger reads of it."""
    parts = [records[name].tolist() for name in READ_COLUMNS[1:]]
    keys = []
    for title, abstract, types, mesh, qualified in zip(*parts, strict=True):
        text = json.dumps(
            [_text(title), _text(abstract), _names(types), _names(mesh), _names(qualified)],
            ensure_ascii=False,
        )
        keys.append(hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest())
    return keys


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _names(value: object) -> list[str]:
    return [] if value is None or isinstance(value, float) else [str(v) for v in value]  # type: ignore[attr-defined]


def _rows(evidence: pd.DataFrame, vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """Each record's tags as plain data: the facet lists, the numbers and the evidence."""
    facets = vocabulary.facet_names
    columns = [*facets, "sample_size", "studies_pooled", "dose", "evidence"]
    data = {name: evidence[name].tolist() for name in columns}
    rows = []
    for at in range(len(evidence)):
        row: dict[str, Any] = {name: list(data[name][at]) for name in facets}
        for name in ("sample_size", "studies_pooled"):
            value = data[name][at]
            row[name] = None if value is None or value is pd.NA else int(value)
        row["dose"] = str(data["dose"][at])
        row["evidence"] = [dict(item) for item in data["evidence"][at]]
        rows.append(row)
    return rows


def _frame(rows: Sequence[dict[str, Any]], ids: np.ndarray, vocabulary: Vocabulary) -> pd.DataFrame:
    """The evidence frame of :func:`tracker.tagging.evidence` rebuilt from plain rows."""
    facets, values = vocabulary.facet_names, vocabulary.facet_values()
    columns: dict[str, Any] = {facet: [list(row[facet]) for row in rows] for facet in facets}
    for name in ("sample_size", "studies_pooled"):
        columns[name] = pd.array([row[name] for row in rows], dtype="Int64")
    columns["dose"] = [row["dose"] for row in rows]
    columns["evidence"] = [list(row["evidence"]) for row in rows]
    flags = {
        f"{facet}:{value}": np.zeros(len(rows), dtype=bool)
        for facet in facets
        for value in values[facet]
    }
    for at, row in enumerate(rows):  # a record has a handful of tags: set those, not all flags
        for facet in facets:
            for value in row[facet]:
                flags[f"{facet}:{value}"][at] = True
    columns.update(sorted(flags.items()))
    return pd.DataFrame(columns, index=pd.Index(ids, name="record_id"))


def _read(store: Store, fingerprint: str) -> dict[tuple[int, str], dict[str, Any]]:
    """The cached tags by (record id, key), when they were made by this tagger; else none."""
    try:
        table = store.read_side_table(CACHE_NAME)
    except StoreError:
        return {}  # unreadable: tag everything, and the next write replaces it
    if table is None or not table.schema.equals(_SCHEMA, check_metadata=False):
        return {}
    if (table.schema.metadata or {}).get(_FINGERPRINT_KEY) != fingerprint.encode():
        return {}
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for pmid, key, tags in zip(*(table.column(n).to_pylist() for n in _SCHEMA.names), strict=True):
        try:
            found[(int(pmid), str(key))] = json.loads(tags)
        except (TypeError, ValueError):
            continue  # a damaged row: that record is tagged again
    return found


def _write(
    store: Store, ids: np.ndarray, keys: list[str], rows: list[dict[str, Any]], fingerprint: str
) -> None:
    """Replace the cache atomically, under the store's lock; failing to is only a warning."""
    table = pa.table(
        {
            "record_id": pa.array(ids, pa.int64()),
            "key": pa.array(keys, pa.string()),
            "tags": pa.array([json.dumps(row, ensure_ascii=False) for row in rows], pa.string()),
        },
        schema=_SCHEMA,
    ).replace_schema_metadata({_FINGERPRINT_KEY: fingerprint.encode()})
    keep(store, CACHE_NAME, table, "The evidence tags", EvidenceCacheWarning)


def keep(store: Store, name: str, table: pa.Table, what: str, warning: type[UserWarning]) -> None:
    """Replace a derived side table atomically, under the store's lock; failing to (a
    read-only folder, a full disk) is only a ``warning``: the caller keeps it in memory."""
    try:
        with store.locked():
            store.write_side_table(name, table)
    except (StoreError, OSError) as exc:
        warnings.warn(
            f"{what} were not saved ({exc}); they are kept in memory and computed again next"
            " time. Make the data directory writable to keep them.",
            warning,
            stacklevel=4,
        )
