"""Dual screening at one stage: agreement between reviewers, and resolving open conflicts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import tracker
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import flash, reported
from views.sidebar import Choices


def panel(here: Snapshot, choices: Choices) -> None:
    """Agreement and the open conflicts, as a live panel draws them (views/live.py)."""
    stage = choices.stage
    table = _open(here, choices)
    with st.expander(f"Dual screening at {stage}: {len(table)} open conflicts"):
        pairs = cache.reviewer_agreement(here, stage)
        if not pairs.empty:
            st.dataframe(pairs, hide_index=True)
        if table.empty:
            st.text("No open conflicts.")
            return
        st.dataframe(table, hide_index=True)
        if not choices.lead:
            st.text("A lead of the review resolves conflicts.")
            return
        st.text(
            'Resolve them below, under "Resolve a conflict": it lists the conflicts as of your'
            " last action on this page (a newer one appears there after your next click)."
        )


def resolve_form(here: Snapshot, choices: Choices) -> None:
    """A lead's form to settle an open conflict, drawn outside the live panel: inside it, a
    click on Resolve was lost in 1 of 4 browser runs (nothing saved, no message); outside it,
    in 1 of 12 so far, so the cause is not fully known (README, live views)."""
    if not choices.lead:
        return
    stage = choices.stage
    table = _open(here, choices)
    if table.empty:
        return
    with st.expander(f"Resolve a conflict at {stage}"), st.form("resolve_form"):
        pmid = st.selectbox("Record", table["record_id"].tolist(), key="resolve_pmid")
        decision = st.radio("Final decision", ["include", "exclude", "maybe"], key="resolve")
        reason = st.selectbox(
            "Reason (for exclude)", ["", *cache.exclusion_reasons(here)], key="resolve_reason"
        )
        if st.form_submit_button("Resolve"):
            with reported("The conflict was not resolved"):
                tracker.screening.resolve(
                    here.store,
                    int(pmid),
                    decision=str(decision),
                    reviewer=choices.reviewer,
                    stage=stage,
                    reason=reason or "",
                )
                flash(f"Record {pmid} resolved.")


def _open(here: Snapshot, choices: Choices) -> pd.DataFrame:
    """The open conflicts at the chosen stage that this person may see."""
    table = cache.open_conflicts(here, choices.stage)
    if choices.member is not None:
        table = tracker.team.conflicts_seen_by(table, choices.member)
    return table
