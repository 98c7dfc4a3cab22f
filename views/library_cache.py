"""Every cached loader of the app, the one place the store is opened, and the one cache key.

:func:`snapshot` opens the store and reads ``store.stamp()`` once per script run; each loader
names the parts of the stamp it follows (:func:`_follows`), computed by the store's backend
(file stats for the data folder, a database counter for a server). The loaders use
``st.cache_resource``: unlike ``st.cache_data`` it hands back the same frames instead of
unpickling a copy of 100,000 records on every rerun, so nothing may mutate what they return.
Each loader names the parts of the key it follows, so a decision does not reload the records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

import tracker

DASH = tracker.dashboard
CHART_FACETS = ("design", "drug", "route", "condition")


@dataclass(frozen=True)
class Snapshot:
    """The store as this script run sees it, with the stamp its cached loaders follow."""

    store: tracker.Store
    stamp: tracker.Stamp

    @property
    def has_records(self) -> bool:
        """Whether any record is stored yet (before that, the app shows its welcome)."""
        return self.stamp.records != "none"


def snapshot(settings: tracker.Settings) -> Snapshot:
    """The one place the app opens the store, and reads its stamp once per script run."""
    store = tracker.Store.open(settings)
    return Snapshot(store, store.stamp())


def refreshed(here: Snapshot) -> Snapshot:
    """The same store with its stamp read again: what a live panel redraws from."""
    return Snapshot(here.store, here.store.stamp())


def _follows(*parts: str) -> dict[str | type[Any], Callable[[Any], Any]]:
    """Hash a snapshot by the store's location and these parts of its stamp only (never by
    the store object): the one rule of when cached data is stale."""

    def key(here: Snapshot) -> tuple[str, ...]:
        stamp = here.stamp
        values = [
            stamp.side_table(part.removeprefix("side:")) if part.startswith("side:")
            else getattr(stamp, part)
            for part in parts
        ]  # fmt: skip
        return (here.store.location, *values)

    return {Snapshot: key}


RECORDS = _follows("records", "vocabulary")
EVENTS = _follows("records", "events")  # the screening state folds events over the records
EVERYTHING = _follows("records", "events", "vocabulary")
RUNS = _follows("records", "events", "runs")
CITATIONS = _follows("side:citations")
TEAM = _follows(f"side:{tracker.team.TABLE}")


@st.cache_resource(max_entries=2, show_spinner="Loading the library…", hash_funcs=RECORDS)
def library(here: Snapshot) -> tracker.dashboard.Library:
    """Records and evidence tags: editing the vocabulary file re-tags the library."""
    return DASH.load_library(here.store)


@st.cache_resource(max_entries=2, hash_funcs=RECORDS)
def trials(here: Snapshot) -> pd.DataFrame:
    """The registry fields of the trial records, by record id (the record pane's)."""
    return DASH.trial_fields(here.store)


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
    here: Snapshot, scope: str, blind_to: tuple[str, str] | None = None
) -> tuple[tracker.claims.ClaimsView, pd.DataFrame, list[str]]:
    """The claims view with its chart data and unlisted effects: at 100,000 records these take
    a third of a second to count, too long to redo on every rerun. ``blind_to`` (a signed-in
    reviewer and the stage) scopes "included studies" to what that reviewer may see."""
    state = seen_state(here, *blind_to) if blind_to is not None else None
    evidence = library(here).evidence  # held already: the tags are not read a second time
    view = tracker.claims.claims_view(here.store, scope, state=state, evidence=evidence)
    return view, DASH.claim_counts(view), view.unlisted()


@st.cache_resource(max_entries=2, hash_funcs=CITATIONS)
def _metrics(here: Snapshot) -> pd.DataFrame:
    return tracker.citations.load(here.store)


def metrics(here: Snapshot) -> pd.DataFrame | None:
    """iCite's numbers per PMID, or None before the first ``tracker enrich``."""
    return None if here.stamp.side_table(tracker.citations.TABLE) == "none" else _metrics(here)


@st.cache_resource(max_entries=2, hash_funcs=TEAM)
def team(here: Snapshot) -> list[tracker.team.Member]:
    """The review's team (empty while the review is open), read once per change to it."""
    return tracker.team.members(here.store)


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


@st.cache_resource(max_entries=8, hash_funcs=EVENTS)
def seen_state(here: Snapshot, reviewer: str, stage: str) -> pd.DataFrame:
    """The screening state as a signed-in reviewer may see it (blind to partners' calls on
    records they have not decided), for the filters and the table."""
    own = own_decisions(here, reviewer, stage)
    return DASH.seen_by(screening_state(here), reviewer, own)


@st.cache_resource(max_entries=4, hash_funcs=EVENTS)
def exclusion_reasons(here: Snapshot) -> list[str]:
    return tracker.screening.exclusion_reasons(here.store)


@st.cache_resource(max_entries=8, hash_funcs=EVENTS)
def open_conflicts(here: Snapshot, stage: str) -> pd.DataFrame:
    return tracker.screening.conflicts(here.store, stage)


@st.cache_resource(max_entries=2, show_spinner="Looking for duplicates…", hash_funcs=RECORDS)
def duplicate_candidates(here: Snapshot) -> pd.DataFrame:
    """What the duplicate rules find: the matcher runs once per version of the records, not
    again after each decision."""
    return tracker.duplicates.candidates(here.store.records())


@st.cache_resource(max_entries=2, hash_funcs=EVENTS)
def duplicate_pairs(here: Snapshot) -> pd.DataFrame:
    """Every likely duplicate pair with its rule and status."""
    return tracker.duplicates.with_status(duplicate_candidates(here), here.store)


@st.cache_resource(max_entries=8, hash_funcs=EVENTS)
def reviewer_agreement(here: Snapshot, stage: str) -> pd.DataFrame:
    return DASH.agreement_table(here.store, stage)


@st.cache_resource(max_entries=4, hash_funcs=RUNS)
def prisma_counts(here: Snapshot) -> tracker.prisma.PrismaCounts:
    return tracker.prisma.counts(here.store)


@st.cache_resource(max_entries=2, hash_funcs=EVERYTHING)
def charts(here: Snapshot) -> dict[str, pd.DataFrame]:
    evidence = evidence_in_use(here)
    data = {facet: DASH.facet_counts(evidence, facet) for facet in CHART_FACETS}
    data["years"] = DASH.per_year(library(here).records)
    return data


@st.cache_resource(max_entries=8, show_spinner="Ranking the records…", hash_funcs=RUNS)
def ranking(here: Snapshot, reviewer: str, stage: str) -> tracker.ranking.Ranking:
    """The reviewer's unscreened records, most likely relevant first, from the decisions they
    may see (retrained whenever the log changes; the features stay cached per records)."""
    return tracker.ranking.rank(here.store, reviewer=reviewer, stage=stage)


@st.cache_resource(max_entries=8, hash_funcs=RUNS)
def screening_progress(
    here: Snapshot, reviewer: str, stage: str
) -> tracker.screening_progress.ScreeningProgress:
    return tracker.screening_progress.progress(here.store, reviewer=reviewer, stage=stage)


@st.cache_resource(max_entries=2, hash_funcs=RUNS)
def new_since_last_run(here: Snapshot) -> list[int]:
    return tracker.ranking.new_since_last_run(here.store)
