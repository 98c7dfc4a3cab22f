"""The search runs: the PRISMA-S log, and the same as Markdown for a methods section."""

from __future__ import annotations

import streamlit as st

import tracker
from views.downloads import Download, downloads


def view(store: tracker.Store) -> None:
    st.subheader("Search runs (PRISMA-S log)")
    runs = store.runs()
    if runs.empty:
        st.text("No runs yet.")
        return
    st.dataframe(tracker.dashboard.search_log(runs), hide_index=True, key="runs")
    st.subheader("For the methods section")
    st.caption(
        "Every run with its date, database, query as typed and as PubMed translated it, "
        "limits and counts (PRISMA-S), then one sentence per search to adapt."
    )
    log = tracker.search_log.search_log(runs)
    markdown = tracker.search_log.to_markdown(log)
    st.code(markdown, language="markdown", wrap_lines=True)
    downloads(
        [
            Download("Search log (Markdown)", "search-log.md", markdown),
            Download("Search log (CSV)", "search-log.csv", tracker.search_log.to_csv(log)),
        ]
    )
