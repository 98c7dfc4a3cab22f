"""Getting records in: fetch from PubMed, search ClinicalTrials.gov, import exports from any
database or screening tool, citation metrics from iCite, and the welcome page of an empty
library."""

from __future__ import annotations

import streamlit as st

import tracker
from views import runs
from views.messages import Remedies, flash, reported, worded

UPLOAD_TYPES = ["ris", "txt", "nbib", "medline", "csv", "tsv", "xml", "gz"]
"""File endings the uploader offers: every format is told from its content, and these are the
names databases give their exports (PubMed's "PubMed format" and Web of Science's tab-delimited
files are .txt; a gzip of any of them is read too)."""
IMPORT_REVIEWER = "Reviewer (for decisions in Rayyan, Covidence or ASReview files)"
TRIAL_FIELDS = ("Conditions", "Interventions", "Other terms (optional search expression)")


def lead_only(store: tracker.Store, account: str | None) -> None:
    """In team mode (``account`` signed in) bringing records in is a lead's work, checked
    against the team as it is at the moment of the action; the laptop has no accounts."""
    if account is not None:
        tracker.team.require(store, account, tracker.team.Role.LEAD)


def fetch_form(
    store: tracker.Store, settings: tracker.Settings, *, account: str | None = None
) -> None:
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
        lead_only(store, account)
        fetching = tracker.Settings.from_env(email=email, api_key=api_key or None)
        summary = tracker.fetch.fetch(fetching, store=store, query=query, progress=show)
        flash(summary.line())


def registry_form(
    store: tracker.Store, settings: tracker.Settings, *, account: str | None = None
) -> None:
    st.subheader("Search ClinicalTrials.gov")
    st.caption(
        "Registered trials, searched in the registry's condition and intervention fields "
        "(both must match; OR within a field). The search is one run: a failed one stores "
        "nothing, and a trial another database also holds is merged with its copy."
    )
    default = tracker.TrialQuery()
    conditions_label, interventions_label, term_label = TRIAL_FIELDS
    with st.form("ctgov_form"):
        conditions = st.text_area(conditions_label, value=default.conditions, height=100,
                                  key="ct_conditions")  # fmt: skip
        interventions = st.text_input(interventions_label, value=default.interventions,
                                      key="ct_interventions")  # fmt: skip
        term = st.text_input(term_label, value=default.term, key="ct_term",
                             help="Words any field of the study must match, in the registry's "
                             'search syntax: intranasal OR "nasal spray", for example')  # fmt: skip
        submitted = st.form_submit_button("Search ClinicalTrials.gov")
    if not submitted:
        return
    remedies: Remedies = {tracker.QueryRequired: lambda e: (
        "The search is empty: fill in at least one of " + ", ".join(f"*{f}*" for f in TRIAL_FIELDS)
        + " (an empty search would ask for every trial the registry holds)."
    )}  # fmt: skip
    with reported("The registry search did not complete, and no record was changed",
                  remedies=remedies):  # fmt: skip
        lead_only(store, account)
        query = tracker.dashboard.trial_query(conditions=conditions, interventions=interventions,
                                              term=term)  # fmt: skip
        with st.spinner("Searching ClinicalTrials.gov (one request a second)…"):
            done = tracker.fetch_registry(store, settings, query=query)
        flash(tracker.dashboard.registry_line(done))


def import_form(store: tracker.Store, reviewer: str, *, account: str | None = None) -> None:
    """The uploader; decisions in the files are signed by ``reviewer`` (a box to change it on
    a laptop), or by the signed-in ``account`` in team mode, with no box."""
    st.subheader("Import exports")
    st.caption(
        f"Accepted: {tracker.ACCEPTED}. Each file's format is read from its content. The files "
        "of each database become one run. A study that several databases hold is merged when "
        "the match is certain; a likely match waits for a person."
    )
    files = st.file_uploader(
        "Exports from databases and screening tools",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="upload",
    )
    source = st.text_input(
        "Database (when the files do not say)",
        key="import_source",
        placeholder="Embase, Scopus, Web of Science, CENTRAL…",
        help="Names the database of every file uploaded together, over what the files say",
    )
    if account is None:
        who = st.text_input(IMPORT_REVIEWER, value=reviewer, key="import_reviewer")
    else:
        who = account
        st.caption(f"Decisions in Rayyan, Covidence or ASReview files are signed by {account}.")
    if not files or not st.button("Import", key="import"):
        return
    remedies: Remedies = {
        tracker.ReviewerRequired: lambda e: (
            "These files carry screening decisions, and each is signed: type a name in "
            f"*{IMPORT_REVIEWER}* and import again."
        ),
        tracker.TrackerError: lambda e: tracker.dashboard.escape_markdown(
            tracker.dashboard.upload_message(str(e))
        ),
    }
    with reported("The import did not complete, and nothing was changed", remedies=remedies):
        lead_only(store, account)
        outcome = tracker.dashboard.import_uploads(
            store, [(f.name, f.getvalue()) for f in files],
            source=source.strip() or None, reviewer=who.strip(),
        )  # fmt: skip
        warnings = [tracker.dashboard.upload_message(w) for w in outcome.warnings]
        flash(tracker.dashboard.import_line(outcome), warnings=warnings)


def enrich_form(
    store: tracker.Store, settings: tracker.Settings, *, account: str | None = None
) -> None:
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
        lead_only(store, account)
        summary = tracker.citations.enrich(
            store, tracker.Settings.from_env(email=email), progress=show
        )
        flash(summary.line(), warnings=summary.warnings)


def view(
    store: tracker.Store,
    settings: tracker.Settings,
    reviewer: str,
    *,
    account: str | None = None,
    lead: bool = True,
) -> None:
    """The Fetch & import tab; ``reviewer`` (the sidebar's) signs imported decisions unless
    the form says otherwise. In team mode, ``account`` signs them, and only a lead sees the
    forms."""
    if not lead:
        st.info(worded(tracker.RoleRequired(tracker.team.Role.LEAD.value, reviewer)))
        return
    fetch_form(store, settings, account=account)
    registry_form(store, settings, account=account)
    import_form(store, reviewer, account=account)
    enrich_form(store, settings, account=account)


def welcome(
    store: tracker.Store, settings: tracker.Settings, member: tracker.team.Member | None = None
) -> None:
    """The page of an empty library: the ways to bring records in, for whoever may."""
    if member is not None and not member.may(tracker.team.Role.LEAD):
        st.info("The library is empty: a lead of the review brings the first records in.")
        return
    st.info(
        "The library is empty. Fetch the review's PubMed query, search ClinicalTrials.gov, "
        "or import exports from any database."
    )
    st.text("The default query:")
    st.code(tracker.DEFAULT_QUERY, language=None, wrap_lines=True)
    account = member.account if member is not None else None
    fetch_form(store, settings, account=account)
    registry_form(store, settings, account=account)
    import_form(store, settings.reviewer, account=account)
    runs.view(store)
