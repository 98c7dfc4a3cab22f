"""The evidence map (studies per pair of tags) and the leaflet's side effects against the
studies that report them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import tracker
from views import library_cache as cache
from views.downloads import Download, downloads
from views.library_cache import Snapshot
from views.messages import reported
from views.sidebar import Choices, chosen_records


def view(
    here: Snapshot, lib: tracker.dashboard.Library, state: pd.DataFrame, choices: Choices
) -> None:
    chosen = chosen_records(here, lib, state, choices)
    st.subheader("Evidence map")
    st.text(
        f"Records in the sidebar's selection: {len(chosen):,}. A study counts in every cell "
        "whose two tags it carries; rejected suggestions do not count."
    )
    facets = list(tracker.tagging.FACETS)
    left, right = st.columns(2)
    rows = left.selectbox("Rows", facets, index=facets.index("design"), key="map_rows")
    columns = right.selectbox("Columns", facets, index=facets.index("condition"), key="map_cols")
    crossing = tracker.evidence_map.crossing(
        cache.evidence_in_use(here), rows, columns, chosen["record_id"]
    )
    if crossing.empty:
        st.text("No records in the selection.")
    else:
        base = alt.Chart(crossing).encode(
            x=alt.X(f"{columns}:N", title=columns), y=alt.Y(f"{rows}:N", title=rows)
        )
        st.altair_chart(
            base.mark_rect().encode(
                color=alt.Color("studies:Q", scale=alt.Scale(scheme="blues")),
                tooltip=[rows, columns, "studies"],
            )
            + base.mark_text().encode(text="studies:Q"),
            key="chart_map",
        )
    claims_panel(here, None if choices.member is None else (choices.reviewer, choices.stage))


def claims_panel(here: Snapshot, blind_to: tuple[str, str] | None = None) -> None:
    """The leaflet's claims; ``blind_to`` as in :func:`library_cache.claims_of`."""
    st.subheader("Side effects in the patient leaflet, against the studies")
    scope = st.radio(
        "Studies",
        tracker.claims.SCOPES,
        format_func=lambda s: "included studies" if s == "included" else "all records",
        horizontal=True,
        key="claims_scope",
    )
    with reported("The claims view could not be built"):
        view, counts, unlisted = cache.claims_of(here, str(scope), blind_to)
        st.text(
            f"{view.reporting:,} of the {view.in_scope:,} studies in scope report an adverse "
            "effect (suggested tags, rejected ones left out)."
        )
        st.altair_chart(
            alt.Chart(counts, title="Studies reporting each effect")
            .mark_bar()
            .encode(
                x="studies:Q",
                y=alt.Y("claim:N", sort=None, title=None),
                color=alt.Color("in leaflet:N", title="In the leaflet"),
                tooltip=["claim", "studies", "in leaflet"],
            ),
            key="chart_claims",
        )
        st.text(
            "Reported by studies but missing from the leaflet: "
            + (", ".join(unlisted) if unlisted else "none")
        )
        claim = st.selectbox(
            "Show the studies for", ["every claim", *counts["claim"]], key="claims_pick"
        )
        rows = view.rows if claim == "every claim" else view.rows[view.rows["Claim"] == claim]
        limit = tracker.dashboard.TABLE_LIMIT
        if len(rows) > limit:
            st.text(f"Showing the first {limit:,} of {len(rows):,} rows; the CSV has all.")
        st.dataframe(rows.head(limit), hide_index=True, key="claims_table")
        downloads(
            [
                Download(
                    "Claims against studies (CSV)",
                    f"leaflet-claims-{scope}.csv",
                    lambda: tracker.claims.to_csv(view),
                )
            ]
        )
