"""Streamlit dashboard: layout only; every decision is made in the tracker package.

Record text (titles, abstracts, notes) is only ever shown with ``st.text`` or inside data
tables, never through Markdown or HTML, so nothing in a record can change the page; messages
that quote what someone typed are escaped first (``dashboard.escape_markdown``).

Loaded data is cached with ``st.cache_resource`` keyed on ``Store.version()``: unlike
``st.cache_data`` it hands back the same frames instead of unpickling a copy of 100,000
records on every rerun. Nothing here mutates a cached frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import tracker

st.set_page_config(page_title="Ketamine review tracker", layout="wide")
SETTINGS = tracker.Settings.from_env()
STORE = tracker.Store(SETTINGS.data_dir)
DASH = tracker.dashboard
STAGES = {"latest stage reached": "", "title-abstract": "title-abstract", "full-text": "full-text"}


@contextlib.contextmanager
def reported(what: str) -> Iterator[None]:
    """The one place where the app turns tracker's errors into a readable message."""
    try:
        yield
    except tracker.NCBIUnavailableError as exc:
        st.error(
            f"{what}: {DASH.escape_markdown(str(exc))}\n\nPubMed may be unreachable from this "
            "machine: check the network, or import a PubMed XML file below."
        )
    except tracker.TrackerError as exc:
        st.error(f"{what}: {DASH.escape_markdown(str(exc))}")


@st.cache_resource(max_entries=2, show_spinner="Loading the library…")
def library(data_dir: str, version: tuple[str, ...], vocabulary: str) -> tracker.dashboard.Library:
    """Records and evidence tags, loaded once per version of records.parquet and of the
    vocabulary file (``vocabulary`` is its stamp: editing it re-tags the library)."""
    return DASH.load_library(tracker.Store(data_dir))


@st.cache_resource(max_entries=4)
def judged(data_dir: str, version: tuple[str, ...]) -> pd.DataFrame:
    """Reviewers' accept and reject words on suggested tags (cheap: read from the event log)."""
    return tracker.suggestions.verdicts(tracker.Store(data_dir))


@st.cache_resource(max_entries=2)
def evidence_in_use(data_dir: str, version: tuple[str, ...], vocabulary: str) -> pd.DataFrame:
    """The library's evidence flags without the suggestions reviewers rejected."""
    lib = library(data_dir, version[:2], vocabulary)
    return tracker.suggestions.without_rejected(lib.evidence, judged(data_dir, version))


@st.cache_resource(max_entries=4, show_spinner="Reading the studies' side effects…")
def claims_of(
    data_dir: str, version: tuple[str, ...], scope: str, vocabulary: str
) -> tuple[tracker.claims.ClaimsView, pd.DataFrame, list[str]]:
    """The claims view with its chart data and unlisted effects: at 100,000 records these take
    a third of a second to count, too long to redo on every rerun."""
    view = tracker.claims.claims_view(tracker.Store(data_dir), scope)
    return view, DASH.claim_counts(view), view.unlisted()


@st.cache_resource(max_entries=2)
def metrics_of(data_dir: str, stamp: tuple[int, int]) -> pd.DataFrame:
    """iCite's numbers per PMID, re-read only when citations.parquet changes."""
    return tracker.citations.load(tracker.Store(data_dir))


def file_stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def vocabulary_stamp() -> str:
    """Changes when the data folder's vocabulary.toml is created, edited or removed."""
    return str(file_stamp(SETTINGS.data_dir / "vocabulary.toml"))


def metrics() -> pd.DataFrame | None:
    """Stored citation metrics, or None before the first ``tracker enrich``."""
    stamp = file_stamp(STORE.side_table_path(tracker.citations.TABLE))
    return None if stamp == (0, 0) else metrics_of(str(SETTINGS.data_dir), stamp)


@st.cache_resource(max_entries=4)
def screening_state(data_dir: str, version: tuple[str, ...]) -> pd.DataFrame:
    """Current screening state, recomputed only when the event log changes."""
    return tracker.screening.summary(tracker.Store(data_dir))


@st.cache_resource(max_entries=4)
def tag_names(data_dir: str, version: tuple[str, ...]) -> list[str]:
    return DASH.user_tags(screening_state(data_dir, version))


@st.cache_resource(max_entries=8)
def own_decisions(
    data_dir: str, version: tuple[str, ...], reviewer: str, stage: str
) -> dict[int, str]:
    return tracker.screening.reviewer_decisions(tracker.Store(data_dir), reviewer, stage)


@st.cache_resource(max_entries=4)
def exclusion_reasons(data_dir: str, version: tuple[str, ...]) -> list[str]:
    return tracker.screening.exclusion_reasons(tracker.Store(data_dir))


@st.cache_resource(max_entries=8)
def open_conflicts(data_dir: str, version: tuple[str, ...], stage: str) -> pd.DataFrame:
    return tracker.screening.conflicts(tracker.Store(data_dir), stage)


@st.cache_resource(max_entries=8)
def reviewer_agreement(data_dir: str, version: tuple[str, ...], stage: str) -> pd.DataFrame:
    return DASH.agreement_table(tracker.Store(data_dir), stage)


@st.cache_resource(max_entries=4)
def prisma_counts(data_dir: str, version: tuple[str, ...]) -> tracker.prisma.PrismaCounts:
    return tracker.prisma.counts(tracker.Store(data_dir))


CHART_FACETS = ("design", "drug", "route", "condition")


@st.cache_resource(max_entries=2)
def charts(data_dir: str, version: tuple[str, ...], vocabulary: str) -> dict[str, pd.DataFrame]:
    evidence = evidence_in_use(data_dir, version, vocabulary)
    data = {facet: DASH.facet_counts(evidence, facet) for facet in CHART_FACETS}
    data["years"] = DASH.per_year(library(data_dir, version[:2], vocabulary).records)
    return data


MIME_TYPES = {".csv": "text/csv", ".ris": "application/x-research-info-systems",
              ".bib": "application/x-bibtex", ".txt": "text/plain", ".json": "application/json",
              ".md": "text/markdown"}  # fmt: skip


def download(
    where: Any, label: str, data: str | bytes | Callable[[], str | bytes], name: str, key: str
) -> None:
    """A download button whose file type follows its name; pressing it does not rerun the page
    (``on_click="ignore"``), and a callable ``data`` is built only when it is pressed."""
    where.download_button(
        label, data, file_name=name, mime=MIME_TYPES[Path(name).suffix], key=key,
        on_click="ignore",
    )  # fmt: skip


def versioned() -> tuple[str, tuple[str, ...]]:
    return str(SETTINGS.data_dir), STORE.version()


def flash(message: str) -> None:
    st.session_state["flash"] = message
    st.rerun()


# -- first run, fetching and importing -------------------------------------------------------


def fetch_form() -> None:
    st.subheader("Fetch from PubMed")
    with st.form("fetch_form"):
        email = st.text_input("Your email (NCBI asks for one)", value=SETTINGS.email, key="email")
        api_key = st.text_input(
            "NCBI API key (optional: 10 requests/s instead of 3)", type="password", key="api_key"
        )
        query = st.text_area("PubMed query", value=tracker.DEFAULT_QUERY, height=150, key="query")
        submitted = st.form_submit_button("Fetch from PubMed")
    if not submitted:
        return
    if "@" not in email:
        st.error("NCBI asks for a contact email with every request: type yours above.")
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
        settings = tracker.Settings.from_env(email=email, api_key=api_key or None)
        summary = tracker.fetch.fetch(settings, store=STORE, query=query, progress=show)
        flash(summary.line())


def import_form() -> None:
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
        summary = DASH.import_uploads(STORE, [(f.name, f.getvalue()) for f in files])
        flash(
            f"{summary.retrieved:,} records imported: {summary.new:,} new, "
            f"{summary.updated:,} updated."
        )


def enrich_form() -> None:
    st.subheader("Citation metrics from NIH iCite")
    st.caption(
        "Citation count and relative citation ratio for every stored PMID, 200 per request. "
        "They appear in the table and can sort it. A failed run keeps the stored metrics."
    )
    with st.form("enrich_form"):
        email = st.text_input("Your email (iCite sees it)", value=SETTINGS.email, key="icite_email")
        submitted = st.form_submit_button("Fetch citation metrics")
    if not submitted:
        return
    bar = st.progress(0.0, text="Asking iCite…")

    def show(progress: tracker.FetchProgress) -> None:
        done = progress.records / progress.total if progress.total else 0.0
        bar.progress(min(done, 1.0), text=f"{progress.records:,} of {progress.total:,} PMIDs")

    with reported("Citation metrics were not updated, and the stored ones are kept"):
        settings = tracker.Settings.from_env(email=email)
        summary = tracker.citations.enrich(STORE, settings, progress=show)
        for warning in summary.warnings:
            st.warning(DASH.escape_markdown(warning))
        flash(summary.line())


def welcome() -> None:
    st.info("The library is empty. Fetch the review's PubMed query, or import PubMed XML.")
    st.text("The default query:")
    st.code(tracker.DEFAULT_QUERY, language=None, wrap_lines=True)
    fetch_form()
    import_form()
    runs_tab()


# -- the sidebar: who screens, and which records ---------------------------------------------


def sidebar(lib: tracker.dashboard.Library) -> tuple[tracker.Filters, str, str]:
    side = st.sidebar
    reviewer = side.text_input("Reviewer", value=SETTINGS.reviewer, key="reviewer").strip()
    stage = side.radio(
        "Screening stage", ["title-abstract", "full-text"], key="stage", horizontal=True
    )
    side.header("Filters")
    text = side.text_input("Search title and abstract", key="f_text")
    years = None
    if lib.years and lib.years[0] < lib.years[1]:
        chosen = side.slider("Years", lib.years[0], lib.years[1], lib.years, key="f_years")
        years = None if chosen == lib.years else (int(chosen[0]), int(chosen[1]))
    vocabulary = tracker.tagging.tag_vocabulary(lib.vocabulary)
    evidence = {
        facet: tuple(side.multiselect(label, vocabulary.get(facet, []), key=f"f_{facet}"))
        for facet, label in (
            ("design", "Study design"),
            ("drug", "Drug"),
            ("route", "Route"),
            ("condition", "Condition"),
            ("adverse_effects", "Adverse effect reported"),
        )
    }
    types = side.multiselect("Publication type", lib.publication_types, key="f_types")
    decisions = side.multiselect(
        "Decision", ["unscreened", "include", "exclude", "maybe", "conflict"], key="f_decisions"
    )
    decided_at = side.selectbox("Decision at", list(STAGES), key="f_stage")
    by = side.text_input("Decided by reviewer", key="f_reviewer").strip()
    tags = side.multiselect("Tags (all of)", tag_names(*versioned()), key="f_tags")
    abstract = side.selectbox("Has abstract", ["any", "yes", "no"], key="f_abstract")
    journals = side.multiselect("Journal", lib.journals, key="f_journals")
    filters = tracker.Filters(
        text=text,
        years=years,
        publication_types=tuple(types),
        journals=tuple(journals),
        has_abstract=None if abstract == "any" else abstract == "yes",
        decisions=tuple(decisions),
        stage=STAGES[decided_at],
        reviewer=by,
        tags=tuple(tags),
        evidence={k: v for k, v in evidence.items() if v},
    )
    return filters, reviewer, stage


# -- browse and screen -----------------------------------------------------------------------


def selected(
    lib: tracker.dashboard.Library, state: pd.DataFrame, filters: tracker.Filters
) -> pd.DataFrame:
    """The records the sidebar's filters keep (rejected suggested tags do not count)."""
    evidence = evidence_in_use(*versioned(), vocabulary_stamp())
    chosen = None
    with reported("The filters could not be applied"):
        chosen = tracker.select(
            lib.records, filters, screening=state, evidence=evidence, haystack=lib.haystack
        )
    return lib.records.iloc[0:0] if chosen is None else chosen  # on an error, no records


def browse_tab(
    lib: tracker.dashboard.Library,
    state: pd.DataFrame,
    filters: tracker.Filters,
    reviewer: str,
    stage: str,
) -> None:
    chosen = selected(lib, state, filters)
    own = own_decisions(*versioned(), reviewer, stage) if reviewer else None
    sort = st.selectbox("Sort", list(DASH.SORTS), key="sort")
    view = DASH.table_view(chosen, state, sort=sort, own=own, metrics=metrics())
    shown = f" (showing the first {len(view):,})" if len(view) < len(chosen) else ""
    st.text(f"{len(chosen):,} of {len(lib.records):,} records match{shown}.")
    left, right = st.columns([3, 2])
    with left:
        event = st.dataframe(
            view,
            key="table",
            on_select="rerun",
            selection_mode="single-row",
            hide_index=True,
            height=520,
            column_config={
                "PMID": st.column_config.NumberColumn(format="%d"),
                "RCR": st.column_config.NumberColumn(
                    format="%.2f", help="Relative citation ratio (NIH iCite): 1.0 is the field's"
                ),
            },
        )
        _follow_selection(view, event.selection.rows)
        _export_buttons(chosen)
    with right:
        listed = view["PMID"].tolist()
        _navigation(listed, state, own)
        current = st.session_state.get("current")
        row = DASH.record(lib.records, int(current)) if current is not None else None
        if row is None:
            st.text("Select a row, or type a PMID above, to read and screen a record.")
            return
        detail(row, lib, reviewer)
        screen_form(int(row["pmid"]), state, reviewer, stage, own, listed)


def _follow_selection(view: pd.DataFrame, rows: list[int]) -> None:
    picked = int(view.iloc[rows[0]]["PMID"]) if rows and rows[0] < len(view) else None
    if picked is not None and picked != st.session_state.get("last_pick"):
        st.session_state["current"] = picked
        st.session_state["clear_goto"] = True
    st.session_state["last_pick"] = picked


def _navigation(listed: list[int], state: pd.DataFrame, own: dict[int, str] | None) -> None:
    if st.session_state.pop("clear_goto", False):  # the record shown changed another way
        st.session_state["goto"] = st.session_state["last_goto"] = ""
    typed = st.text_input("Go to PMID", key="goto").strip()
    if typed != st.session_state.get("last_goto", ""):
        st.session_state["last_goto"] = typed
        if typed.isdigit():
            st.session_state["current"] = int(typed)
    if st.button("Next unscreened", key="next", shortcut="n"):
        _advance(listed, state, own)


def _advance(listed: list[int], state: pd.DataFrame, own: dict[int, str] | None) -> None:
    following = DASH.next_unscreened(listed, state, st.session_state.get("current"), own)
    if following is None:
        st.session_state["flash_here"] = "No unscreened record left in this list."
    st.session_state["current"] = following
    st.session_state["clear_goto"] = True


def detail(row: dict[str, object], lib: tracker.dashboard.Library, reviewer: str) -> None:
    pmid = int(str(row["pmid"]))
    with st.container(border=True):
        st.caption(f"PMID {pmid}")
        st.text(str(row["title"]) or "(no title)")
        authors = list(row["authors"])  # type: ignore[call-overload]
        more = f" … and {len(authors) - 12:,} more" if len(authors) > 12 else ""
        st.text("; ".join(authors[:12]) + more)
        st.text(f"{row['journal']} · {row['pub_date'] or 'no date'}")
        cols = st.columns(3)
        for column, (label, url) in zip(cols, DASH.links(row), strict=False):
            column.link_button(label, url)
    st.text(str(row["abstract"]) or "(no abstract)")
    mesh = list(row["mesh_terms"])  # type: ignore[call-overload]
    if mesh:
        st.text("MeSH: " + "; ".join(mesh))
    suggested_tags(pmid, lib, reviewer)


def suggested_tags(pmid: int, lib: tracker.dashboard.Library, reviewer: str) -> None:
    """The tagger's suggestions for one record, each with the span that triggered it."""
    rows = DASH.record_suggestions(lib.evidence, pmid, judged(*versioned()))
    st.text(DASH.evidence_line(rows))
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
                    judge(STORE, pmid, facet, value, reviewer=reviewer)
                    flash(f"PMID {pmid}: {tags['Tag'].iloc[picked]} {word}.")


def screen_form(
    pmid: int,
    state: pd.DataFrame,
    reviewer: str,
    stage: str,
    own: dict[int, str] | None,
    listed: list[int],
) -> None:
    """Decision, tags and notes for one record; note and tag boxes are kept per record."""
    mine = (own or {}).get(pmid, "unscreened")
    shared = DASH.shared_view(state, pmid, reviewer=reviewer, own_decision=mine)
    st.text(f"Your decision at {stage}: {mine}" if reviewer else "Set your name in the sidebar.")
    if shared is not None:
        tags = f" · tags: {', '.join(shared['tags'])}" if shared["tags"] else ""
        st.text(f"Current decision: {shared['decision']}{tags}")
        for text in shared["notes"]:
            st.text(f"Note: {text}")
    reason = st.selectbox(
        "Reason (for exclude)", ["", *exclusion_reasons(*versioned())], key="reason"
    )
    note = st.text_input("Note", key=f"note_{pmid}")
    st.checkbox("After a decision, go to the next unscreened record", True, key="advance")
    st.caption("Keys: i include · e exclude (with the reason above) · m maybe · n next unscreened")
    buttons = st.columns(4)
    for column, (decision, key) in zip(
        buttons, (("include", "i"), ("exclude", "e"), ("maybe", "m")), strict=False
    ):
        if column.button(decision.capitalize(), key=f"decide_{decision}", shortcut=key):
            _decide(pmid, decision, reviewer, stage, reason, note, (listed, state, own))
    if buttons[3].button("Save note", key="save_note") and note.strip():
        with reported("The note was not saved"):
            tracker.screening.note(STORE, pmid, note, reviewer=reviewer)
            flash(f"Note saved on PMID {pmid}.")
    _tag_controls(pmid, shared["tags"] if shared is not None else [], reviewer)


def _decide(
    pmid: int,
    decision: str,
    reviewer: str,
    stage: str,
    reason: str,
    note: str,
    where: tuple[list[int], pd.DataFrame, dict[int, str] | None],
) -> None:
    if decision == "exclude" and not reason:
        st.error("Choose a reason in *Reason (for exclude)* first, then exclude again.")
        return
    if decision == "exclude" and reason == "other" and not note.strip():
        st.error("The reason 'other' needs a note saying what it is: write it in *Note*.")
        return
    with reported("The decision was not saved"):
        tracker.screening.decide(
            STORE,
            [pmid],
            decision=decision,
            reviewer=reviewer,
            stage=stage,
            reason=reason if decision == "exclude" else "",
            note=note,
        )
        if st.session_state.get("advance", True):
            _advance(*where)
        flash(f"PMID {pmid}: {decision} saved.")


def _tag_controls(pmid: int, tags: list[str], reviewer: str) -> None:
    tag_col, undo_col = st.columns([3, 1])
    new_tag = tag_col.text_input("Add a tag", key=f"tag_{pmid}")
    if tag_col.button("Add tag", key="add_tag") and new_tag.strip():
        with reported("The tag was not added"):
            tracker.screening.tag(STORE, [pmid], reviewer=reviewer, add=new_tag)
            flash(f"Tag added to PMID {pmid}.")
    for label in tags:
        if st.button(f"Remove tag: {label}", key=f"rm_{label}"):
            with reported("The tag was not removed"):
                tracker.screening.tag(STORE, [pmid], reviewer=reviewer, remove=label)
                flash(f"Tag removed from PMID {pmid}.")
    if undo_col.button("Undo", key="undo", help="Take back your last decision, tag or note"):
        with reported("Nothing was undone"):
            done = tracker.screening.undo(STORE, reviewer=reviewer)
            flash(done or "Nothing of yours to undo.")


def _export_buttons(chosen: pd.DataFrame) -> None:
    """Files are built only when a button is pressed: 100k records make large files."""

    def notes() -> dict[int, tracker.Annotation]:
        return tracker.screening.current_annotations(STORE)

    def full() -> pd.DataFrame:
        return DASH.export_records(STORE, chosen)

    st.text(f"Download these {len(chosen):,} records, with decisions, tags and notes:")
    csv_col, ris_col, bib_col = st.columns(3)
    download(
        csv_col,
        "CSV (spreadsheet)",
        lambda: tracker.to_csv_bytes(full(), notes(), tracker.suggestions.export_cells(STORE)),
        "ketamine-review.csv",
        "dl_csv",
    )
    download(
        ris_col,
        "RIS (Zotero, EndNote)",
        lambda: tracker.to_ris(full(), notes()).encode(),
        "ketamine-review.ris",
        "dl_ris",
    )
    download(
        bib_col,
        "BibTeX",
        lambda: tracker.to_bibtex(full(), notes()).encode(),
        "ketamine-review.bib",
        "dl_bib",
    )


def conflicts_panel(stage: str, reviewer: str) -> None:
    table = open_conflicts(*versioned(), stage)
    with st.expander(f"Dual screening at {stage}: {len(table)} open conflicts"):
        pairs = reviewer_agreement(*versioned(), stage)
        if not pairs.empty:
            st.dataframe(pairs, hide_index=True)
        if table.empty:
            st.text("No open conflicts.")
            return
        st.dataframe(table, hide_index=True)
        with st.form("resolve_form"):
            pmid = st.selectbox("PMID", table["pmid"].tolist(), key="resolve_pmid")
            decision = st.radio("Final decision", ["include", "exclude", "maybe"], key="resolve")
            reason = st.selectbox(
                "Reason (for exclude)",
                ["", *exclusion_reasons(*versioned())],
                key="resolve_reason",
            )
            if st.form_submit_button("Resolve"):
                with reported("The conflict was not resolved"):
                    tracker.screening.resolve(
                        STORE,
                        int(pmid),
                        decision=str(decision),
                        reviewer=reviewer,
                        stage=stage,
                        reason=reason or "",
                    )
                    flash(f"PMID {pmid} resolved.")


# -- the evidence map and the leaflet's claims ------------------------------------------------


def evidence_tab(
    lib: tracker.dashboard.Library, state: pd.DataFrame, filters: tracker.Filters
) -> None:
    chosen = selected(lib, state, filters)
    st.subheader("Evidence map")
    st.text(
        f"Records in the sidebar's selection: {len(chosen):,}. A study counts in every cell "
        "whose two tags it carries; rejected suggestions do not count."
    )
    facets = list(tracker.tagging.FACETS)
    left, right = st.columns(2)
    rows = left.selectbox("Rows", facets, index=facets.index("design"), key="map_rows")
    columns = right.selectbox("Columns", facets, index=facets.index("condition"), key="map_cols")
    evidence = evidence_in_use(*versioned(), vocabulary_stamp())
    crossing = tracker.evidence_map.crossing(evidence, rows, columns, chosen["pmid"])
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
    claims_panel()


def claims_panel() -> None:
    st.subheader("Side effects in the patient leaflet, against the studies")
    scope = st.radio(
        "Studies",
        tracker.claims.SCOPES,
        format_func=lambda s: "included studies" if s == "included" else "all records",
        horizontal=True,
        key="claims_scope",
    )
    with reported("The claims view could not be built"):
        view, counts, unlisted = claims_of(*versioned(), str(scope), vocabulary_stamp())
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
        if len(rows) > DASH.TABLE_LIMIT:
            st.text(
                f"Showing the first {DASH.TABLE_LIMIT:,} of {len(rows):,} rows; the CSV has all."
            )
        st.dataframe(rows.head(DASH.TABLE_LIMIT), hide_index=True, key="claims_table")
        download(
            st,
            "Claims against studies (CSV)",
            lambda: tracker.claims.to_csv(view),
            f"leaflet-claims-{scope}.csv",
            "dl_claims",
        )


# -- overview and runs -----------------------------------------------------------------------


def overview_tab(lib: tracker.dashboard.Library, state: pd.DataFrame) -> None:
    counts = prisma_counts(*versioned())
    chart_data = charts(*versioned(), vocabulary_stamp())
    a, b, c, d = st.columns(4)
    a.metric("Records", f"{counts.identified:,}")
    b.metric("Screened (title/abstract)", f"{counts.screened - counts.screening_pending:,}")
    c.metric("Full texts assessed", f"{counts.assessed - counts.assessment_pending:,}")
    d.metric("Included", f"{counts.total_included:,}")
    years = chart_data["years"]
    st.altair_chart(
        alt.Chart(years, title="Studies per year").mark_bar().encode(x="year:O", y="studies:Q"),
        key="chart_years",
    )
    columns = st.columns(len(CHART_FACETS))
    for column, facet in zip(columns, CHART_FACETS, strict=True):
        data = chart_data[facet]
        column.altair_chart(
            alt.Chart(data, title=f"By {facet}")
            .mark_bar()
            .encode(x="studies:Q", y=alt.Y(f"{facet}:N", sort="-x")),
            key=f"chart_{facet}",
        )
    progress = DASH.screening_progress(state)
    st.altair_chart(
        alt.Chart(progress, title="Screening progress")
        .mark_bar()
        .encode(x="records:Q", y="stage:N", color="decision:N"),
        key="chart_progress",
    )
    st.subheader("PRISMA 2020 flow")
    st.graphviz_chart(tracker.prisma.to_dot(counts))
    numbers = tracker.prisma.to_text(counts)
    st.code(numbers, language=None)
    text_col, json_col = st.columns(2)
    download(
        text_col,
        "PRISMA numbers (text)",
        numbers,
        "prisma-2020.txt",
        "dl_prisma_text",
    )
    download(
        json_col,
        "PRISMA numbers (JSON)",
        tracker.prisma.to_json(counts),
        "prisma-2020.json",
        "dl_prisma_json",
    )


def runs_tab() -> None:
    st.subheader("Search runs (PRISMA-S log)")
    runs = STORE.runs()
    if runs.empty:
        st.text("No runs yet.")
        return
    st.dataframe(DASH.search_log(runs), hide_index=True, key="runs")
    st.subheader("For the methods section")
    st.caption(
        "Every run with its date, database, query as typed and as PubMed translated it, "
        "limits and counts (PRISMA-S), then one sentence per search to adapt."
    )
    log = tracker.search_log.search_log(runs)
    markdown = tracker.search_log.to_markdown(log)
    st.code(markdown, language="markdown", wrap_lines=True)
    md_col, csv_col = st.columns(2)
    download(md_col, "Search log (Markdown)", markdown, "search-log.md", "dl_runs_md")
    download(
        csv_col, "Search log (CSV)", tracker.search_log.to_csv(log), "search-log.csv", "dl_runs"
    )


# -- the page --------------------------------------------------------------------------------


def main() -> None:
    st.title("Esketamine & ketamine for chronic pain: living review")
    if "flash" in st.session_state:
        st.success(DASH.escape_markdown(st.session_state.pop("flash")))
    with reported("The library could not be opened"):
        if not STORE.records_path.exists():
            welcome()
            return
        version = STORE.version()
        lib = library(str(SETTINGS.data_dir), version[:2], vocabulary_stamp())
        state = screening_state(str(SETTINGS.data_dir), version)
        filters, reviewer, stage = sidebar(lib)
        # Only the open tab runs: a filter change does not rebuild the charts, and the
        # overview does not re-select the table.
        browse, evidence, overview, runs, fetch = st.tabs(
            ["Browse & screen", "Evidence map", "Overview", "Search runs", "Fetch & import"],
            key="tab",
            on_change="rerun",
        )
        if browse.open:
            with browse:
                if "flash_here" in st.session_state:
                    st.info(st.session_state.pop("flash_here"))
                browse_tab(lib, state, filters, reviewer, stage)
                conflicts_panel(stage, reviewer)
        if evidence.open:
            with evidence:
                evidence_tab(lib, state, filters)
        if overview.open:
            with overview:
                overview_tab(lib, state)
        if runs.open:
            with runs:
                runs_tab()
        if fetch.open:
            with fetch:
                fetch_form()
                import_form()
                enrich_form()


main()
