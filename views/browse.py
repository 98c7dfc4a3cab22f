"""Browse & screen: the table of the sidebar's records with their exports, the record pane
(navigation, the record, its screening form) and dual-screening conflicts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import tracker
from views import conflicts, duplicates, live, progress, record_detail, screening_form
from views import library_cache as cache
from views import record_navigation as navigation
from views.downloads import Download, downloads
from views.library_cache import Snapshot
from views.messages import show_notice
from views.sidebar import Choices, chosen_records, visible_state

COLUMNS = {
    "Record": st.column_config.NumberColumn(
        format="%d", help="The record's id in the tracker: a PubMed record's is its PMID"
    ),
    "PMID": st.column_config.NumberColumn(format="%d"),
    "RCR": st.column_config.NumberColumn(
        format="%.2f", help="Relative citation ratio (NIH iCite): 1.0 is the field's"
    ),
    "Relevance": st.column_config.NumberColumn(
        format="%.3f", help="The model's score for your unscreened records: higher, likelier"
    ),
}


def view(
    here: Snapshot, lib: tracker.dashboard.Library, state: pd.DataFrame, choices: Choices
) -> None:
    show_notice()
    chosen = chosen_records(here, lib, state, choices)
    own = cache.own_decisions(here, choices.reviewer, choices.stage) if choices.reviewer else None
    ranked = ranking(here, choices, len(lib.records))
    sort = order_choice(ranked)
    seen = visible_state(here, state, choices)
    shown = tracker.dashboard.table_view(chosen, seen, sort=sort, own=own,
                                         metrics=cache.metrics(here),
                                         ranked=ranked.records)  # fmt: skip
    first = f" (showing the first {len(shown):,})" if len(shown) < len(chosen) else ""
    st.text(f"{len(chosen):,} of {len(lib.records):,} records match{first}.")
    live.panel(here, lambda now: progress.panel(now, choices))
    progress.record_check(here, choices)  # outside the live panel: see its docstring
    left, right = st.columns([3, 2])
    with left:
        picked = table(shown)
        st.text(f"Download these {len(chosen):,} records, with decisions, tags and notes:")
        downloads(export_files(here.store, chosen, None if seen is state else seen))
    with right:
        listing = navigation.Listing(shown["Record"].tolist(), state, own, ranked.pmids,
                                     by_relevance=sort == tracker.dashboard.RELEVANCE)  # fmt: skip
        record_pane(here, lib, state, choices, listing, picked)
    live.panel(here, lambda now: conflicts.panel(now, choices))
    conflicts.resolve_form(here, choices)  # outside the live panel: see its docstring
    duplicates.panel(here, choices)


BACKGROUND_FROM = 20_000
"""From this many records, the ranking's features are built in the background: the first
build takes about 25 s at 10,000 records and two minutes at 100,000 (bench/RESULTS.md), and the
table should not wait for it."""


def ranking(here: Snapshot, choices: Choices, size: int) -> tracker.ranking.Ranking:
    """The reviewer's ranking, or, for a large library whose features are not built yet, a
    "preparing" one while a background thread builds them (the table keeps its order)."""
    if size < BACKGROUND_FROM or tracker.ranking.features_ready(here.store):
        return cache.ranking(here, choices.reviewer, choices.stage)
    tracker.ranking.prepare_features(here.store)
    waiting = tracker.ranking.Ranking.preparing(choices.reviewer, choices.stage)
    st.caption(waiting.model.description)
    st.button("Refresh the ranking", key="refresh_ranking",
              help="Look again whether the relevance ranking is ready")  # fmt: skip
    return waiting


def order_choice(ranked: tracker.ranking.Ranking) -> str:
    """The table's order. "Most likely relevant first" is the default once a model is trained
    (until then, newest first); a reviewer's own choice is kept while the model's state is."""
    trained = ranked.model.method == "model"
    options = [tracker.dashboard.RELEVANCE, *tracker.dashboard.SORTS]
    key = "sort_ranked" if trained else "sort"
    return str(st.selectbox("Sort", options, index=0 if trained else 1, key=key))


def table(shown: pd.DataFrame) -> int | None:
    """The records table; returns the record id of the row picked in it, if any."""
    event = st.dataframe(
        shown,
        key="table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        height=520,
        column_config=COLUMNS,
    )
    rows = event.selection.rows
    return int(shown.iloc[rows[0]]["Record"]) if rows and rows[0] < len(shown) else None


def record_pane(
    here: Snapshot,
    lib: tracker.dashboard.Library,
    state: pd.DataFrame,
    choices: Choices,
    listing: navigation.Listing,
    picked: int | None,
) -> None:
    current = navigation.record_navigation(listing, picked)
    row = tracker.dashboard.record(lib.records, current) if current is not None else None
    if row is None:
        st.text("Select a row, or type a PMID above, to read and screen a record.")
        return
    record_detail.detail(here, row, lib, choices.reviewer)
    screening_form.screen_form(here, int(row["record_id"]), state, choices, listing)


def export_files(
    store: tracker.Store, chosen: pd.DataFrame, state: pd.DataFrame | None = None
) -> list[Download]:
    """CSV, RIS and BibTeX of exactly ``chosen``, with decisions, tags and notes (from
    ``state`` when given: what a signed-in reviewer may see); each file is built only when its
    button is pressed."""

    def notes() -> dict[int, tracker.Annotation]:
        return tracker.screening.current_annotations(store, state=state)

    def full() -> pd.DataFrame:
        return tracker.dashboard.export_records(store, chosen)

    def csv() -> bytes:
        return tracker.to_csv_bytes(full(), notes(), tracker.suggestions.export_cells(store))

    return [
        Download("CSV (spreadsheet)", "ketamine-review.csv", csv),
        Download("RIS (Zotero, EndNote)", "ketamine-review.ris",
                 lambda: tracker.to_ris(full(), notes()).encode()),
        Download("BibTeX", "ketamine-review.bib",
                 lambda: tracker.to_bibtex(full(), notes()).encode()),
    ]  # fmt: skip
