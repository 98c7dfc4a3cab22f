"""Prioritised screening: the unscreened records of one reviewer, most likely relevant first.

:func:`rank` trains the relevance model (:mod:`tracker.relevance`) on the decisions the
reviewer may see (:mod:`tracker.screening_order`: never another reviewer's hidden decisions)
and scores every record they have not screened yet. Until they have at least one relevant and
one irrelevant decision there is nothing to learn from, so records are ranked by similarity to
the review's query terms (the latest fetch's query, else :data:`tracker.fetch.DEFAULT_QUERY`),
moved towards the records already marked relevant if there are some: screening never waits
for a model.

Features are built once per records version and kept in memory (:func:`_records_version` is
the one place that says what a version is), so a rank after one more decision costs a fold of
the event log, one linear fit and one sparse product.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from tracker import relevance, screening_order
from tracker.fetch import DEFAULT_QUERY
from tracker.records import Stage
from tracker.relevance import Features, ModelSettings
from tracker.screening import check_stage
from tracker.store import Store

FEATURE_COLUMNS = ["record_id", "title", "abstract", "mesh_terms", "keywords", "publication_types"]
RANKING_COLUMNS = ("rank", "record_id", "score")
Method = Literal["model", "query similarity", "preparing"]


@dataclass(frozen=True, slots=True)
class ModelState:
    """How the order was made: by a model trained on N decisions, or by query similarity."""

    method: Method
    decisions: int
    relevant: int
    irrelevant: int
    as_of: str
    """Time of the latest decision learnt from ("" when none)."""

    @property
    def description(self) -> str:
        if self.method == "preparing":
            return (
                "The relevance ranking is being prepared in the background (its features are"
                " built once per version of the records); until then, records keep their order."
            )
        if self.method == "model":
            return (
                f"Model trained on {self.decisions:,} decisions ({self.relevant:,} relevant,"
                f" {self.irrelevant:,} irrelevant), the latest at {_minute(self.as_of)}."
            )
        return (
            "Ranked by similarity to the review's query terms: the model starts learning once"
            " there is at least one include and one exclude."
        )


@dataclass(frozen=True, slots=True)
class Ranking:
    """The unscreened records in order (columns rank from 1, pmid, score) and how it was made."""

    reviewer: str
    stage: str
    records: pd.DataFrame
    model: ModelState

    @classmethod
    def preparing(cls, reviewer: str, stage: str) -> Ranking:
        """No order yet: the features are still being built (:func:`prepare_features`)."""
        return cls(reviewer, stage, _ordered(np.zeros(0, np.int64), np.zeros(0)),
                   ModelState("preparing", 0, 0, 0, ""))  # fmt: skip

    @property
    def pmids(self) -> list[int]:
        return [int(p) for p in self.records["record_id"]]

    def next_pmid(self) -> int | None:
        """The most likely relevant unscreened record, or None when none is left."""
        return int(self.records["record_id"].iloc[0]) if len(self.records) else None


def rank(
    store: Store,
    *,
    reviewer: str,
    stage: str = Stage.TITLE_ABSTRACT,
    among: Collection[int] | None = None,
    settings: ModelSettings | None = None,
    events: pd.DataFrame | None = None,
) -> Ranking:
    """The records ``reviewer`` has not screened at ``stage``, most likely relevant first.

    ``among`` limits the answer to some PMIDs (say, those new since the last run); the model
    still learns from every decision the reviewer may see. ``events`` may be passed when the
    caller has already read the log. Ties are broken by PMID, so the order is reproducible.
    """
    stage = check_stage(stage)
    settings = settings or ModelSettings()
    events = store.events() if events is None else events
    pmids, features = library_features(store, settings)
    if features is None:
        return Ranking(reviewer, stage, _ordered(pmids, np.zeros(0)), model_state(_NOTHING))
    pool = screening_order.stage_pool(pd.Index(pmids), events, stage)
    seen = screening_order.screened(events, reviewer=reviewer, stage=stage)
    seen = seen[seen["record_id"].isin(pmids)]
    wanted = pool.difference(pd.Index(seen["record_id"]))
    if among is not None:
        wanted = wanted.intersection(pd.Index(list(among), dtype="int64"))
    targets = np.searchsorted(pmids, wanted.to_numpy(dtype="int64"))
    rows = np.searchsorted(pmids, seen["record_id"].to_numpy(dtype="int64"))
    state = model_state(seen)
    labels = seen["label"].to_numpy(dtype=np.float64)
    if state.method == "model" and len(targets):
        scores = relevance.fit_scores(features, rows, labels, targets, settings)
    else:
        scores = _cold_start_scores(store, features, rows[labels > 0], targets)
    return Ranking(reviewer, stage, _ordered(pmids[targets], scores), state)


def _minute(stamp: str) -> str:
    """``2026-12-03T12:57:55.539676+00:00`` as a person reads it: ``2026-12-03 12:57 UTC``."""
    return f"{stamp[:10]} {stamp[11:16]} UTC" if len(stamp) >= 16 else stamp


def model_state(seen: pd.DataFrame) -> ModelState:
    """What a model trained on these screened records (``screening_order.screened``) is."""
    relevant = int((seen["label"] > 0).sum())
    irrelevant = len(seen) - relevant
    method: Method = "model" if relevant and irrelevant else "query similarity"
    latest = str(max(seen["decided_at"])) if len(seen) else ""
    return ModelState(method, len(seen), relevant, irrelevant, latest)


def new_since_last_run(store: Store) -> list[int]:
    """PMIDs the latest finished run returned that no earlier finished run had returned."""
    runs = store.runs()
    done = [int(i) for i in runs.loc[runs["status"] == "succeeded", "id"]]
    if not done:
        return []
    earlier: set[int] = set()
    for run_id in done[:-1]:
        earlier |= store.run_records(run_id)
    return sorted(store.run_records(done[-1]) - earlier)


def review_query(store: Store) -> str:
    """The query of the latest finished fetch, else the tracker's default query."""
    runs = store.runs()
    fetched = runs[(runs["kind"] == "fetch") & (runs["status"] == "succeeded")]
    return str(fetched["query"].iloc[-1]) if len(fetched) else DEFAULT_QUERY


def _cold_start_scores(
    store: Store, features: Features, relevant_rows: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Similarity to the query terms, plus (Rocchio's relevance feedback) similarity to the
    records already marked relevant, when there are some but no irrelevant one yet."""
    scores = relevance.similarity_scores(
        features, relevance.query_terms(review_query(store)), targets
    )
    if len(relevant_rows) and len(targets):
        centroid = features.matrix[relevant_rows].mean(axis=0)
        product = features.matrix[targets] @ np.asarray(centroid, dtype=np.float32).ravel()
        scores = scores + np.asarray(product, dtype=np.float64)
    return scores


def _ordered(pmids: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Highest score first; ties by PMID, ascending."""
    order = np.lexsort((pmids, -scores))
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            "record_id": pmids[order].astype(np.int64),
            "score": scores[order].astype(np.float64),
        }
    )


# -- the features cache -------------------------------------------------------------------------

_NOTHING = pd.DataFrame({"label": pd.Series(dtype="float64"), "decided_at": pd.Series(dtype=str)})
_CACHE: dict[tuple[object, ...], tuple[np.ndarray, Features | None]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 2


def library_features(store: Store, settings: ModelSettings) -> tuple[np.ndarray, Features | None]:
    """The library's PMIDs (sorted) and features (None for an empty library), built once per
    records version."""
    key = _feature_key(store, settings)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    records = store.records(columns=FEATURE_COLUMNS)
    features = relevance.build_features(records, settings) if len(records) else None
    built = (records["record_id"].to_numpy(dtype=np.int64), features)
    with _CACHE_LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    return built


_BUILDING: set[tuple[object, ...]] = set()


def features_ready(store: Store, settings: ModelSettings | None = None) -> bool:
    """Whether :func:`rank` can answer at once (the features of these records are built)."""
    with _CACHE_LOCK:
        return _feature_key(store, settings or ModelSettings()) in _CACHE


def prepare_features(store: Store, settings: ModelSettings | None = None) -> threading.Thread:
    """Build the features in a background thread (one per records version), so a large
    library is never blocked waiting for them; join the thread to wait."""
    chosen = settings or ModelSettings()
    key = _feature_key(store, chosen)
    worker = threading.Thread(target=_build_once, args=(store, chosen, key), daemon=True)
    with _CACHE_LOCK:
        if key in _BUILDING or key in _CACHE:
            return threading.Thread()  # nothing to do: an idle thread joins at once
        _BUILDING.add(key)
    worker.start()
    return worker


def _build_once(store: Store, settings: ModelSettings, key: tuple[object, ...]) -> None:
    try:
        library_features(store, settings)
    finally:
        with _CACHE_LOCK:
            _BUILDING.discard(key)


def _feature_key(store: Store, settings: ModelSettings) -> tuple[object, ...]:
    return (*_records_version(store), relevance.FEATURE_VERSION, settings)


def _records_version(store: Store) -> tuple[object, ...]:
    """What identifies one version of the records: where the store is and the records part
    of its stamp (a decision changes only the events part, so it keeps the features)."""
    return (store.location, store.stamp().records)
