"""One study found in several databases: merged on import when the match is certain, else
left for a person.

Each database's copy of a record stays its own row, exactly as that source gave it, so a
merge never loses what a source said. A merge is a ``duplicate-confirm`` event (value = the
original's record id) signed by :data:`AUTOMATIC`, in the log like a person's judgement:
``tracker duplicates --reject`` (or the app) overrides it, latest judgement winning, and
PRISMA counts it under "duplicates removed".

What merges without a person: pairs :mod:`tracker.matching` marks ``automatic`` (same DOI or
PMID with agreeing titles, one registration's NCT number, or title, year, first author,
journal and first page all the same) between records of *different* sources. Within one
database, a shared DOI is more often an erratum or a supplement than a copy, so those pairs
wait for a person as before (:mod:`tracker.duplicates`). A group that would join two records of
one source is not merged at all. The original of a group is its lowest record id: a PubMed
record (its id is its PMID, below every other id) when there is one, else the first imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tracker import matching
from tracker.decision_log import DUPLICATE_JUDGEMENTS, duplicate_judgements
from tracker.records import Action
from tracker.store import Event, Store

AUTOMATIC = "tracker (automatic merge)"
"""Who signs a merge no person made; a person's own judgement of the pair overrides it."""
READ_COLUMNS = [
    "record_id", "source", "title", "year", "authors_full", "journal", "journal_abbrev",
    "pages", "doi", "pmid", "nct", "kind", "linked_pmids",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class MergeSummary:
    """What one pass over the library did: records merged into another source's copy, pairs
    left for a person, and trial records only related to an article (never merged).

    ``waiting`` counts the uncertain pairs the pass itself meets (a shared title or id with
    something else differing); :func:`tracker.duplicates.find_duplicates` lists those and the
    similar-title pairs too.
    """

    merged: int
    waiting: int
    related: int


def matcher_table(records: pd.DataFrame) -> pd.DataFrame:
    """The store's records in the matcher's input shape (:data:`matching.TABLE_COLUMNS`)."""
    first = [_family(a[0]) if len(a) else "" for a in records["authors_full"]]
    table = pd.DataFrame(
        {
            "id": records["record_id"].astype("int64").astype(str).to_numpy(),
            "title": records["title"].fillna("").to_numpy(),
            "year": records["year"].to_numpy(),
            "first_author": first,
            "journal": records["journal"].fillna("").to_numpy(),
            "journal_abbrev": records["journal_abbrev"].fillna("").to_numpy(),
            "pages": records["pages"].fillna("").to_numpy(),
            "doi": records["doi"].fillna("").str.casefold().to_numpy(),
            "pmid": records["pmid"].to_numpy(),
            "nct": records["nct"].fillna("").to_numpy(),
            "kind": records["kind"].fillna("article").to_numpy(),
            "linked_pmids": [tuple(v) for v in records["linked_pmids"]],
        }
    )
    return table.astype({"year": "Int64", "pmid": "Int64"})


def cross_source_matches(records: pd.DataFrame, *, similar: bool = True) -> pd.DataFrame:
    """The matcher's pairs between records of different sources, as record ids (``left`` the
    lower), with relation, rule, confidence and detail (``similar``: see
    :func:`matching.find_matches`)."""
    if records["source"].nunique(dropna=False) < 2:
        return _no_matches()  # one database: no pair can lie across two
    sources = records["source"].astype(str).tolist()
    found = matching.find_matches(matcher_table(records), similar=similar, apart=sources)
    if found.empty:
        return found.astype({"left": "int64", "right": "int64"})
    found = found.astype({"left": "int64", "right": "int64"})
    source = dict(zip(records["record_id"].astype("int64"), records["source"], strict=True))
    low = found[["left", "right"]].min(axis=1)
    high = found[["left", "right"]].max(axis=1)
    found = found.assign(left=low, right=high)
    apart = [source[a] != source[b] for a, b in zip(found["left"], found["right"], strict=True)]
    return found[apart].reset_index(drop=True)


def _no_matches() -> pd.DataFrame:
    """An empty answer of :func:`cross_source_matches`, in its shape."""
    frame = pd.DataFrame(columns=matching.MATCH_COLUMNS)
    return frame.astype({"left": "int64", "right": "int64"})


def merge_automatic(store: Store) -> MergeSummary:
    """Merge every certain cross-source duplicate not yet judged, in one append.

    Idempotent: a pair already judged (by anyone, either way) is left as it is, so running it
    after each import merges only what is new, and never undoes a person's "not a duplicate".
    """
    records = store.records(columns=READ_COLUMNS)
    found = cross_source_matches(records, similar=False)
    if found.empty:
        return MergeSummary(0, 0, 0)
    duplicates = found[found["relation"] == matching.Relation.DUPLICATE]
    sure = duplicates[duplicates["confidence"] == matching.Confidence.AUTOMATIC]
    judged, already = _judged(store)
    source = dict(zip(records["record_id"].astype("int64"), records["source"], strict=True))
    rules = {(int(a), int(b)): str(r) for a, b, r in
             zip(sure["left"], sure["right"], sure["rule"], strict=True)}  # fmt: skip
    events = []
    for group in matching.joined(rules):
        if len({source[member] for member in group}) < len(group):
            continue  # it would join two records of one database: a person decides
        original, *later = sorted(group)
        for member in later:
            if (member, original) in judged or member in already:
                continue
            rule = rules.get((original, member)) or _rule_within(rules, group)
            events.append(
                Event(
                    Action.DUPLICATE_CONFIRM,
                    AUTOMATIC,
                    member,
                    value=str(original),
                    note=f"{rule} ({source[member]} and {source[original]})",
                )
            )
    if events:
        store.append_events(events)
    waiting = int((duplicates["confidence"] == matching.Confidence.REVIEW).sum())
    related = int((found["relation"] == matching.Relation.RELATED).sum())
    return MergeSummary(len(events), waiting, related)


def _judged(store: Store) -> tuple[set[tuple[int, int]], set[int]]:
    """Every (record, original) pair judged either way, and the records already confirmed as
    a duplicate of something: neither is merged again."""
    judged = duplicate_judgements(store.events_of([*DUPLICATE_JUDGEMENTS, Action.UNDO]))
    return set(judged), {record for (record, _), status in judged.items() if status == "confirmed"}


def _rule_within(rules: dict[tuple[int, int], str], group: list[int]) -> str:
    """The rule of a pair inside the group (a member joined to the original through another)."""
    members = set(group)
    return next(rule for (a, b), rule in rules.items() if a in members and b in members)


def _family(full: str) -> str:
    """The family name of "Smith, John A" (or a group's whole name)."""
    return full.split(",", 1)[0].strip()
