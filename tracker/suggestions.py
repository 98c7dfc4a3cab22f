"""Suggested tags: what :mod:`tracker.tagging` proposes for each record, kept apart from the
tags reviewers add themselves, and what reviewers made of each proposal.

A suggestion is one (PMID, facet, value) with its evidence: the field ("title", "abstract",
"publication type" or "MeSH") and the span there that triggered it. Sample size and dose are
suggestions too, under the facets "n" and "dose", and so is a review's number of studies pooled
("studies_pooled").

Suggestions are derived data. They are computed over the whole library and cached in
``<data_dir>/suggestions.parquet`` (a side table of the store) in long form, one row per piece
of evidence, with the records file's stamp and the tagging fingerprint (rules and vocabulary)
in the Parquet metadata. The cache is reused while both match and rewritten atomically, under
the store's lock, when either changes. It is only ever a shortcut: a missing, stale or corrupt
cache is recomputed, and a cache that cannot be written (read-only folder, full disk) leaves
the suggestions in memory, with a :class:`SuggestionCacheWarning`.

Reviewers judge suggestions with events: ``suggestion-accept`` and ``suggestion-reject``, value
``"facet: value"``. ``tracker undo`` reverses them like any other action. Each reviewer's
latest word on a suggestion counts. With two reviewers, acceptance wins: a suggestion is
rejected only when every reviewer who judged it rejected it, because a rejection takes the
evidence out of views and exports, and that needs the agreement of everyone who vouched for
it (the same rule as a final screening decision). Disagreement is shown, never hidden.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from tracker import evidence_cache, tagging
from tracker.decision_log import live_events
from tracker.errors import ScreeningError, StoreError
from tracker.records import Action, Facet
from tracker.screening import check_pmids, signer
from tracker.store import Event, Store
from tracker.vocabulary import KNOWN_FACETS, Vocabulary, load_vocabulary

CACHE_NAME = "suggestions"
CACHE_FILE = CACHE_NAME + ".parquet"
COLUMNS = ("record_id", "facet", "value", "field", "span")
STATE_COLUMNS = (*COLUMNS, "status", "judgements", "disputed")
ACCEPT, REJECT = Action.SUGGESTION_ACCEPT, Action.SUGGESTION_REJECT
SUGGESTED, ACCEPTED, REJECTED = "suggested", "accepted", "rejected"
NUMBER_FACETS = {"sample_size": "n", "studies_pooled": "studies_pooled", "dose": "dose"}
"""The evidence's names for the numbers, and the facet names suggestions give them."""
LABELS = {facet.value: facet.label for facet in Facet} | {"studies_pooled": "studies pooled"}
"""How a facet reads in exports; the others read as they are named."""

_SCHEMA = pa.schema(
    [("record_id", pa.int64())] + [(name, pa.string()) for name in COLUMNS[1:]],
)
_RECORD_COLUMNS = ("record_id", "title", "abstract", "publication_types", "mesh_terms",
                   "mesh_qualified")  # fmt: skip
_STAMP_KEY, _FINGERPRINT_KEY = b"tracker.records_stamp", b"tracker.tagging_fingerprint"


class Judge(Protocol):
    """:func:`accept` or :func:`reject`."""

    def __call__(self, store: Store, pmid: int, facet: str, value: str, *, reviewer: str) -> int:
        raise NotImplementedError


class SuggestionCacheWarning(UserWarning):
    """The suggestions cache could not be written; suggestions were computed in memory."""


# -- the suggestions ---------------------------------------------------------------------------


def suggestions(store: Store, *, vocabulary: Vocabulary | None = None) -> pd.DataFrame:
    """Every suggestion's evidence in long form (:data:`COLUMNS`), sorted by PMID and facet.

    ``vocabulary`` is the store's own (:func:`tracker.vocabulary.load_vocabulary`) unless given.
    """
    vocabulary = vocabulary or load_vocabulary(store)
    stamp, fingerprint = records_stamp(store), tagging_fingerprint(vocabulary)
    frame = _read_cache(store, stamp, fingerprint)
    if frame is None:
        # Records replaced after the stamp was taken are cached under the old stamp, which the
        # next call no longer matches: at worst one more recomputation, never stale tags.
        records = store.records(columns=_RECORD_COLUMNS)
        frame = long_form(evidence_cache.library_evidence(store, records, vocabulary=vocabulary))
        if len(records):
            _write_cache(store, frame, stamp, fingerprint)
    return frame


def long_form(evidence: pd.DataFrame) -> pd.DataFrame:
    """An evidence frame (:func:`tracker.tagging.evidence`) as one row per piece of evidence.

    Within a record the facets keep the vocabulary's order (then n, studies_pooled, dose),
    values sort by name, and a value's evidence keeps the tagger's order: indexing first, then
    title, then abstract.
    """
    proofs = evidence["evidence"].tolist()
    counts = np.fromiter((len(p) for p in proofs), dtype=np.int64, count=len(proofs))
    flat = [item for proof in proofs for item in proof]
    frame = pd.DataFrame(
        {
            "record_id": np.repeat(evidence.index.to_numpy(dtype="int64"), counts),
            "facet": [NUMBER_FACETS.get(i["facet"], i["facet"]) for i in flat],
            "value": [str(i["value"]) for i in flat],
            "field": [i["field"] for i in flat],
            "span": [i["span"] for i in flat],
        },
        columns=list(COLUMNS),
    ).astype({"record_id": "int64", **dict.fromkeys(COLUMNS[1:], object)})
    order = {facet: rank for rank, facet in enumerate((*KNOWN_FACETS, *NUMBER_FACETS.values()))}
    frame["_rank"] = frame["facet"].map(order).fillna(len(order)).astype("int64")
    frame = frame.sort_values(["record_id", "_rank", "value"], kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)


def records_stamp(store: Store) -> str:
    """Identifies the records file's current contents: it is replaced whole on every write.

    Only the records count: accepting a suggestion or screening a record changes the event log,
    not what the tagger sees, so it must not throw the cache away.
    """
    return store.stamp().records


def tagging_fingerprint(vocabulary: Vocabulary) -> str:
    """What suggestions depend on besides the records: the tagger's code and vocabulary.

    The tagger's sources are part of it (tracker.tagging.RULE_SOURCES), so that a changed rule
    recomputes every suggestion, as an edited vocabulary file does.
    """
    digest = hashlib.sha256()
    for source in tagging.RULE_SOURCES:
        digest.update(source.read_bytes())
    digest.update(vocabulary.fingerprint.encode())
    return digest.hexdigest()


def _read_cache(store: Store, stamp: str, fingerprint: str) -> pd.DataFrame | None:
    """The cached suggestions when they are for these records and rules; else None."""
    try:
        table = store.read_side_table(CACHE_NAME)
    except StoreError:
        return None  # unreadable: recompute, and the next write replaces it
    if table is None or not table.schema.equals(_SCHEMA, check_metadata=False):
        return None
    meta = table.schema.metadata or {}
    if (meta.get(_STAMP_KEY), meta.get(_FINGERPRINT_KEY)) != (stamp.encode(), fingerprint.encode()):
        return None
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _write_cache(store: Store, frame: pd.DataFrame, stamp: str, fingerprint: str) -> None:
    """Replace the cache atomically, under the store's lock; failing to is only a warning."""
    table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
    table = table.replace_schema_metadata(
        {_STAMP_KEY: stamp.encode(), _FINGERPRINT_KEY: fingerprint.encode()}
    )
    evidence_cache.keep(store, CACHE_NAME, table, "The suggested tags", SuggestionCacheWarning)


# -- judging them ----------------------------------------------------------------------------


def accept(store: Store, pmid: int, facet: str, value: str, *, reviewer: str) -> int:
    """Record that ``reviewer`` agrees with a suggestion; returns the event id."""
    return _judge(store, ACCEPT, pmid, facet, value, reviewer)


def reject(store: Store, pmid: int, facet: str, value: str, *, reviewer: str) -> int:
    """Record that ``reviewer`` finds a suggestion wrong; returns the event id."""
    return _judge(store, REJECT, pmid, facet, value, reviewer)


def parse_tag(text: str) -> tuple[str, str]:
    """``"facet: value"`` as typed (``adverse effects: nausea or vomiting``) → (facet, value)."""
    facet, colon, value = text.partition(":")
    if not colon or not facet.strip() or not value.strip():
        raise ScreeningError(
            f'{text!r} is not a suggestion: write it as "facet: value", for example'
            ' "adverse effects: nausea or vomiting", as the record\'s suggestions list them.'
        )
    return facet.strip(), value.strip()


def facet_key(facet: str) -> str:
    """A facet as typed or as exports show it ("Adverse effects") → its name ("adverse_effects")."""
    wanted = "_".join(facet.casefold().replace("_", " ").split())
    known = (*KNOWN_FACETS, *NUMBER_FACETS.values())
    if wanted not in known:
        raise ScreeningError(
            f"Unknown facet {facet!r}: use one of {', '.join(label(f) for f in known)}."
        )
    return wanted


def label(facet: str) -> str:
    return LABELS.get(facet, facet)


def _judge(store: Store, action: Action, pmid: int, facet: str, value: str, reviewer: str) -> int:
    who = signer(store, reviewer)
    (target,) = check_pmids(store, [pmid])
    key = facet_key(facet)
    frame = suggestions(store)
    mine = frame[
        (frame["record_id"] == target).to_numpy(bool) & (frame["facet"] == key).to_numpy(bool)
    ]
    match = {v.casefold(): v for v in mine["value"]}.get(" ".join(value.split()).casefold())
    if match is None:
        offered = "; ".join(dict.fromkeys(mine["value"])) or "none"
        raise ScreeningError(
            f"PMID {target} has no suggested {label(key)} {value!r} (suggested: {offered})."
        )
    (event_id,) = store.append_events([Event(action, who, target, value=f"{key}: {match}")])
    return event_id


# -- what reviewers made of them ------------------------------------------------------------------


def review_state(
    store: Store, *, vocabulary: Vocabulary | None = None, evidence: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per suggestion (pmid, facet, value) with its first evidence and its status.

    ``status`` is "suggested", "accepted" or "rejected" (see the module docstring for two
    reviewers); ``judgements`` reads "ana: accepted; ben: rejected"; ``disputed`` is True when
    reviewers' latest words differ. A judgement outlives a suggestion that the tagger stops
    making, and applies again if the suggestion comes back. ``evidence`` is the library's
    evidence frame (:func:`tracker.tagging.evidence`) when the caller holds it already, as the
    app does: the tags are then not read or computed again.
    """
    frame = suggestions(store, vocabulary=vocabulary) if evidence is None else long_form(evidence)
    first = frame.drop_duplicates(["record_id", "facet", "value"]).reset_index(drop=True)
    return with_status(first, verdicts(store))


def with_status(frame: pd.DataFrame, judged: pd.DataFrame) -> pd.DataFrame:
    """Evidence rows (:data:`COLUMNS`) with what reviewers made of each: :data:`STATE_COLUMNS`.

    ``judged`` is :func:`verdicts`. Unjudged rows are "suggested", with no judgements.
    """
    state = frame.merge(judged, how="left", on=["record_id", "facet", "value"], validate="m:1")
    state["status"] = state["status"].fillna(SUGGESTED)
    state["judgements"] = state["judgements"].fillna("")
    state["disputed"] = state["disputed"].fillna(False).astype(bool)
    return state[list(STATE_COLUMNS)]


def without_rejected(evidence: pd.DataFrame, judged: pd.DataFrame) -> pd.DataFrame:
    """An evidence frame (:func:`tracker.tagging.evidence`) with the ``facet:value`` flags of
    rejected suggestions cleared, so filters and charts agree with :func:`live`.

    ``judged`` is :func:`verdicts`. Without a rejection the frame is returned as it is (no
    copy), which is the common case.
    """
    rejected = judged[(judged["status"] == REJECTED).to_numpy(bool)]
    pairs = zip(rejected["record_id"], rejected["facet"], rejected["value"], strict=True)
    hits = [
        (pmid, f"{facet}:{value}")
        for pmid, facet, value in pairs
        if f"{facet}:{value}" in evidence.columns and pmid in evidence.index
    ]
    if not hits:
        return evidence
    cleared = evidence.copy()
    for pmid, column in hits:
        cleared.at[pmid, column] = False
    return cleared


def live(
    store: Store, *, vocabulary: Vocabulary | None = None, evidence: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The suggestions that count: every one not rejected (accepted or not yet judged);
    ``evidence`` as for :func:`review_state`."""
    state = review_state(store, vocabulary=vocabulary, evidence=evidence)
    return state[(state["status"] != REJECTED).to_numpy(bool)].reset_index(drop=True)


def verdicts(store: Store) -> pd.DataFrame:
    """Per judged suggestion: pmid, facet, value, status, judgements and disputed.

    Read from the live events only, so it is cheap: the app joins it to the one record on
    screen, and to the evidence flags its filters use, without re-reading every suggestion.
    """
    events = live_events(store.events_of([ACCEPT, REJECT, Action.UNDO]))
    judged = events[events["action"].isin([ACCEPT, REJECT]).to_numpy(bool)]
    latest = judged.drop_duplicates(["record_id", "value", "reviewer"], keep="last")
    said: dict[tuple[int, str], dict[str, str]] = {}
    for pmid, tag, who, action in latest[["record_id", "value", "reviewer", "action"]].itertuples(
        index=False
    ):
        said.setdefault((int(pmid), str(tag)), {})[str(who)] = (
            ACCEPTED if action == ACCEPT else REJECTED
        )
    rows = []
    for (pmid, tag), words in sorted(said.items()):
        facet, _, value = tag.partition(": ")
        status = ACCEPTED if ACCEPTED in words.values() else REJECTED
        text = "; ".join(f"{who}: {word}" for who, word in sorted(words.items()))
        rows.append((pmid, facet, value, status, text, len(set(words.values())) > 1))
    columns = ["record_id", "facet", "value", "status", "judgements", "disputed"]
    return pd.DataFrame(rows, columns=columns).astype({"record_id": "int64"})


# -- in exports -------------------------------------------------------------------------------


def suggested_tags_column(state: pd.DataFrame) -> dict[int, tuple[str, str]]:
    """Per PMID, the export's two cells: "Suggested Tags" and "Suggested Tag Evidence".

    From a :func:`review_state` frame. Rejected suggestions are left out and accepted ones
    marked: ``design: RCT (accepted); drug: esketamine``. The evidence cell traces each one to
    its span: ``adverse effects: nausea or vomiting <- abstract "nausea"``.
    """
    shown = state[(state["status"] != REJECTED).to_numpy(bool)]
    facets, values, fields, spans, statuses = (
        shown[c].tolist() for c in ("facet", "value", "field", "span", "status")
    )
    tags = [f"{LABELS.get(f, f)}: {v}" for f, v in zip(facets, values, strict=True)]
    proof = [f'{t} <- {f} "{s}"' for t, f, s in zip(tags, fields, spans, strict=True)]
    marked = [
        t + " (accepted)" if s == ACCEPTED else t for t, s in zip(tags, statuses, strict=True)
    ]
    return _joined_per_pmid(shown["record_id"].to_numpy(dtype="int64"), marked, proof)


def export_cells(store: Store) -> dict[int, tuple[str, str]]:
    """The CSV export's suggestion cells for every record of ``store``."""
    return suggested_tags_column(review_state(store))


def _joined_per_pmid(
    pmids: np.ndarray, tags: list[str], proof: list[str]
) -> dict[int, tuple[str, str]]:
    """Join each PMID's run of rows (rows are grouped by PMID) with "; "."""
    if not len(pmids):
        return {}
    starts = np.flatnonzero(np.r_[True, pmids[1:] != pmids[:-1]])
    ends = np.r_[starts[1:], len(pmids)]
    return {
        pmid: ("; ".join(tags[a:b]), "; ".join(proof[a:b]))
        for pmid, a, b in zip(pmids[starts].tolist(), starts.tolist(), ends.tolist(), strict=True)
    }


def status_counts(state: pd.DataFrame) -> Mapping[str, int]:
    """How many suggestions are suggested, accepted and rejected: for a summary line."""
    counts = state["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in (SUGGESTED, ACCEPTED, REJECTED)}
