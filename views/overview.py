"""The overview: headline counts, charts of the library, and the PRISMA 2020 flow."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import tracker
from views import library_cache as cache
from views import live
from views.downloads import Download, downloads
from views.library_cache import Snapshot


def view(here: Snapshot) -> None:
    """The overview, with the parts that follow decisions redrawn live (the counts, the
    screening-progress chart and the PRISMA flow); the library's charts change only with the
    records, so they are drawn once."""
    live.panel(here, headline)
    library_charts(here)
    live.panel(here, lambda now: screening_flow(now, cache.screening_state(now)))


def headline(here: Snapshot) -> None:
    counts = cache.prisma_counts(here)
    a, b, c, d = st.columns(4)
    a.metric("Records", f"{counts.identified:,}")
    b.metric("Screened (title/abstract)", f"{counts.screened - counts.screening_pending:,}")
    c.metric("Full texts assessed", f"{counts.assessed - counts.assessment_pending:,}")
    d.metric("Included", f"{counts.total_included:,}")


def library_charts(here: Snapshot) -> None:
    chart_data = cache.charts(here)
    st.altair_chart(
        alt.Chart(chart_data["years"], title="Studies per year")
        .mark_bar()
        .encode(x="year:O", y="studies:Q"),
        key="chart_years",
    )
    columns = st.columns(len(cache.CHART_FACETS))
    for column, facet in zip(columns, cache.CHART_FACETS, strict=True):
        column.altair_chart(
            alt.Chart(chart_data[facet], title=f"By {facet}")
            .mark_bar()
            .encode(x="studies:Q", y=alt.Y(f"{facet}:N", sort="-x")),
            key=f"chart_{facet}",
        )


def screening_flow(here: Snapshot, state: pd.DataFrame) -> None:
    st.altair_chart(
        alt.Chart(tracker.dashboard.screening_progress(state), title="Screening progress")
        .mark_bar()
        .encode(x="records:Q", y="stage:N", color="decision:N"),
        key="chart_progress",
    )
    prisma_flow(cache.prisma_counts(here))


def prisma_flow(counts: tracker.prisma.PrismaCounts) -> None:
    st.subheader("PRISMA 2020 flow")
    st.graphviz_chart(tracker.prisma.to_dot(counts))
    numbers = tracker.prisma.to_text(counts)
    st.code(numbers, language=None)
    downloads(
        [
            Download("PRISMA numbers (text)", "prisma-2020.txt", numbers),
            Download("PRISMA numbers (JSON)", "prisma-2020.json", tracker.prisma.to_json(counts)),
        ]
    )
