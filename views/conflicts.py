"""Dual screening at one stage: agreement between reviewers, and resolving open conflicts."""

from __future__ import annotations

import streamlit as st

import tracker
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import flash, reported
from views.sidebar import Choices


def panel(here: Snapshot, choices: Choices) -> None:
    stage = choices.stage
    table = cache.open_conflicts(here, stage)
    if choices.member is not None:
        table = tracker.team.conflicts_seen_by(table, choices.member)
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
        with st.form("resolve_form"):
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
