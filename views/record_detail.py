"""One record read in full, as plain text, with the tagger's suggested tags to accept or
reject (each traced to the text span or field that triggered it)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import tracker
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import flash, reported

AUTHORS_SHOWN = 12


def detail(
    here: Snapshot, row: dict[str, Any], lib: tracker.dashboard.Library, reviewer: str
) -> None:
    pmid = int(str(row["record_id"]))
    with st.container(border=True):
        st.caption(identity_line(row))
        st.text(str(row["title"]) or "(no title)")
        authors = list(row["authors"])
        more = (
            f" … and {len(authors) - AUTHORS_SHOWN:,} more" if len(authors) > AUTHORS_SHOWN else ""
        )
        st.text("; ".join(authors[:AUTHORS_SHOWN]) + more)
        st.text(" · ".join(x for x in (str(row["journal"]), row["pub_date"] or "no date") if x))
        if row.get("kind") == "trial":
            registry_fields(here, int(str(row["record_id"])))
        cols = st.columns(4)
        for column, (label, url) in zip(cols, tracker.dashboard.links(row), strict=False):
            column.link_button(label, url)
    st.text(str(row["abstract"]) or "(no abstract)")
    mesh = list(row["mesh_terms"])
    if mesh:
        st.text("MeSH: " + "; ".join(mesh))
    suggested_tags(here, pmid, lib, reviewer)


def registry_fields(here: Snapshot, record_id: int) -> None:
    """A trial's status, phase, conditions, interventions, enrolment and dates, as text: the
    registry's words are typed by trialists, so they are never rendered as Markdown."""
    trials = cache.trials(here)
    if record_id not in trials.index:
        return
    fields = {str(name): value for name, value in trials.loc[record_id].items()}
    for line in tracker.dashboard.trial_lines(fields):
        st.text(line)


def identity_line(row: dict[str, Any]) -> str:
    """``PMID 123`` for a PubMed record; ``Record 10000000001 · Embase · NCT…`` for the rest."""
    if row.get("source") in (None, tracker.PUBMED):
        return f"PMID {row['record_id']}"
    parts = [f"Record {row['record_id']}", str(row["source"])]
    if row.get("pmid") is not None and not pd.isna(row["pmid"]):
        parts.append(f"PMID {row['pmid']}")
    if row.get("nct"):
        parts.append(str(row["nct"]))
    return " · ".join(parts)


def suggested_tags(
    here: Snapshot, pmid: int, lib: tracker.dashboard.Library, reviewer: str
) -> None:
    """The tagger's suggestions for one record, each with the span that triggered it."""
    rows = tracker.dashboard.record_suggestions(lib.evidence, pmid, cache.judged(here))
    st.text(tracker.dashboard.evidence_line(rows))
    if rows.empty:
        return
    with st.expander(f"Suggested tags: where each comes from ({rows['Tag'].nunique()})"):
        st.dataframe(
            rows[["Tag", "Field", "Evidence", "Status", "Judgements"]],
            hide_index=True,
            key=f"suggestions_{pmid}",
        )
        tags = rows.drop_duplicates("Tag")
        picked = st.selectbox(
            "Suggested tag",
            range(len(tags)),
            format_func=lambda i: f"{tags['Tag'].iloc[i]} ({tags['Status'].iloc[i]})",
            key=f"sg_pick_{pmid}",
        )
        facet, value = str(tags["facet"].iloc[picked]), str(tags["value"].iloc[picked])
        accept, reject = st.columns(2)
        for column, judge, word in (
            (accept, tracker.suggestions.accept, "accepted"),
            (reject, tracker.suggestions.reject, "rejected"),
        ):
            if column.button(f"{word[:-2].capitalize()} this tag", key=f"sg_{word}"):
                with reported(f"The suggestion was not {word}"):
                    judge(here.store, pmid, facet, value, reviewer=reviewer)
                    flash(f"PMID {pmid}: {tags['Tag'].iloc[picked]} {word}.")
