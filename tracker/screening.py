"""Screening: decisions, tags and notes as appended events, and the state derived from them.

Nothing is changed in place. Every decision, tag, note, resolution and undo is one row appended
to the store's ``events`` table; the current state of each record is a fold over those rows, so
the history is always there, undo is just another event, and two reviewers can work at once.

Dual screening: each reviewer's decision is kept apart. At a stage, the final decision is a
resolution if one was recorded; otherwise the decision all reviewers agree on; otherwise
``conflict``. A reviewer sees only their own decisions (:func:`reviewer_decisions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from tracker.errors import ScreeningError
from tracker.export import Annotation
from tracker.records import Decision, ExclusionReason, Stage
from tracker.store import Event, Store

DECIDABLE = (Decision.INCLUDE, Decision.EXCLUDE, Decision.MAYBE)
CONFLICT = "conflict"
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


# -- writing ---------------------------------------------------------------------------------


def decide(
    store: Store,
    pmids: Iterable[int],
    *,
    decision: str,
    reviewer: str,
    stage: str = Stage.TITLE_ABSTRACT,
    reason: str = "",
    note: str = "",
) -> list[int]:
    """Record one reviewer's decision on records at a stage; returns the new event ids."""
    who, where = check_reviewer(reviewer), check_stage(stage)
    what = check_decision(decision)
    why = check_reason(store, what, reason, note)
    targets = check_pmids(store, pmids)
    return store.append_events(
        [Event("decide", who, p, where, what, why, note.strip()) for p in targets]
    )


def resolve(
    store: Store, pmid: int, *, decision: str, reviewer: str, stage: str, reason: str = ""
) -> list[int]:
    """Settle a conflict between reviewers with a final decision (its own event)."""
    who, where, what = check_reviewer(reviewer), check_stage(stage), check_decision(decision)
    why = check_reason(store, what, reason, "resolved")
    (target,) = check_pmids(store, [pmid])
    return store.append_events([Event("resolve", who, target, where, what, why)])


def tag(
    store: Store,
    pmids: Iterable[int],
    *,
    reviewer: str,
    add: str | None = None,
    remove: str | None = None,
) -> list[int]:
    """Add or remove a free tag on records."""
    who = check_reviewer(reviewer)
    label = (add if add is not None else remove or "").strip()
    if (add is None) == (remove is None) or not label:
        raise ScreeningError("Give exactly one of --add TAG or --remove TAG, with a tag name.")
    action = "tag-add" if add is not None else "tag-remove"
    return store.append_events(
        [Event(action, who, p, value=label) for p in check_pmids(store, pmids)]
    )


def note(store: Store, pmid: int, text: str, *, reviewer: str) -> list[int]:
    """Attach a free-text note to a record."""
    if not text.strip():
        raise ScreeningError("The note is empty: write the note text after the PMID.")
    (target,) = check_pmids(store, [pmid])
    return store.append_events([Event("note", check_reviewer(reviewer), target, note=text.strip())])


def undo(store: Store, *, reviewer: str) -> str | None:
    """Reverse the reviewer's latest action (by appending an undo); None if nothing is left."""
    who = check_reviewer(reviewer)
    events = live_events(store.events())
    mine = events[(events["reviewer"] == who) & (events["action"] != "reason-add")]
    if mine.empty:
        return None
    last = mine.iloc[-1]
    store.append_events([Event("undo", who, _int(last["pmid"]), target_id=int(last["id"]))])
    detail = last["value"] or last["note"]
    return f"undid {last['action']} {detail!s} on PMID {_int(last['pmid'])} ({last['created_at']})"


def add_exclusion_reason(store: Store, reason: str, *, reviewer: str) -> None:
    """Extend the controlled list of exclusion reasons."""
    text = " ".join(reason.split())
    if not text:
        raise ScreeningError("The reason is empty: give the text of the new exclusion reason.")
    if text.casefold() in {r.casefold() for r in exclusion_reasons(store)}:
        raise ScreeningError(f"{text!r} is already an exclusion reason.")
    store.append_events([Event("reason-add", check_reviewer(reviewer), value=text)])


def exclusion_reasons(store: Store) -> list[str]:
    """The controlled list: the seeds from DESIGN.md, then the ones users added."""
    seeded = [r.value for r in ExclusionReason]
    events = live_events(store.events())
    added = events.loc[events["action"] == "reason-add", "value"].tolist()
    return seeded + [r for r in dict.fromkeys(added) if r not in seeded]


# -- reading ---------------------------------------------------------------------------------


def live_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events still in force: undo events and the events they reversed are left out."""
    undone = set(events.loc[events["action"] == "undo", "target_id"].dropna().astype(int))
    keep = (events["action"] != "undo") & ~events["id"].isin(undone)
    return events[keep]


def reviewer_decisions(store: Store, reviewer: str, stage: str) -> dict[int, str]:
    """One reviewer's own current decisions at a stage: the blind view for dual screening."""
    latest = latest_decisions(live_events(store.events()))
    mine = latest[(latest["reviewer"] == reviewer) & (latest["stage"] == check_stage(stage))]
    return dict(zip(mine["pmid"].astype(int), mine["value"], strict=True))


def summary(store: Store, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per stored PMID (index ``pmid``) with its current screening state."""
    pmids = pd.Index(sorted(store.known_pmids()), name="pmid", dtype="int64")
    events = live_events(store.events() if events is None else events)
    frame = pd.DataFrame(index=pmids)
    finals = _finals(events)
    for stage, column in ((Stage.TITLE_ABSTRACT, "ta_decision"), (Stage.FULL_TEXT, "ft_decision")):
        at_stage = finals[finals["stage"] == stage].set_index("pmid")
        frame[column] = at_stage["decision"].reindex(pmids).fillna(Decision.UNSCREENED.value)
        frame[column + "_reason"] = at_stage["reason"].reindex(pmids).fillna("")
    full_text = frame["ft_decision"] != Decision.UNSCREENED.value
    frame["decision"] = frame["ft_decision"].where(full_text, frame["ta_decision"])
    frame["exclusion_reason"] = frame["ft_decision_reason"].where(
        full_text, frame["ta_decision_reason"]
    )
    screened = frame["decision"] != Decision.UNSCREENED.value
    frame["stage"] = pd.Series(Stage.TITLE_ABSTRACT.value, index=pmids).where(screened, "")
    frame.loc[full_text, "stage"] = Stage.FULL_TEXT.value
    frame["conflict"] = (frame["ta_decision"] == CONFLICT) | (frame["ft_decision"] == CONFLICT)
    frame["tags"] = _lists(_current_tags(events), pmids)
    frame["notes"] = _lists(_collect(events[events["action"] == "note"], "note"), pmids)
    decided = events[events["action"].isin(["decide", "resolve"])]
    who = decided.drop_duplicates(["pmid", "reviewer"]).sort_values(["pmid", "reviewer"])
    frame["reviewers"] = _lists(_collect(who, "reviewer"), pmids)
    return frame[list(SUMMARY_COLUMNS)]


def current_annotations(store: Store) -> dict[int, Annotation]:
    """The current state as exports show it, for screened, tagged or annotated records."""
    state = summary(store)
    touched = state[
        (state["decision"] != Decision.UNSCREENED.value)
        | state["tags"].map(bool)
        | state["notes"].map(bool)
    ]
    result = {}
    for pmid, row in touched.to_dict(orient="index").items():
        decision = str(row["decision"])
        result[int(str(pmid))] = Annotation(
            decision if decision != Decision.UNSCREENED.value else "",
            str(row["exclusion_reason"]),
            tuple(row["tags"]),
            tuple(row["notes"]),
        )
    return result


def conflicts(store: Store, stage: str) -> pd.DataFrame:
    """Records whose reviewers disagree at a stage and that no one has resolved yet."""
    where = check_stage(stage)
    events = live_events(store.events())
    finals = _finals(events)
    open_ = finals[(finals["stage"] == where) & (finals["decision"] == CONFLICT)]
    latest = latest_decisions(events)
    latest = latest[(latest["stage"] == where) & latest["pmid"].isin(open_["pmid"])]
    rows = [
        {
            "pmid": int(str(pmid)),
            "decisions": "; ".join(
                f"{r}: {v}" for r, v in zip(g["reviewer"], g["value"], strict=True)
            ),
        }
        for pmid, g in latest.groupby("pmid")
    ]
    return pd.DataFrame(rows, columns=["pmid", "decisions"])


# -- the fold --------------------------------------------------------------------------------


def latest_decisions(events: pd.DataFrame) -> pd.DataFrame:
    decided = events[events["action"] == "decide"]
    return decided.drop_duplicates(["pmid", "stage", "reviewer"], keep="last")


def _finals(events: pd.DataFrame) -> pd.DataFrame:
    """Final decision per (pmid, stage): resolution, else agreement, else conflict."""
    latest = latest_decisions(events)
    grouped = latest.groupby(["pmid", "stage"]).agg(
        kinds=("value", "nunique"), first=("value", "first"), reason=("reason", "last")
    )
    grouped["decision"] = grouped["first"].where(grouped["kinds"] == 1, CONFLICT)
    grouped.loc[grouped["decision"] == CONFLICT, "reason"] = ""
    resolved = events[events["action"] == "resolve"].drop_duplicates(["pmid", "stage"], keep="last")
    resolved = resolved.set_index(["pmid", "stage"])[["value", "reason"]]
    resolved = resolved.rename(columns={"value": "decision"})
    merged = pd.concat([grouped[["decision", "reason"]], resolved])
    merged = merged[~merged.index.duplicated(keep="last")]
    return merged.reset_index()


def _current_tags(events: pd.DataFrame) -> dict[int, list[str]]:
    tags = events[events["action"].isin(["tag-add", "tag-remove"])]
    last = tags.drop_duplicates(["pmid", "value"], keep="last")
    present = last[last["action"] == "tag-add"].sort_values(["pmid", "value"])
    return _collect(present, "value")


def _collect(events: pd.DataFrame, column: str) -> dict[int, list[str]]:
    """Values of ``column`` grouped by PMID, in row order (a plain loop beats groupby here)."""
    found: dict[int, list[str]] = {}
    for pmid, value in zip(events["pmid"].to_numpy(), events[column].to_numpy(), strict=True):
        found.setdefault(int(pmid), []).append(str(value))
    return found


def _lists(found: dict[int, list[str]], index: pd.Index) -> list[list[str]]:
    return [found.get(int(pmid), []) for pmid in index]


# -- validation: everything is checked before anything is written ---------------------------


def check_reviewer(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ScreeningError("Who is screening? Pass --reviewer NAME (your initials will do).")
    return name


def check_stage(stage: str) -> str:
    try:
        return Stage(stage).value
    except ValueError:
        valid = ", ".join(s.value for s in Stage)
        raise ScreeningError(f"Unknown stage {stage!r}: use one of {valid}.") from None


def check_decision(decision: str) -> str:
    if decision not in {d.value for d in DECIDABLE}:
        valid = ", ".join(d.value for d in DECIDABLE)
        raise ScreeningError(f"Unknown decision {decision!r}: use one of {valid}.")
    return decision


def check_reason(store: Store, decision: str, reason: str, note: str) -> str:
    reason = " ".join(reason.split())
    if decision != Decision.EXCLUDE:
        if reason:
            raise ScreeningError("An exclusion reason goes with --decision exclude only.")
        return ""
    reasons = exclusion_reasons(store)
    if not reason:
        raise ScreeningError("Say why it is excluded: pass --reason, one of: " + "; ".join(reasons))
    match = {r.casefold(): r for r in reasons}.get(reason.casefold())
    if match is None:
        raise ScreeningError(
            f"Unknown exclusion reason {reason!r}: use one of: {'; '.join(reasons)} "
            "(or add one with `tracker reasons add`)."
        )
    if match == ExclusionReason.OTHER and not note.strip():
        raise ScreeningError("The reason 'other' needs a note saying what it is: pass --note.")
    return match


def check_pmids(store: Store, pmids: Iterable[int]) -> list[int]:
    wanted = list(dict.fromkeys(int(p) for p in pmids))
    if not wanted:
        raise ScreeningError("No PMID given: name one or more records by PMID.")
    known = store.known_pmids()
    unknown = [p for p in wanted if p not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (" …" if len(unknown) > 10 else "")
        raise ScreeningError(
            f"Not in the store: PMID {shown}. Check the number, or fetch/import the record first."
        )
    return wanted


def _int(value: object) -> int | None:
    return None if pd.isna(value) else int(value)  # type: ignore[call-overload]


def pmids_of(values: Sequence[str]) -> list[int]:
    """PMIDs typed by a person: digits only, with a clear error otherwise."""
    bad = [v for v in values if not str(v).strip().isdigit()]
    if bad:
        raise ScreeningError(f"Not a PMID: {', '.join(bad[:5])}. PMIDs are whole numbers.")
    return [int(v) for v in values]
