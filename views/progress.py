"""The screening-progress panel: how far the reviewer is, what the model learnt from, and
whether the stopping rule says screening may stop, with a button that records its verdict in
the event log (PRISMA item 8 asks how the decision to stop was made)."""

from __future__ import annotations

import altair as alt
import streamlit as st

import tracker
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import flash, reported
from views.sidebar import Choices

RECORD_CHECK = "record_stopping_check"
"""The button that appends the current verdict to the log."""


def numbers(now: tracker.screening_progress.ScreeningProgress) -> str:
    return (
        f"Screened {now.screened:,} of {now.total:,} · relevant found {now.relevant_found:,}"
        f" · still to screen {now.total - now.screened:,}"
    )


def panel(here: Snapshot, choices: Choices) -> None:
    now = cache.screening_progress(here, choices.reviewer, choices.stage)
    who = choices.reviewer or "the team"
    with st.expander(f"Screening progress ({who}, {choices.stage})", expanded=True):
        words, plot = st.columns([3, 2])
        words.text(numbers(now))
        words.text(now.model.description)
        words.text(now.sentence)
        if len(now.curve):
            plot.altair_chart(
                alt.Chart(now.curve, title="Relevant records found against records screened")
                .mark_line(interpolate="step-after", point=True)
                .encode(
                    x=alt.X("screened:Q", title="records screened"),
                    y=alt.Y("relevant_found:Q", title="relevant found", scale=alt.Scale(zero=True)),
                    tooltip=["screened", "relevant_found", "record_id", "decision"],
                )
                .properties(height=180),
                key="chart_screening_progress",
            )


def record_check(here: Snapshot, choices: Choices) -> None:
    """The button that records the stopping rule's verdict, drawn just below the live panel and
    not in it, as every action of a panel is (views/live.py). The verdict recorded is the one
    this page shows, as of the person's last action."""
    now = cache.screening_progress(here, choices.reviewer, choices.stage)
    if st.button("Record this stopping check in the log", key=RECORD_CHECK):
        with reported("The stopping check was not recorded"):
            tracker.screening_progress.record_stopping_check(
                here.store, now.verdict, reviewer=choices.reviewer, stage=choices.stage
            )
            flash(f"Stopping check recorded: {now.sentence}")
