"""Likely duplicates: the pairs a person decides (same title with something else differing,
similar titles, shared ids whose titles disagree), and the merges made on import, which a
person may overturn. A judgement is an event; no record is ever removed."""

from __future__ import annotations

import streamlit as st

import tracker
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import flash, reported
from views.sidebar import Choices

PAIR = "duplicate_pair"
"""The pair picked in the form."""
SHOW_ALL = "duplicates_all"
"""Whether judged pairs are listed too."""
SAME, DIFFERENT = "duplicate_same", "duplicate_different"
"""The two judgements' buttons."""


def panel(here: Snapshot, choices: Choices) -> None:
    pairs = cache.duplicate_pairs(here)
    waiting = pairs[pairs["status"] == "open"]
    with st.expander(f"Possible duplicates: {len(waiting)} wait for a person"):
        shown = pairs if st.checkbox("Show judged pairs too", key=SHOW_ALL) else waiting
        if shown.empty:
            st.text("No possible duplicates wait for a person.")
            return
        st.dataframe(shown, hide_index=True, key="duplicates_table")
        with st.form("duplicate_form"):
            labels = [f"{d} duplicates {o}" for d, o in
                      zip(shown["record_id"], shown["duplicate_of"], strict=True)]  # fmt: skip
            picked = st.selectbox("Pair (record → the original it repeats)", labels, key=PAIR)
            same = st.form_submit_button("The same study: remove the later record", key=SAME)
            different = st.form_submit_button("Different studies: keep both", key=DIFFERENT)
        if not (same or different) or picked is None:
            return
        duplicate, original = (int(part) for part in str(picked).split(" duplicates "))
        judge = tracker.duplicates.confirm if same else tracker.duplicates.reject
        with reported("The pair was not judged"):
            judge(here.store, duplicate, duplicate_of=original, reviewer=choices.reviewer)
            verdict = "is a duplicate of" if same else "is not a duplicate of"
            flash(f"Record {duplicate} {verdict} record {original}.")
