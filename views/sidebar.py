"""The sidebar: who screens, at which stage, and which records the filters keep.

Owns the session keys ``SOURCES`` (the source filter's widget) and ``SOURCES_SEEN``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

import tracker
from views import identity
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import reported

SOURCES = "f_sources"
"""The databases chosen in the source filter."""
SOURCES_SEEN = "f_sources_seen"
"""The databases the library held when the source filter was last drawn."""
STAGES = {"latest stage reached": "", "title-abstract": "title-abstract", "full-text": "full-text"}
EVIDENCE_FILTERS = (
    ("design", "Study design"),
    ("drug", "Drug"),
    ("route", "Route"),
    ("condition", "Condition"),
    ("adverse_effects", "Adverse effect reported"),
)


@dataclass(frozen=True)
class Choices:
    """What the sidebar chose: the filters, who is screening, and at which stage."""

    filters: tracker.Filters
    reviewer: str
    stage: str
    new_only: bool = False
    """Only the records the latest run found for the first time."""
    member: tracker.team.Member | None = None
    """The signed-in account in team mode (it is ``reviewer``); None on a laptop."""

    @property
    def lead(self) -> bool:
        """Whether this person may do a lead's work (resolve conflicts, bring records in);
        on a laptop, anyone may, as in an open review."""
        return self.member is None or self.member.may(tracker.team.Role.LEAD)

    @property
    def account(self) -> str | None:
        """Who signs when signed in; None on a laptop, where the typed name signs."""
        return None if self.member is None else self.member.account


def sidebar(
    here: Snapshot,
    lib: tracker.dashboard.Library,
    settings: tracker.Settings,
    member: tracker.team.Member | None = None,
) -> Choices:
    """The sidebar's choices; ``member`` is the signed-in account in team mode, which signs
    instead of a typed *Reviewer* name."""
    side = st.sidebar
    if member is None:
        reviewer = side.text_input("Reviewer", value=settings.reviewer, key="reviewer").strip()
    else:
        identity.account_box(member)
        reviewer = member.account
    stage = side.radio(
        "Screening stage", ["title-abstract", "full-text"], key="stage", horizontal=True
    )
    side.header("Filters")
    text = side.text_input("Search title and abstract", key="f_text")
    years = None
    if lib.years and lib.years[0] < lib.years[1]:
        chosen = side.slider("Years", lib.years[0], lib.years[1], lib.years, key="f_years")
        years = None if chosen == lib.years else (int(chosen[0]), int(chosen[1]))
    vocabulary = tracker.tagging.tag_vocabulary(lib.vocabulary)
    evidence = {
        facet: tuple(side.multiselect(label, vocabulary.get(facet, []), key=f"f_{facet}"))
        for facet, label in EVIDENCE_FILTERS
    }
    types = side.multiselect("Publication type", lib.publication_types, key="f_types")
    decisions = side.multiselect(
        "Decision", ["unscreened", "include", "exclude", "maybe", "conflict"], key="f_decisions"
    )
    decided_at = side.selectbox("Decision at", list(STAGES), key="f_stage")
    by = side.text_input("Decided by reviewer", key="f_reviewer").strip()
    tags = side.multiselect("Tags (all of)", cache.tag_names(here), key="f_tags")
    abstract = side.selectbox("Has abstract", ["any", "yes", "no"], key="f_abstract")
    journals = side.multiselect("Journal", lib.journals, key="f_journals")
    sources = source_filter(lib.sources)
    filters = tracker.Filters(
        text=text,
        years=years,
        publication_types=tuple(types),
        journals=tuple(journals),
        sources=sources,
        has_abstract=None if abstract == "any" else abstract == "yes",
        decisions=tuple(decisions),
        stage=STAGES[decided_at],
        reviewer=by,
        tags=tuple(tags),
        evidence={k: v for k, v in evidence.items() if v},
    )
    new_only = side.checkbox("New since the last run only", key="f_new")
    return Choices(filters=filters, reviewer=reviewer, stage=stage, new_only=new_only,
                   member=member)  # fmt: skip


def source_filter(present: tuple[str, ...]) -> tuple[str, ...]:
    """The databases to keep: () when every one is kept, which filters nothing.

    Every database starts chosen, and one that first appears later (an import, a registry
    search) is added to the choice, so new records are never hidden by a filter set before
    they existed; a database someone took out stays out.
    """
    session = st.session_state
    if SOURCES in session and SOURCES_SEEN in session:
        seen = set(session[SOURCES_SEEN])
        kept = [s for s in session[SOURCES] if s in present]
        session[SOURCES] = kept + [s for s in present if s not in seen and s not in kept]
    else:
        session[SOURCES] = list(present)
    session[SOURCES_SEEN] = list(present)
    chosen = st.sidebar.multiselect(
        "Source (database)",
        present,
        key=SOURCES,
        help="The database that gave each record; a study merged across databases is listed "
        "once per database",
    )
    if not chosen:
        st.sidebar.caption("No database chosen: records from every database are shown.")
    return () if set(chosen) in (set(), set(present)) else tuple(chosen)


def visible_state(here: Snapshot, state: pd.DataFrame, choices: Choices) -> pd.DataFrame:
    """The screening state this person's filters, table and downloads read: a signed-in
    reviewer's is blind to partners' decisions on records they have not decided yet; a
    laptop's is the state as it is, as it always was."""
    if choices.member is None:
        return state
    return cache.seen_state(here, choices.reviewer, choices.stage)


def chosen_records(
    here: Snapshot, lib: tracker.dashboard.Library, state: pd.DataFrame, choices: Choices
) -> pd.DataFrame:
    """The records the sidebar's filters keep (rejected suggested tags do not count)."""
    state = visible_state(here, state, choices)
    evidence = cache.evidence_in_use(here)
    chosen = None
    with reported("The filters could not be applied"):
        chosen = tracker.select(
            lib.records, choices.filters, screening=state, evidence=evidence,
            haystack=lib.haystack,
        )  # fmt: skip
    kept = lib.records.iloc[0:0] if chosen is None else chosen  # on an error, no records
    if choices.new_only:
        kept = kept[kept["record_id"].isin(cache.new_since_last_run(here)).to_numpy(bool)]
    return kept
