"""What the dashboard shows, computed without Streamlit: tables, details and chart data.

app.py lays out widgets and calls these; keeping them here lets tests and notebooks use them,
and keeps the page code short. Nothing here renders record text: titles and abstracts leave
as plain strings, and links are built from validated identifiers, never from record text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pandas as pd

from tracker import tagging
from tracker.records import pubmed_url
from tracker.selection import searchable_text
from tracker.store import Store

TABLE_LIMIT = 2_000
"""Rows sent to the browser at once: enough to scroll, small enough to stay quick at 100k."""
SORTS = {
    "newest first": (["year", "pmid"], [False, False]),
    "oldest first": (["year", "pmid"], [True, True]),
    "PMID": (["pmid"], [True]),
    "title": (["title"], [True]),
}
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_PMCID = re.compile(r"^PMC\d+$")


@dataclass(frozen=True)
class Library:
    """Every record with its evidence tags, loaded once per version of the store."""

    records: pd.DataFrame
    evidence: pd.DataFrame
    haystack: pd.Series
    journals: tuple[str, ...]
    publication_types: tuple[str, ...]
    years: tuple[int, int] | None


def load_library(store: Store) -> Library:
    records = store.records()
    haystack = searchable_text(records)
    tags = tagging.evidence(records, haystack)
    years = records["year"].dropna()
    return Library(
        records=records,
        evidence=tags,
        haystack=haystack,
        journals=tuple(sorted(records["journal"].replace("", pd.NA).dropna().unique())),
        publication_types=tuple(sorted(records["publication_types"].explode().dropna().unique())),
        years=(int(years.min()), int(years.max())) if len(years) else None,
    )


def table_view(
    records: pd.DataFrame,
    state: pd.DataFrame,
    *,
    sort: str = "newest first",
    limit: int = TABLE_LIMIT,
    own: dict[int, str] | None = None,
) -> pd.DataFrame:
    """The rows the table shows: no abstracts, first author only, at most ``limit`` rows.

    ``own`` (a reviewer's own decisions) replaces the shared decision column, so in dual
    screening nobody sees the other reviewer's call before making their own.
    """
    by, ascending = SORTS.get(sort, SORTS["newest first"])
    chosen = records.sort_values(by, ascending=ascending, na_position="last").head(limit)
    pmids = chosen["pmid"].astype("int64")
    mapped = pmids.map(own) if own is not None else pmids.map(state["decision"])
    decisions = mapped.astype(object).where(mapped.notna(), "unscreened")
    return pd.DataFrame(
        {
            "PMID": pmids.to_numpy(),
            "Year": chosen["year"].to_numpy(),
            "Title": chosen["title"].to_numpy(),
            "First author": [a[0] if len(a) else "" for a in chosen["authors"]],
            "Journal": chosen["journal"].to_numpy(),
            "Decision": decisions.to_numpy(),
            "Tags": ["; ".join(t) for t in pmids.map(state["tags"]).fillna("").map(list)],
        }
    )


def record(records: pd.DataFrame, pmid: int) -> dict[str, Any] | None:
    """One record as plain values, or None when the PMID is not stored."""
    found = records[records["pmid"] == pmid]
    return None if found.empty else {str(k): v for k, v in found.iloc[0].to_dict().items()}


def links(row: dict[str, Any]) -> list[tuple[str, str]]:
    """PubMed, DOI and PMC links, built only from identifiers that look right."""
    found = [("PubMed", pubmed_url(int(row["pmid"])))]
    doi = str(row.get("doi") or "")
    if _DOI.match(doi):
        found.append(("DOI", "https://doi.org/" + quote(doi, safe="/()._-;:")))
    pmcid = str(row.get("pmcid") or "")
    if _PMCID.match(pmcid):
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
