"""What the dashboard shows, computed without Streamlit: tables, details and chart data.

app.py lays out widgets and calls these; keeping them here lets tests and notebooks use them,
and keeps the page code short. Nothing here renders record text: titles and abstracts leave
as plain strings, and links are built from validated identifiers, never from record text.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from tracker import evidence_cache, screening, study_groups, suggestions, tagging
from tracker.agreement import agreement_frame
from tracker.claims import ClaimsView
from tracker.clinicaltrials import SOURCE as REGISTRY
from tracker.clinicaltrials import TrialQuery
from tracker.errors import ConfigError, QueryRequired
from tracker.importer import ImportOutcome, import_exports
from tracker.merging import MergeSummary
from tracker.records import Decision, pubmed_url
from tracker.registry_fetch import RegistryFetch
from tracker.selection import searchable_text
from tracker.store import RunSummary, Store
from tracker.vocabulary import Vocabulary, load_vocabulary

LIBRARY_COLUMNS = ("record_id", "pmid", "source", "nct", "kind", "title", "abstract", "authors",
                   "journal", "year", "pub_date", "doi", "pmcid", "publication_types",
                   "mesh_terms", "mesh_qualified")  # fmt: skip
"""What browsing, filtering and the detail pane read. Affiliations, grants, full author
records and the like stay on disk until an export asks for them: a third less memory."""
TABLE_LIMIT = 2_000
"""Rows sent to the browser at once: enough to scroll, small enough to stay quick at 100k."""
SORTS = {
    "newest first": (["year", "record_id"], [False, False]),
    "oldest first": (["year", "record_id"], [True, True]),
    "PMID": (["pmid", "record_id"], [True, True]),
    "title": (["title"], [True]),
    "most cited": (["citations", "year", "record_id"], [False, False, False]),
    "highest relative citation ratio": (["rcr", "year", "record_id"], [False, False, False]),
}
"""The last two need citation metrics (from iCite); without them they sort newest first."""
RELEVANCE = "most likely relevant first"
"""The screening order (:mod:`tracker.ranking`): unscreened records by score, then the rest
newest first. Offered beside :data:`SORTS`, and the default once a model is trained."""
SUGGESTION_COLUMNS = ("Tag", "facet", "value", "Field", "Evidence", "Status", "Judgements")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$]|:(?=[A-Za-z/]))")
"""Markdown, math and HTML punctuation; a colon only where it could start an emoji, a colour
directive or a web address, so "3 records: 2 new" stays as written."""
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_PMCID = re.compile(r"PMC\d+")
_NCT = re.compile(r"NCT\d{8}")
_PLURALS = {"study": "studies"}
_UPLOAD_PREFIX = "tracker-upload-"
_UPLOAD_FOLDER = re.compile(r"\S*" + _UPLOAD_PREFIX + r"[^/\\\s]*[/\\]")


@dataclass(frozen=True)
class Library:
    """Every record with its evidence tags, loaded once per version of the store.

    ``evidence`` holds every suggestion the tagger makes with the store's own vocabulary; the
    app clears the ones reviewers rejected (:func:`tracker.suggestions.without_rejected`)
    before filtering on them.
    """

    records: pd.DataFrame
    evidence: pd.DataFrame
    haystack: pd.Series
    journals: tuple[str, ...]
    publication_types: tuple[str, ...]
    years: tuple[int, int] | None
    vocabulary: Vocabulary
    sources: tuple[str, ...] = ()
    """The databases the records came from, for the source filter."""


def load_library(store: Store, vocabulary: Vocabulary | None = None) -> Library:
    vocabulary = vocabulary or load_vocabulary(store)
    records = store.records(columns=LIBRARY_COLUMNS)
    haystack = searchable_text(records)
    tags = evidence_cache.library_evidence(store, records, vocabulary=vocabulary)
    years = records["year"].dropna()
    return Library(
        vocabulary=vocabulary,
        records=records,
        evidence=tags,
        haystack=haystack,
        journals=tuple(sorted(records["journal"].replace("", pd.NA).dropna().unique())),
        publication_types=tuple(sorted(records["publication_types"].explode().dropna().unique())),
        years=(int(years.min()), int(years.max())) if len(years) else None,
        sources=tuple(sorted(records["source"].replace("", pd.NA).dropna().unique())),
    )


def export_records(
    store: Store, chosen: pd.DataFrame, *, keep_duplicates: bool = False
) -> pd.DataFrame:
    """Every column of the chosen records, read from the store when a download is asked for,
    with confirmed duplicates folded into their original unless ``keep_duplicates``
    (:func:`tracker.study_groups.entries`)."""
    full = store.records()
    picked = full[full["record_id"].isin(chosen["record_id"]).to_numpy(dtype=bool)]
    return study_groups.entries(picked, store, keep_duplicates=keep_duplicates)


def table_view(
    records: pd.DataFrame,
    state: pd.DataFrame,
    *,
    sort: str = "newest first",
    limit: int = TABLE_LIMIT,
    own: dict[int, str] | None = None,
    metrics: pd.DataFrame | None = None,
    ranked: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rows the table shows: no abstracts, first author only, at most ``limit`` rows.

    ``Record`` is the record id (the key the app acts on; a PubMed record's is its PMID), ``PMID``
    and ``Source`` what the record carries. ``ranked`` (a :class:`tracker.ranking.Ranking`'s
    records: rank, record_id, score) adds a
    Relevance column and, with ``sort`` :data:`RELEVANCE`, puts the ranked records first in
    rank order.

    ``own`` (a reviewer's own decisions) replaces the shared decision column, so in dual
    screening nobody sees the other reviewer's call before making their own. ``metrics``
    (:func:`tracker.citations.load`) adds iCite's citation count and relative citation ratio,
    and lets the table sort by them; records iCite has no numbers for sort last.
    """
    per_pmid = None if metrics is None or metrics.empty else metrics.set_index("pmid")
    if sort in ("most cited", "highest relative citation ratio") and per_pmid is None:
        sort = "newest first"
    by, ascending = SORTS.get(sort, SORTS["newest first"])
    keys = records[[c for c in by if c in records.columns]]
    if per_pmid is not None:
        keys = keys.assign(
            citations=records["pmid"].map(per_pmid["citation_count"]).astype("Float64"),
            rcr=records["pmid"].map(per_pmid["relative_citation_ratio"]).astype("Float64"),
        )
    by_pmid = ranked.set_index("record_id") if ranked is not None else None
    if sort == RELEVANCE and by_pmid is not None:
        keys = keys.assign(_rank=records["record_id"].map(by_pmid["rank"]))
        by, ascending = ["_rank", *by], [True, *ascending]
    # Sort the key columns only, then take the few rows shown: at 100,000 records, reordering
    # every column first cost more than the rest of the view.
    order = keys.sort_values(by, ascending=ascending, na_position="last").index[:limit]
    chosen = records.loc[order]
    pmids = chosen["record_id"].astype("int64")
    mapped = pmids.map(own) if own is not None else pmids.map(state["decision"])
    decisions = mapped.astype(object).where(mapped.notna(), "unscreened")
    view = pd.DataFrame(
        {
            "Record": pmids.to_numpy(),
            "PMID": chosen["pmid"].astype("Int64").to_numpy(),
            "Source": chosen["source"].to_numpy(),
            "Year": chosen["year"].to_numpy(),
            "Title": chosen["title"].to_numpy(),
            "First author": [a[0] if len(a) else "" for a in chosen["authors"]],
            "Journal": chosen["journal"].to_numpy(),
            "Decision": decisions.to_numpy(),
            "Tags": ["; ".join(t) for t in pmids.map(state["tags"]).fillna("").map(list)],
        }
    )
    if per_pmid is not None:
        shown = keys.loc[order]
        view["Citations"] = shown["citations"].astype("Int64").to_numpy()
        view["RCR"] = shown["rcr"].to_numpy()
    if by_pmid is not None:
        view["Relevance"] = pmids.map(by_pmid["score"]).astype("Float64").to_numpy()
    return view


def next_ranked(ranked: list[int], listed: list[int], current: int | None) -> int | None:
    """The most relevant record of the listing still to screen, other than ``current``."""
    shown = set(listed)
    return next((pmid for pmid in ranked if pmid in shown and pmid != current), None)


def record(records: pd.DataFrame, record_id: int) -> dict[str, Any] | None:
    """One record as plain values, or None when no record has this id."""
    found = records[records["record_id"] == record_id]
    return None if found.empty else {str(k): v for k, v in found.iloc[0].to_dict().items()}


TRIAL_COLUMNS = ("nct", "status", "phase", "conditions", "interventions", "enrolment",
                 "start_date", "completion_date", "linked_pmids")  # fmt: skip
"""What the record pane shows of a registered trial, in this order."""


def trial_fields(store: Store) -> pd.DataFrame:
    """The registry fields of the trial records only, by record id: read apart from
    :data:`LIBRARY_COLUMNS` because nearly every record is an article, and 100,000 empty
    lists of conditions and interventions would cost memory for nothing."""
    found = store.records(columns=("record_id", "kind", *TRIAL_COLUMNS))
    trials = found[(found["kind"] == "trial").to_numpy(dtype=bool)]
    return trials.drop(columns="kind").set_index("record_id")


def trial_lines(fields: dict[str, Any]) -> list[str]:
    """A trial's registry fields as plain lines, leaving out what the registry left empty.

    Status and phase read as the registry's website words them ("Active not recruiting",
    "Phase 2, Phase 3"), not as its API's codes.
    """
    given = {name: value for name, value in fields.items() if _filled(value)}
    head = [f"Registered trial {given['nct']}" if "nct" in given else "Registered trial"]
    head += [f"{label}: {_registry_words(given[name])}" for label, name in
             (("Status", "status"), ("Phase", "phase")) if name in given]  # fmt: skip
    lines = [" · ".join(head)]
    for label, name in (("Conditions", "conditions"), ("Interventions", "interventions")):
        if name in given:
            lines.append(f"{label}: " + "; ".join(str(v) for v in given[name]))
    if "enrolment" in given:
        lines.append(f"Enrolment: {int(given['enrolment']):,}")
    dated = (("Start", "start_date"), ("Completion", "completion_date"))
    dates = [f"{label}: {given[name]}" for label, name in dated if name in given]
    if dates:
        lines.append(" · ".join(dates))
    if "linked_pmids" in given:
        cited = "; ".join(f"PMID {int(pmid)}" for pmid in given["linked_pmids"])
        lines.append(f"Publications the registration lists: {cited}")
    return lines


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if value is None or (not hasattr(value, "__len__") and pd.isna(value)):
        return False
    return len(value) > 0 if hasattr(value, "__len__") else True


def _registry_words(code: Any) -> str:
    """``ACTIVE_NOT_RECRUITING`` → ``Active not recruiting``; ``PHASE2, PHASE3`` → ``Phase 2,
    Phase 3``; ``NA`` → ``Not applicable``. Text already in words is kept as written."""
    text = str(code or "")
    if not text.isupper():
        return text
    words = re.sub(r"\bna\b", "not applicable", text.replace("_", " ").lower())
    words = re.sub(r"\bphase(\d)", r"Phase \1", words)
    return words[:1].upper() + words[1:]


def escape_markdown(text: str) -> str:
    """``text`` made inert for Streamlit's message boxes, which render Markdown.

    Messages can quote what a person typed or uploaded (a note being undone, a file name
    in a parse error); escaping every Markdown, math and HTML character shows it literally.
    """
    return _MARKDOWN.sub(r"\\\1", text)


def links(row: dict[str, Any]) -> list[tuple[str, str]]:
    """PubMed, registry, DOI and PMC links, built only from identifiers that look right."""
    found = []
    pmid = row.get("pmid")
    if pmid is not None and not pd.isna(pmid):
        found.append(("PubMed", pubmed_url(int(pmid))))
    nct = str(row.get("nct") or "")
    if _NCT.fullmatch(nct):
        found.append(("ClinicalTrials.gov", f"https://clinicaltrials.gov/study/{nct}"))
    doi = str(row.get("doi") or "")
    if _DOI.fullmatch(doi):
        found.append(("DOI", "https://doi.org/" + quote(doi, safe="/()._-;:")))
    pmcid = str(row.get("pmcid") or "")
    if _PMCID.fullmatch(pmcid):
        found.append(("PMC", f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/"))
    return found


def per_year(records: pd.DataFrame) -> pd.DataFrame:
    counts = records["year"].dropna().astype(int).value_counts().sort_index()
    return pd.DataFrame({"year": counts.index, "studies": counts.to_numpy()})


def facet_counts(
    evidence: pd.DataFrame, facet: str, pmids: pd.Series | None = None
) -> pd.DataFrame:
    """How many records carry each value of one evidence facet (a record may carry several)."""
    flags = tagging.flag_columns(evidence, facet)
    chosen = evidence if pmids is None else evidence.reindex(pmids.to_numpy())
    counts = chosen[flags].fillna(False).astype(bool).sum().sort_values(ascending=False)
    counts = counts[counts > 0]
    return pd.DataFrame(
        {facet: [c.split(":", 1)[1] for c in counts.index], "studies": counts.to_numpy()}
    )


def screening_progress(state: pd.DataFrame) -> pd.DataFrame:
    """Records per decision at each stage, for the progress chart."""
    rows = []
    for stage, column in (("title-abstract", "ta_decision"), ("full-text", "ft_decision")):
        for decision, n in state[column].value_counts().items():
            rows.append({"stage": stage, "decision": str(decision), "records": int(n)})
    return pd.DataFrame(rows, columns=["stage", "decision", "records"])


def shared_view(
    state: pd.DataFrame, pmid: int, *, reviewer: str, own_decision: str
) -> dict[str, Any] | None:
    """A record's shared screening state, or None while showing it would bias this reviewer.

    Dual screening is blind: whoever has not yet decided a record another reviewer has
    decided sees neither that decision nor its tags and notes. A record nobody else has
    touched, or a session without a reviewer name, shows everything.
    """
    if pmid not in state.index:
        return None
    row = state.loc[pmid]
    others = any(name != reviewer for name in row["reviewers"])
    if reviewer and own_decision == "unscreened" and others:
        return None
    return {"decision": str(row["decision"]), "tags": list(row["tags"]),
            "notes": list(row["notes"])}  # fmt: skip


def seen_by(state: pd.DataFrame, reviewer: str, own: dict[int, str]) -> pd.DataFrame:
    """The screening state as ``reviewer`` may see it: :func:`shared_view`'s rule for every
    record at once, for what filters, the table and counts read.

    A record another reviewer has decided and ``reviewer`` has not (``own``: their decisions
    at the stage screened) reads as unscreened, with no reason, tags, notes or reviewers, so
    no filter finds a partner's call before one's own. The rest is the state as it is.
    """
    others = np.fromiter((any(n != reviewer for n in names) for names in state["reviewers"]),
                         dtype=bool, count=len(state))  # fmt: skip
    decided = state.index.isin([p for p, d in own.items() if d != Decision.UNSCREENED.value])
    hidden = others & ~decided
    if not hidden.any():
        return state
    seen = state.copy()
    blank = Decision.UNSCREENED.value
    seen.loc[hidden, ["decision", "ta_decision", "ft_decision"]] = blank
    seen.loc[hidden, ["stage", "exclusion_reason"]] = ""
    seen.loc[hidden, "conflict"] = False
    for column in ("tags", "notes", "reviewers"):
        seen[column] = [[] if h else v for h, v in zip(hidden, seen[column], strict=True)]
    return seen


def next_unscreened(view_pmids: list[int], state: pd.DataFrame, current: int | None,
                    own: dict[int, str] | None = None) -> int | None:  # fmt: skip
    """The next record in the list, after ``current``, that is still unscreened (wraps)."""
    if not view_pmids:
        return None
    start = view_pmids.index(current) + 1 if current in view_pmids else 0
    ordered = view_pmids[start:] + view_pmids[:start]
    for pmid in ordered:
        decided = own.get(pmid) if own is not None else state["decision"].get(pmid)
        if decided in (None, "unscreened") and pmid != current:
            return pmid
    return None


def search_log(runs: pd.DataFrame) -> pd.DataFrame:
    """The run log with the fields PRISMA-S asks a paper to report."""
    columns = {"id": "Run", "kind": "Kind", "status": "Status", "started_at": "Started (UTC)",
               "query": "Query as sent", "query_translation": "PubMed's translation",
               "count": "Count", "retrieved": "Retrieved", "new": "New",
               "gone": "No longer returned",
               "requests": "Requests", "retries": "Retries", "error": "Error",
               "tool_version": "Tool version", "api_key_used": "API key used"}  # fmt: skip
    return runs[list(columns)].rename(columns=columns)


def record_suggestions(evidence: pd.DataFrame, pmid: int, judged: pd.DataFrame) -> pd.DataFrame:
    """One record's suggested tags, one row per piece of evidence, with what reviewers said.

    ``Field`` and ``Evidence`` trace each suggestion to the title or abstract span, publication
    type or MeSH term that triggered it; ``Status`` is suggested, accepted or rejected.
    """
    if pmid not in evidence.index:
        return pd.DataFrame(columns=list(SUGGESTION_COLUMNS))
    state = suggestions.with_status(suggestions.long_form(evidence.loc[[pmid]]), judged)
    labels = [suggestions.label(facet) for facet in state["facet"]]
    return pd.DataFrame(
        {
            "Tag": [
                f"{label}: {value}" for label, value in zip(labels, state["value"], strict=True)
            ],
            "facet": state["facet"].to_numpy(),
            "value": state["value"].to_numpy(),
            "Field": state["field"].to_numpy(),
            "Evidence": state["span"].to_numpy(),
            "Status": state["status"].to_numpy(),
            "Judgements": state["judgements"].to_numpy(),
        },
        columns=list(SUGGESTION_COLUMNS),
    )


def evidence_line(rows: pd.DataFrame) -> str:
    """The detail pane's one-line summary of :func:`record_suggestions`, rejected ones left out."""
    kept = rows[(rows["Status"] != suggestions.REJECTED).to_numpy(bool)]
    tags = list(dict.fromkeys(kept["Tag"]))
    return "Evidence tags: " + (" · ".join(tags) or "none")


def claim_counts(view: ClaimsView) -> pd.DataFrame:
    """Studies per claim (and per effect the leaflet lacks), for the claims chart."""
    rows = view.rows[(view.rows["PMID"] != "").to_numpy(bool)]
    order = list(dict.fromkeys(view.rows["Claim"]))
    counts = rows.drop_duplicates(["Claim", "PMID"])["Claim"].value_counts()
    counts = counts.reindex(order, fill_value=0)
    listed = view.rows.drop_duplicates("Claim").set_index("Claim")["Listed in leaflet"]
    return pd.DataFrame(
        {
            "claim": order,
            "studies": counts.to_numpy(dtype="int64"),
            "in leaflet": listed.reindex(order).to_numpy(),
        }
    )


def user_tags(state: pd.DataFrame) -> list[str]:
    """Every tag reviewers have given any record, for the tag filter."""
    return sorted({tag for tags in state["tags"] for tag in tags})


def agreement_table(store: Store, stage: str) -> pd.DataFrame:
    """Agreement (percent and Cohen's kappa) of each pair of reviewers at one stage."""
    return agreement_frame(screening.agreement(store, stage))


def import_uploads(
    store: Store,
    uploads: Sequence[tuple[str, bytes]],
    *,
    source: str | None = None,
    reviewer: str = "",
) -> ImportOutcome:
    """Import exports a browser uploaded (any format :func:`tracker.importer.import_exports`
    reads), a run per database; every file is read before anything is stored, so one bad file
    stores nothing.

    The readers take paths, and the run log names the files, so each upload is written under
    its own base name (never a path the browser chose) in a folder removed afterwards.
    """
    names = [Path(name).name for name, _ in uploads]
    if len(set(names)) != len(names) or not all(names):
        raise ConfigError("Two uploaded files share a name: rename one and upload them again.")
    with tempfile.TemporaryDirectory(prefix=_UPLOAD_PREFIX) as folder:
        paths = [Path(folder) / name for name in names]
        for path, (_, data) in zip(paths, uploads, strict=True):
            path.write_bytes(data)
        return import_exports(store, paths, source=source, reviewer=reviewer)


def upload_message(text: str) -> str:
    """A message about uploads with the temporary folder taken out of each file's path: the
    person uploaded ``embase.ris``, and ``/tmp/tracker-upload-x1y2/`` means nothing to them."""
    return _UPLOAD_FOLDER.sub("", text)


def import_line(outcome: ImportOutcome) -> str:
    """What an import did, database by database, then across databases."""
    parts = [f"{part.source}: {_run_words(part.summary, 'record')}" for part in outcome.sources]
    if outcome.decisions:
        parts.append(f"{outcome.decisions:,} screening decisions moved in from the tool")
    if outcome.deleted:
        parts.append(f"{len(outcome.deleted):,} PMIDs listed as deleted by NCBI, kept")
    return ". ".join([*parts, _merge_words(outcome.merges)]) + "."


def trial_query(*, conditions: str, interventions: str, term: str = "") -> TrialQuery:
    """The registry search a form asks for; refused when every field is empty, which would
    ask ClinicalTrials.gov for every study it holds."""
    query = TrialQuery(conditions.strip(), interventions.strip(), term.strip())
    if not query.params():
        raise QueryRequired()
    return query


def registry_line(done: RegistryFetch) -> str:
    """What a ClinicalTrials.gov search did, in the words of :func:`import_line`."""
    cost = f"{done.requests:,} requests, {done.retries:,} retries, {done.seconds:.1f} s"
    return f"{REGISTRY}: {_run_words(done.summary, 'study')}; {cost}. " + (
        _merge_words(done.merges) + "."
    )


def _run_words(run: RunSummary, thing: str) -> str:
    things = thing if run.retrieved == 1 else _PLURALS.get(thing, thing + "s")
    gone = f", {run.gone:,} no longer returned" if run.gone else ""
    return f"{run.retrieved:,} {things}: {run.new:,} new, {run.known:,} already known{gone}"


def _merge_words(merges: MergeSummary) -> str:
    return (
        f"Across databases: {merges.merged:,} merged as duplicates, "
        f"{merges.waiting:,} waiting for a person to compare"
    )
