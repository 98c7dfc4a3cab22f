"""Likely duplicates: flagged with the rule that matched, never merged without a person.

Rules, in order (a pair keeps the first rule that found it):

1. ``same DOI`` (case-insensitive);
2. ``same title, year and first author``: titles compared without case, accents, punctuation
   or spacing;
3. ``erratum`` / ``retraction`` / ``notice``: a notice (publication type "Published Erratum",
   "Retraction of Publication", or a title starting "Erratum", "Correction to", "Retraction"…)
   linked to the article whose title it repeats.

In each pair the lower (older) PMID is the original. A reviewer confirms or rejects each pair
(events ``duplicate-confirm`` / ``duplicate-reject``, value = the original's PMID); only
confirmed duplicates count as "duplicates removed" in PRISMA, and no record is ever deleted.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from tracker import merging
from tracker.decision_log import DUPLICATE_JUDGEMENTS, duplicate_judgements
from tracker.errors import ScreeningError
from tracker.records import Action
from tracker.screening import check_pmids, signer
from tracker.store import Event, Store

NOTICE_TYPES = {
    "Published Erratum": "erratum",
    "Retraction of Publication": "retraction",
    "Retraction Notice": "retraction",
}
_NOTICE_PREFIX = re.compile(
    r"^\s*(?P<kind>erratum|errata|correction|corrigendum|retraction( note| notice)?"
    r"|notice of retraction|retracted)"
    r"(\s+(to|for|of|in|on))?\s*(?:[:.\-–]\s*|\s+|$)",
    flags=re.IGNORECASE,
)
_CITATION_SUFFIX = re.compile(r"\s*\[[^\]]*\]\s*\.?\s*$")
COLUMNS = ["record_id", "duplicate_of", "rule", "detail", "status"]
JUDGEMENTS = DUPLICATE_JUDGEMENTS

Pairs = dict[tuple[int, int], tuple[str, str]]


def normalise_title(title: str) -> str:
    """Case, accents, punctuation and spacing removed: what makes two titles 'the same'."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


def find_duplicates(records: pd.DataFrame, store: Store | None = None) -> pd.DataFrame:
    """Pairs (record_id, duplicate_of) with the rule that matched and a short detail.

    With ``store``, ``status`` says whether a reviewer confirmed or rejected the pair (else
    "open"), and pairs a reviewer judged that no rule found are listed too ("named by a
    reviewer"). Rows are sorted by record_id, then duplicate_of.
    """
    return with_status(candidates(records), store)


def candidates(records: pd.DataFrame) -> pd.DataFrame:
    """What the rules find in the records alone (no status): it changes only with the records,
    so a caller may keep it while judgements come in (:func:`with_status`)."""
    pairs: Pairs = {}
    title = records["title"].fillna("").astype(str).map(normalise_title)
    doi = records["doi"].fillna("").astype(str).str.strip().str.lower()
    _same_key(records["record_id"], doi, doi, "same DOI", pairs)
    first_author = records["authors"].map(lambda a: a[0].casefold() if len(a) else "")
    year = records["year"].astype("string").fillna("")
    key = (title + "|" + year + "|" + first_author).where(title.str.len() > 0, "")
    _same_key(records["record_id"], key, title, "same title, year and first author", pairs)
    _notices(records, title, pairs)
    if set(merging.READ_COLUMNS) <= set(records.columns):
        _across_sources(records, pairs)
    return _frame(pairs)


def with_status(found: pd.DataFrame, store: Store | None) -> pd.DataFrame:
    """``found`` (:func:`candidates`) with each pair's status, plus the pairs a reviewer judged
    that no rule found."""
    judged = judgements(store) if store is not None else {}
    pairs: Pairs = {(int(p), int(d)): (str(r), str(t)) for p, d, r, t in
                    zip(found["record_id"], found["duplicate_of"], found["rule"],
                        found["detail"], strict=True)}  # fmt: skip
    for pair in judged:
        pairs.setdefault(pair, ("named by a reviewer", ""))
    frame = _frame(pairs)
    pairs_seen = zip(frame["record_id"].tolist(), frame["duplicate_of"].tolist(), strict=True)
    frame["status"] = [judged.get(pair, "open") for pair in pairs_seen]
    return frame


def _frame(pairs: Pairs) -> pd.DataFrame:
    rows = [(p, d, rule, detail) for (p, d), (rule, detail) in sorted(pairs.items())]
    return pd.DataFrame(rows, columns=COLUMNS[:4]).astype(
        {"record_id": "int64", "duplicate_of": "int64"}
    )


def _same_key(pmids: pd.Series, key: pd.Series, shown: pd.Series, rule: str, pairs: Pairs) -> None:
    """Pair every record with the lowest PMID sharing its non-empty key.

    Only keys that occur more than once are grouped, so 100,000 distinct records cost one
    hash pass rather than 100,000 groups.
    """
    keyed = pd.DataFrame({"record_id": pmids.astype("int64"), "key": key, "shown": shown})
    keyed = keyed[(keyed["key"] != "") & keyed["key"].duplicated(keep=False)]
    keyed = keyed.sort_values(["key", "record_id"])
    original = keyed.groupby("key")["record_id"].transform("min")
    later = keyed[keyed["record_id"] != original]
    detail = later["shown"].str.slice(0, 80)
    for pmid, first, text in zip(later["record_id"], original[later.index], detail, strict=True):
        pairs.setdefault((int(pmid), int(first)), (rule, str(text)))


def _across_sources(records: pd.DataFrame, pairs: Pairs) -> None:
    """Pairs the cross-source matcher finds (:mod:`tracker.merging`): the certain ones are
    merged on import and show here as confirmed; the uncertain ones wait here for a person."""
    found = merging.cross_source_matches(records)
    found = found[found["relation"] == "duplicate"]
    for left, right, rule, confidence, detail in zip(
        found["left"],
        found["right"],
        found["rule"],
        found["confidence"],
        found["detail"],
        strict=True,
    ):
        pairs.setdefault((int(right), int(left)), (f"{rule} ({confidence})", str(detail)[:80]))


def notice_target(title: str) -> tuple[str, str] | None:
    """(kind, normalised title of the article it concerns) if the title names a notice."""
    match = _NOTICE_PREFIX.match(title)
    if match is None:
        return None
    rest = _CITATION_SUFFIX.sub("", title[match.end() :]).strip(" \"'“”‘’")
    kind = match.group("kind").casefold()
    label = "retraction" if "retract" in kind else "erratum"
    return label, normalise_title(rest)


def _notices(records: pd.DataFrame, title: pd.Series, pairs: Pairs) -> None:
    """Link each erratum or retraction notice to the oldest record with the title it repeats."""
    pmids = records["record_id"].astype("int64").tolist()
    by_title: dict[str, int] = {}
    for key, pmid in sorted(zip(title.tolist(), pmids, strict=True), reverse=True):
        if key:
            by_title[key] = pmid  # reversed, so the oldest record with that title wins
    types = records["publication_types"].tolist()
    raw = records["title"].fillna("").astype(str).tolist()
    for pmid, text, kinds in zip(pmids, raw, types, strict=True):
        typed = next((NOTICE_TYPES[t] for t in kinds if t in NOTICE_TYPES), None)
        found = notice_target(text)
        if found is None and typed is None:
            continue
        label, target_title = found if found else (typed or "notice", normalise_title(text))
        target = by_title.get(target_title)
        if target is not None and target != pmid:
            pairs.setdefault((pmid, target), (typed or label, text[:80]))


def judgements(store: Store) -> dict[tuple[int, int], str]:
    """The latest judgement of each judged pair (duplicate, original): "confirmed" or
    "rejected"."""
    return duplicate_judgements(store.events_of([*JUDGEMENTS, Action.UNDO]))


def confirm(store: Store, pmid: int, *, duplicate_of: int, reviewer: str) -> None:
    """A person agrees ``pmid`` duplicates ``duplicate_of``: it leaves the PRISMA count."""
    _judge(store, Action.DUPLICATE_CONFIRM, pmid, duplicate_of, reviewer)


def reject(store: Store, pmid: int, *, duplicate_of: int, reviewer: str) -> None:
    """A person says the pair is not a duplicate (it stays listed, marked rejected)."""
    _judge(store, Action.DUPLICATE_REJECT, pmid, duplicate_of, reviewer)


def _judge(store: Store, action: Action, pmid: int, duplicate_of: int, reviewer: str) -> None:
    who = signer(store, reviewer)
    if pmid == duplicate_of:
        raise ScreeningError("A record cannot duplicate itself: give two different PMIDs.")
    check_pmids(store, [pmid, duplicate_of])
    store.append_events([Event(action, who, pmid, value=str(duplicate_of))])


def confirmed(store: Store) -> set[int]:
    """PMIDs confirmed as duplicates (their latest judgement is a confirmation)."""
    return {pmid for (pmid, _), status in judgements(store).items() if status == "confirmed"}
