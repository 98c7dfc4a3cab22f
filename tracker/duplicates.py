"""Likely duplicates: flagged with the rule that matched, never merged without a person.

Rules: the same DOI; the same normalised title, year and first author; and notices (errata,
retractions) linked to the article they correct. A reviewer confirms or rejects each pair;
only confirmed duplicates count as "duplicates removed" in PRISMA.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from tracker.errors import ScreeningError
from tracker.screening import check_pmids, check_reviewer, live_events
from tracker.store import Event, Store

NOTICE_TYPES = {
    "Published Erratum": "erratum",
    "Retraction of Publication": "retraction",
    "Retraction Notice": "retraction",
}
_NOTICE_PREFIX = re.compile(
    r"^(erratum|correction|corrigendum|retraction( note| notice)?|notice of retraction)"
    r"( to| for| of)?\s*[:.\-–]?\s*",
    flags=re.I,
)
COLUMNS = ["pmid", "duplicate_of", "rule", "detail", "status"]


def normalise_title(title: str) -> str:
    """Case, accents, punctuation and spacing removed: what makes two titles 'the same'."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


def find_duplicates(records: pd.DataFrame, store: Store | None = None) -> pd.DataFrame:
    """Pairs (pmid, duplicate_of) with the rule that matched; the older PMID is the original."""
    pairs: dict[tuple[int, int], tuple[str, str]] = {}
    _by_key(records, records["doi"].fillna("").str.lower(), "same DOI", pairs)
    first_author = records["authors"].map(lambda a: a[0].casefold() if len(a) else "")
    title = records["title"].fillna("").map(normalise_title)
    key = title + "|" + records["year"].astype("string").fillna("") + "|" + first_author
    _by_key(
        records[title.str.len() > 0],
        key[title.str.len() > 0],
        "same title, year and first author",
        pairs,
    )
    _notices(records, title, pairs)
    frame = pd.DataFrame(
        [(p, d, rule, detail) for (p, d), (rule, detail) in sorted(pairs.items())],
        columns=COLUMNS[:4],
    )
    judged = _judgements(store) if store is not None else {}
    pairs_seen = zip(frame["pmid"], frame["duplicate_of"], strict=True)
    frame["status"] = [judged.get((int(p), int(d)), "open") for p, d in pairs_seen]
    return frame


def _by_key(records: pd.DataFrame, key: pd.Series, rule: str,
            pairs: dict[tuple[int, int], tuple[str, str]]) -> None:  # fmt: skip
    keyed = pd.DataFrame({"pmid": records["pmid"], "key": key})
    keyed = keyed[keyed["key"].str.len() > 0]
    for value, group in keyed.groupby("key"):
        pmids = sorted(group["pmid"].astype(int))
        for later in pmids[1:]:
            pairs.setdefault((later, pmids[0]), (rule, str(value)[:80]))


def _notices(records: pd.DataFrame, title: pd.Series,
             pairs: dict[tuple[int, int], tuple[str, str]]) -> None:  # fmt: skip
    by_title: dict[str, int] = {}
    for key, pmid in sorted(zip(title, records["pmid"].astype(int), strict=True)):
        by_title.setdefault(key, pmid)  # the oldest record with that title is the original
    for pmid, raw, types in zip(records["pmid"].astype(int), records["title"].fillna(""),
                                records["publication_types"], strict=True):  # fmt: skip
        kind = next((NOTICE_TYPES[t] for t in types if t in NOTICE_TYPES), None)
        stripped = _NOTICE_PREFIX.sub("", raw)
        if kind is None and stripped == raw:
            continue
        target = by_title.get(normalise_title(stripped))
        if target is not None and target != pmid:
            pairs.setdefault((pmid, target), (kind or "notice", f"{raw[:60]}"))


def _judgements(store: Store) -> dict[tuple[int, int], str]:
    """The latest judgement of each judged pair: confirmed or rejected."""
    events = live_events(store.events())
    judged = events[events["action"].isin(["duplicate-confirm", "duplicate-reject"])]
    latest = judged.drop_duplicates(["pmid", "value"], keep="last")
    return {
        (int(p), int(v)): "confirmed" if a == "duplicate-confirm" else "rejected"
        for p, v, a in zip(latest["pmid"], latest["value"], latest["action"], strict=True)
    }


def confirm(store: Store, pmid: int, *, duplicate_of: int, reviewer: str) -> None:
    """A person agrees ``pmid`` duplicates ``duplicate_of``: it leaves the PRISMA count."""
    _judge(store, "duplicate-confirm", pmid, duplicate_of, reviewer)


def reject(store: Store, pmid: int, *, duplicate_of: int, reviewer: str) -> None:
    """A person says the pair is not a duplicate."""
    _judge(store, "duplicate-reject", pmid, duplicate_of, reviewer)


def _judge(store: Store, action: str, pmid: int, duplicate_of: int, reviewer: str) -> None:
    who = check_reviewer(reviewer)
    if pmid == duplicate_of:
        raise ScreeningError("A record cannot duplicate itself: give two different PMIDs.")
    check_pmids(store, [pmid, duplicate_of])
    store.append_events([Event(action, who, pmid, value=str(duplicate_of))])


def confirmed(store: Store) -> set[int]:
    """PMIDs confirmed as duplicates (their latest judgement is a confirmation)."""
    return {pmid for (pmid, _), status in _judgements(store).items() if status == "confirmed"}
