"""The decision log and the state folded from it: the fast core of screening.

Events are only ever appended (see :mod:`tracker.screening` for the actions). The state of
every record is a pure function of the events still in force, folded in id order: undone
events drop out, each reviewer's latest decision per (PMID, stage) counts, a resolution
overrides them. Everything here is vectorised, because a review of 100,000 records with a few
events each must fold in well under a second.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tracker.records import DECISION_ACTIONS, Action, Decision, Stage

CONFLICT = Decision.CONFLICT
SUMMARY_COLUMNS = (
    "decision",
    "stage",
    "ta_decision",
    "ft_decision",
    "exclusion_reason",
    "tags",
    "notes",
    "reviewers",
    "conflict",
)


DUPLICATE_JUDGEMENTS = (Action.DUPLICATE_CONFIRM, Action.DUPLICATE_REJECT)
"""The actions that judge a pair (value = the original's record id)."""


def duplicate_judgements(events: pd.DataFrame) -> dict[tuple[int, int], str]:
    """The latest live judgement of each judged pair (duplicate, original): "confirmed" or
    "rejected". ``events`` may be the whole log or only its judgements and undos."""
    live = live_events(events)
    judged = live[live["action"].isin(DUPLICATE_JUDGEMENTS)]
    latest = judged.drop_duplicates(["record_id", "value"], keep="last")
    return {
        (int(p), int(v)): "confirmed" if a == Action.DUPLICATE_CONFIRM else "rejected"
        for p, v, a in zip(latest["record_id"], latest["value"], latest["action"], strict=True)
    }


def live_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events still in force: undo events and the events they reversed are left out."""
    undo = (events["action"] == Action.UNDO).to_numpy(dtype=bool)
    undone = events["target_id"].to_numpy()[undo]
    keep = ~undo & ~events["id"].isin(pd.array(undone, dtype="Int64").dropna()).to_numpy(bool)
    return events[keep]


def summarise(events: pd.DataFrame, pmids: pd.Index) -> pd.DataFrame:
    """The state of each of ``pmids`` (the columns of :data:`SUMMARY_COLUMNS`) from events."""
    log = compact(live_events(events))
    with collector_paused():
        return fold(log, pmids)


def fold(log: pd.DataFrame, pmids: pd.Index) -> pd.DataFrame:
    """The state from a :func:`compact` log of live events."""
    ta, ta_reason = final_decisions(log, Stage.TITLE_ABSTRACT, pmids)
    ft, ft_reason = final_decisions(log, Stage.FULL_TEXT, pmids)
    full_text = ft != Decision.UNSCREENED.value
    screened = full_text | (ta != Decision.UNSCREENED.value)
    stage = np.where(full_text, Stage.FULL_TEXT.value, Stage.TITLE_ABSTRACT.value)
    frame = pd.DataFrame(
        {
            "decision": np.where(full_text, ft, ta),
            "stage": np.where(screened, stage, ""),
            "ta_decision": ta,
            "ft_decision": ft,
            "exclusion_reason": np.where(full_text, ft_reason, ta_reason),
            "tags": grouped(current_tags(log), "value", pmids),
            "notes": grouped(current_notes(log), "note", pmids),
            "reviewers": grouped(deciders(log), "reviewer", pmids),
            "conflict": (ta == CONFLICT) | (ft == CONFLICT),
        },
        index=pmids,
    )
    return frame[list(SUMMARY_COLUMNS)]


def latest_decisions(events: pd.DataFrame) -> pd.DataFrame:
    """Each reviewer's latest decision per (pmid, stage), from live events."""
    decided = events[(events["action"] == Action.DECIDE).to_numpy(bool)]
    return decided.drop_duplicates(["record_id", "stage", "reviewer"], keep="last")


def compact(events: pd.DataFrame) -> pd.DataFrame:
    """Only the columns and rows the fold needs, strings as categories (fast to filter)."""
    log = events.loc[events["record_id"].notna(), ["id", "record_id", "reviewer", "stage", "action",
                                               "value", "reason", "note"]]  # fmt: skip
    text = ["reviewer", "stage", "action", "value", "reason", "note"]
    log = log.astype({"record_id": "int64", **dict.fromkeys(text, "category")})
    return log.reset_index(drop=True)


def final_decisions(
    log: pd.DataFrame, stage: str, pmids: pd.Index
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Final decision and exclusion reason at ``stage`` for each of ``pmids``.

    The resolution if any; else the decision every reviewer's latest one agrees on (with the
    latest reason given); else "conflict". Grouping integer codes keeps this vectorised.
    """
    decisions = np.full(len(pmids), Decision.UNSCREENED.value, dtype=object)
    reasons = np.full(len(pmids), "", dtype=object)
    at_stage = log[(log["stage"] == stage).to_numpy(bool)]
    latest = latest_decisions(at_stage)
    values, why = _strings(latest["value"]), _strings(latest["reason"])
    codes = pd.DataFrame(
        {"code": latest["value"].cat.codes.to_numpy(), "row": np.arange(len(latest))},
        index=latest["record_id"].to_numpy(),
    )
    spread = codes.groupby(level=0).agg(
        low=("code", "min"), high=("code", "max"), row=("row", "max")
    )
    agreed = (spread["low"] == spread["high"]).to_numpy(bool)
    rows = spread["row"].to_numpy()
    _place(decisions, pmids, spread.index, np.where(agreed, values[rows], CONFLICT))
    _place(reasons, pmids, spread.index, np.where(agreed, why[rows], ""))
    resolved = at_stage[(at_stage["action"] == Action.RESOLVE).to_numpy(bool)]
    resolved = resolved.drop_duplicates("record_id", keep="last")
    _place(decisions, pmids, pd.Index(resolved["record_id"]), _strings(resolved["value"]))
    _place(reasons, pmids, pd.Index(resolved["record_id"]), _strings(resolved["reason"]))
    return decisions, reasons


def _place(
    target: npt.NDArray[np.object_], index: pd.Index, keys: pd.Index, values: npt.NDArray[Any]
) -> None:
    """``target[position of key] = value`` for the keys present in ``index``."""
    positions = index.get_indexer(keys)
    found = positions >= 0
    target[positions[found]] = values[found]


def current_tags(log: pd.DataFrame) -> pd.DataFrame:
    """One row per tag a record carries now (its latest add/remove was an add), sorted."""
    tags = log[log["action"].isin([Action.TAG_ADD, Action.TAG_REMOVE]).to_numpy(bool)]
    last = tags.drop_duplicates(["record_id", "value"], keep="last")
    present = last[(last["action"] == Action.TAG_ADD).to_numpy(bool)]
    return present.sort_values(["record_id", "value"])


def current_notes(log: pd.DataFrame) -> pd.DataFrame:
    """Notes in force, oldest first: note events, and the notes of decisions still current."""
    notes = log[(log["action"] == Action.NOTE).to_numpy(bool)]
    decided = pd.concat(
        [latest_decisions(log), log[(log["action"] == Action.RESOLVE).to_numpy(bool)]
         .drop_duplicates(["record_id", "stage"], keep="last")]
    )  # fmt: skip
    with_note = decided[(decided["note"].astype(str) != "").to_numpy(bool)]
    return pd.concat([notes, with_note]).sort_values("id")


def deciders(log: pd.DataFrame) -> pd.DataFrame:
    """One row per (record, reviewer) who decided or resolved it, sorted by name."""
    decided = log[log["action"].isin(list(DECISION_ACTIONS)).to_numpy(bool)]
    return decided.drop_duplicates(["record_id", "reviewer"]).sort_values(["record_id", "reviewer"])


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building 100,000s of small objects.

    Each burst of new objects triggers a full collection pass over every live object, which
    doubled the time of a summary and took a third of a 100,000-record BibTeX export; the
    lists and entries built under it make no reference cycles, so there is nothing to find.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def grouped(rows: pd.DataFrame, column: str, index: pd.Index) -> list[list[str]]:
    """Values of ``column`` per PMID of ``index``, in row order; [] where a PMID has none.

    Sorting once and slicing is what keeps 100,000 records' lists cheap to build.
    """
    result: list[list[str]] = [[] for _ in range(len(index))]
    if rows.empty:
        return result
    pmids = rows["record_id"].to_numpy(dtype="int64")
    order = np.argsort(pmids, kind="stable")
    pmids, values = pmids[order], _strings(rows[column])[order].tolist()
    starts = np.flatnonzero(np.r_[True, pmids[1:] != pmids[:-1]])
    ends = np.r_[starts[1:], len(pmids)]
    positions = index.get_indexer(pd.Index(pmids[starts]))
    for at, start, end in zip(positions.tolist(), starts.tolist(), ends.tolist(), strict=True):
        if at >= 0:
            result[at] = values[start:end]
    return result


def _strings(column: pd.Series) -> npt.NDArray[np.object_]:
    """A column of text as a NumPy object array (categories decoded without a per-row loop)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        labels = np.asarray(column.cat.categories.astype(str), dtype=object)
        return labels[column.cat.codes.to_numpy()]
    return column.astype(str).to_numpy(dtype=object)
