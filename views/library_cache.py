"""Every cached loader of the app, the one place the store is opened, and the one cache key.

:func:`snapshot` opens the store once per script run; :func:`cache_key` is the only function
that says when cached data is stale (``Store.version()`` for the records and the event log,
and the stamps of the data folder's vocabulary and citation files). The loaders use
``st.cache_resource``: unlike ``st.cache_data`` it hands back the same frames instead of
unpickling a copy of 100,000 records on every rerun, so nothing may mutate what they return.
Each loader names the parts of the key it follows, so a decision does not reload the records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import tracker

DASH = tracker.dashboard
CHART_FACETS = ("design", "drug", "route", "condition")


@dataclass(frozen=True)
class CacheKey:
    """Which version of each file the cached data was read from."""

    data_dir: str
    records: tuple[int, ...]
    events: tuple[int, ...]
    vocabulary: tuple[int, int]
    citations: tuple[int, int]


@dataclass(frozen=True)
class Snapshot:
    """The store as this script run sees it, with the key its cached loaders follow."""

    store: tracker.Store
    key: CacheKey

    @property
    def has_records(self) -> bool:
        """Whether any record is stored yet (before that, the app shows its welcome)."""
        return self.key.records != (0, 0)


def _file_stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def cache_key(store: tracker.Store) -> CacheKey:
    """The one function that computes when cached data is stale."""
    version = store.version()
    return CacheKey(
        data_dir=str(store.data_dir),
        records=version[:2],  # records.parquet: (0, 0) while there is none
        events=version,
        vocabulary=_file_stamp(store.data_dir / "vocabulary.toml"),
        citations=_file_stamp(store.side_table_path(tracker.citations.TABLE)),
    )


def snapshot(settings: tracker.Settings) -> Snapshot:
    """The one place the app opens the store."""
    store = tracker.Store(settings.data_dir)
    return Snapshot(store, cache_key(store))


def _follows(*parts: str) -> dict[str | type[Any], Callable[[Any], Any]]:
    """Hash a snapshot by these parts of its key only (never by the store object)."""
    return {Snapshot: lambda here: (here.key.data_dir, *(getattr(here.key, p) for p in parts))}


RECORDS = _follows("records", "vocabulary")
EVENTS = _follows("events")
EVERYTHING = _follows("events", "vocabulary")
CITATIONS = _follows("citations")


@st.cache_resource(max_entries=2, show_spinner="Loading the library…", hash_funcs=RECORDS)
def library(here: Snapshot) -> tracker.dashboard.Library:
    """Records and evidence tags: editing the vocabulary file re-tags the library."""
    return DASH.load_library(here.store)


@st.cache_resource(max_entries=4, hash_funcs=EVENTS)
def judged(here: Snapshot) -> pd.DataFrame:
    """Reviewers' accept and reject words on suggested tags (cheap: read from the event log)."""
    return tracker.suggestions.verdicts(here.store)


@st.cache_resource(max_entries=2, hash_funcs=EVERYTHING)
def evidence_in_use(here: Snapshot) -> pd.DataFrame:
    """The library's evidence flags without the suggestions reviewers rejected."""
    return tracker.suggestions.without_rejected(library(here).evidence, judged(here))


@st.cache_resource(max_entries=4, show_spinner="Reading the studies' side effects…",
                   hash_funcs=EVERYTHING)  # fmt: skip
def claims_of(
    here: Snapshot, scope: str
) -> tuple[tracker.claims.ClaimsView, pd.DataFrame, list[str]]:
    """The claims view with its chart data and unlisted effects: at 100,000 records these take
    a third of a second to count, too long to redo on every rerun."""
    view = tracker.claims.claims_view(here.store, scope)
    return view, DASH.claim_counts(view), view.unlisted()


@st.cache_resource(max_entries=2, hash_funcs=CITATIONS)
def _metrics(here: Snapshot) -> pd.DataFrame:
    return tracker.citations.load(here.store)


def metrics(here: Snapshot) -> pd.DataFrame | None:
    """iCite's numbers per PMID, or None before the first ``tracker enrich``."""
    return None if here.key.citations == (0, 0) else _metrics(here)


@st.cache_resource(max_entries=4, hash_funcs=EVENTS)
def screening_state(here: Snapshot) -> pd.DataFrame:
    """Current screening state, recomputed only when the event log changes."""
    return tracker.screening.summary(here.store)


@st.cache_resource(max_entries=4, hash_funcs=EVENTS)
def tag_names(here: Snapshot) -> list[str]:
    return DASH.user_tags(screening_state(here))


@st.cache_resource(max_entries=8, hash_funcs=EVENTS)
def own_decisions(here: Snapshot, reviewer: str, stage: str) -> dict[int, str]:
    return tracker.screening.reviewer_decisions(here.store, reviewer, stage)


@st.cache_resource(max_entries=4, hash_funcs=EVENTS)
def exclusion_reasons(here: Snapshot) -> list[str]:
    return tracker.screening.exclusion_reasons(here.store)


@st.cache_resource(max_entries=8, hash_funcs=EVENTS)
def open_conflicts(here: Snapshot, stage: str) -> pd.DataFrame:
    return tracker.screening.conflicts(here.store, stage)


@st.cache_resource(max_entries=8, hash_funcs=EVENTS)
def reviewer_agreement(here: Snapshot, stage: str) -> pd.DataFrame:
    return DASH.agreement_table(here.store, stage)


@st.cache_resource(max_entries=4, hash_funcs=EVENTS)
def prisma_counts(here: Snapshot) -> tracker.prisma.PrismaCounts:
    return tracker.prisma.counts(here.store)


@st.cache_resource(max_entries=2, hash_funcs=EVERYTHING)
def charts(here: Snapshot) -> dict[str, pd.DataFrame]:
    evidence = evidence_in_use(here)
    data = {facet: DASH.facet_counts(evidence, facet) for facet in CHART_FACETS}
    data["years"] = DASH.per_year(library(here).records)
    return data
