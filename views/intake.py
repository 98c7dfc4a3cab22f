"""Getting records in: fetch from PubMed, import PubMed XML, citation metrics from iCite, and
the welcome page of an empty library."""

from __future__ import annotations

import streamlit as st

import tracker
from views import runs
from views.messages import flash, reported


def fetch_form(store: tracker.Store, settings: tracker.Settings) -> None:
    st.subheader("Fetch from PubMed")
    with st.form("fetch_form"):
        email = st.text_input("Your email (NCBI asks for one)", value=settings.email, key="email")
        api_key = st.text_input(
            "NCBI API key (optional: 10 requests/s instead of 3)", type="password", key="api_key"
        )
        query = st.text_area("PubMed query", value=tracker.DEFAULT_QUERY, height=150, key="query")
        submitted = st.form_submit_button("Fetch from PubMed")
    if not submitted:
        return
    bar = st.progress(0.0, text="Searching PubMed…")

    def show(progress: tracker.FetchProgress) -> None:
        done = progress.records / progress.total if progress.total else 0.0
        eta = f", about {progress.eta:.0f} s left" if progress.eta else ""
        bar.progress(
            min(done, 1.0),
            text=f"{progress.stage}: {progress.records:,} of "
            f"{progress.total:,} records, {progress.retries} retries{eta}",
        )

    with reported("The fetch did not complete, and nothing was changed"):
        fetching = tracker.Settings.from_env(email=email, api_key=api_key or None)
        summary = tracker.fetch.fetch(fetching, store=store, query=query, progress=show)
        flash(summary.line())


def import_form(store: tracker.Store) -> None:
    st.subheader("Import PubMed XML")
    files = st.file_uploader(
        "PubMed XML (efetch, 'Save → PubMed XML', or .xml.gz)",
        type=["xml", "gz"],
        accept_multiple_files=True,
        key="upload",
    )
    if not files or not st.button("Import", key="import"):
        return
    with reported("The import did not complete, and nothing was changed"):
        summary = tracker.dashboard.import_uploads(store, [(f.name, f.getvalue()) for f in files])
        flash(
            f"{summary.retrieved:,} records imported: {summary.new:,} new, "
            f"{summary.updated:,} updated."
        )


def enrich_form(store: tracker.Store, settings: tracker.Settings) -> None:
    st.subheader("Citation metrics from NIH iCite")
    st.caption(
        "Citation count and relative citation ratio for every stored PMID, 200 per request. "
        "They appear in the table and can sort it. A failed run keeps the stored metrics."
    )
    with st.form("enrich_form"):
        email = st.text_input("Your email (iCite sees it)", value=settings.email, key="icite_email")
        submitted = st.form_submit_button("Fetch citation metrics")
    if not submitted:
        return
    bar = st.progress(0.0, text="Asking iCite…")

    def show(progress: tracker.FetchProgress) -> None:
        done = progress.records / progress.total if progress.total else 0.0
        bar.progress(min(done, 1.0), text=f"{progress.records:,} of {progress.total:,} PMIDs")

    with reported("Citation metrics were not updated, and the stored ones are kept"):
        summary = tracker.citations.enrich(
            store, tracker.Settings.from_env(email=email), progress=show
        )
        for warning in summary.warnings:
            st.warning(tracker.dashboard.escape_markdown(warning))
        flash(summary.line())


def view(store: tracker.Store, settings: tracker.Settings) -> None:
    """The Fetch & import tab."""
    fetch_form(store, settings)
    import_form(store)
    enrich_form(store, settings)


def welcome(store: tracker.Store, settings: tracker.Settings) -> None:
    st.info("The library is empty. Fetch the review's PubMed query, or import PubMed XML.")
    st.text("The default query:")
    st.code(tracker.DEFAULT_QUERY, language=None, wrap_lines=True)
    fetch_form(store, settings)
    import_form(store)
    runs.view(store)
