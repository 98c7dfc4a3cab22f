"""Screening: decisions, tags and notes as appended events, and the state derived from them.

Nothing is changed in place. Every decision, tag, note, resolution and undo is one row appended
to the store's ``events`` table; the current state of each record is a fold over those rows, so
the history is always there, undo is just another event, and two reviewers can work at once.

Dual screening: each reviewer's decision is kept apart. At a stage, the final decision is a
resolution if one was recorded; otherwise the decision all reviewers agree on; otherwise
``conflict``. A reviewer sees only their own decisions (:func:`reviewer_decisions`).

The event actions are :class:`tracker.records.Action`.
"""

from collections.abc import Iterable, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from tracker import decision_log, team
from tracker.agreement import Agreement, compare
from tracker.decision_log import CONFLICT, latest_decisions, live_events
from tracker.errors import (
    NoteRequired,
    ReasonNotAllowed,
    ReasonRequired,
    ReviewerRequired,
    ScreeningError,
    TagRequired,
    UnknownReason,
)
from tracker.export import Annotation
from tracker.records import DECIDABLE, NOT_UNDONE, Action, Decision, ExclusionReason, Stage
from tracker.store import Event, Store

SUMMARY_COLUMNS = decision_log.SUMMARY_COLUMNS


# -- writing: everything is validated before the one append_events call -----------------------


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
    who, where = signer(store, reviewer), check_stage(stage)
    what = check_decision(decision)
    why = check_reason(store, what, reason, note)
    targets = check_pmids(store, pmids)
    return store.append_events(
        [Event(Action.DECIDE, who, p, where, what, why, note.strip()) for p in targets]
    )


def resolve(
    store: Store,
    pmid: int,
    *,
    decision: str,
    reviewer: str,
    stage: str,
    reason: str = "",
    note: str = "",
) -> list[int]:
    """Settle a conflict between reviewers with a final decision (its own event); only a lead
    of a review with a team may."""
    who, where = signer(store, reviewer, team.Role.LEAD), check_stage(stage)
    what = check_decision(decision)
    why = check_reason(store, what, reason, note)
    (target,) = check_pmids(store, [pmid])
    return store.append_events([Event(Action.RESOLVE, who, target, where, what, why, note.strip())])


def tag(
    store: Store,
    pmids: Iterable[int],
    *,
    reviewer: str,
    add: str | None = None,
    remove: str | None = None,
) -> list[int]:
    """Add or remove a free tag on records."""
    who = signer(store, reviewer)
    label = " ".join((add if add is not None else remove or "").split())
    if (add is None) == (remove is None) or not label:
        raise TagRequired()
    action = Action.TAG_ADD if add is not None else Action.TAG_REMOVE
    return store.append_events(
        [Event(action, who, p, value=label) for p in check_pmids(store, pmids)]
    )


def note(store: Store, pmid: int, text: str, *, reviewer: str) -> list[int]:
    """Attach a free-text note to a record."""
    who = signer(store, reviewer)
    if not text.strip():
        raise ScreeningError("The note is empty: write the note text after the PMID.")
    (target,) = check_pmids(store, [pmid])
    return store.append_events([Event(Action.NOTE, who, target, note=text.strip())])


def undo(store: Store, *, reviewer: str) -> str | None:
    """Reverse the reviewer's latest action still in force; None if nothing is left.

    Added exclusion reasons are not undone: decisions may already cite them; nor are recorded
    stopping checks: they report what the rule said at the time.
    """
    who = signer(store, reviewer)
    events = live_events(store.events())
    mine = events[(events["reviewer"] == who) & ~events["action"].isin(list(NOT_UNDONE))]
    if mine.empty:
        return None
    last = mine.iloc[-1]
    pmid = None if pd.isna(last["record_id"]) else int(last["record_id"])
    store.append_events([Event(Action.UNDO, who, pmid, target_id=int(last["id"]))])
    detail = " ".join(str(part) for part in (last["stage"], last["value"], last["note"]) if part)
    return f"undid {last['action']} {detail} on PMID {pmid} ({last['created_at']})"


def add_exclusion_reason(store: Store, reason: str, *, reviewer: str) -> None:
    """Extend the controlled list of exclusion reasons."""
    who = signer(store, reviewer)
    text = " ".join(reason.split())
    if not text:
        raise ScreeningError("The reason is empty: give the text of the new exclusion reason.")
    if text.casefold() in {r.casefold() for r in exclusion_reasons(store)}:
        raise ScreeningError(f"{text!r} is already an exclusion reason: use it as it is.")
    store.append_events([Event(Action.REASON_ADD, who, value=text)])


# -- reading ----------------------------------------------------------------------------------


def exclusion_reasons(store: Store) -> list[str]:
    """The controlled list: the seeds from DESIGN.md, then the ones users added."""
    seeded = [r.value for r in ExclusionReason]
    events = live_events(store.events_of([Action.REASON_ADD, Action.UNDO]))
    added = events.loc[events["action"] == Action.REASON_ADD, "value"].tolist()
    return seeded + [r for r in dict.fromkeys(added) if r not in seeded]


def reviewer_decisions(store: Store, reviewer: str, stage: str) -> dict[int, str]:
    """One reviewer's own current decisions at a stage: the blind view for dual screening."""
    latest = latest_decisions(live_events(store.events()))
    mine = latest[(latest["reviewer"] == reviewer) & (latest["stage"] == check_stage(stage))]
    return dict(zip(mine["record_id"].astype(int), mine["value"], strict=True))


def summary(store: Store, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per stored record (index ``record_id``) with its current screening state.

    ``events`` may be passed when the caller has already read the log, to read it once.
    """
    pmids = pd.Index(sorted(store.known_ids()), name="record_id", dtype="int64")
    return decision_log.summarise(store.events() if events is None else events, pmids)


def annotations(store: Store, *, state: pd.DataFrame | None = None) -> dict[int, Annotation]:
    """The current state as exports show it, for screened, tagged or annotated records.

    ``state`` is a :func:`summary` the caller already has, so the log is folded once.
    """
    state = summary(store) if state is None else state
    touched = state[
        (state["decision"] != Decision.UNSCREENED.value)
        | state["tags"].map(bool)
        | state["notes"].map(bool)
    ]
    rows = zip(
        touched.index.tolist(),
        touched["decision"].tolist(),
        touched["exclusion_reason"].tolist(),
        touched["tags"].tolist(),
        touched["notes"].tolist(),
        strict=True,
    )
    unscreened = Decision.UNSCREENED.value
    return {
        int(pmid): Annotation(
            "" if decision == unscreened else str(decision), str(reason), tuple(tags), tuple(notes)
        )
        for pmid, decision, reason, tags, notes in rows
    }


current_annotations = annotations
"""The earlier name of :func:`annotations`, which the app uses."""


def conflicts(store: Store, stage: str) -> pd.DataFrame:
    """Records whose reviewers disagree at a stage and that no one has resolved yet.

    Columns: pmid, ``decisions`` (one line, "ana: include; ben: exclude") and ``reviewers``.
    """
    where = check_stage(stage)
    log = decision_log.compact(live_events(store.events()))
    known = pd.Index(np.unique(log["record_id"].to_numpy()))
    open_ = known[decision_log.final_decisions(log, where, known)[0] == CONFLICT]
    latest = latest_decisions(log)
    latest = latest[((latest["stage"] == where) & latest["record_id"].isin(open_)).to_numpy(bool)]
    latest = latest.sort_values(["record_id", "reviewer"], kind="stable")
    pmids = pd.Index(latest["record_id"].unique())
    reviewers = decision_log.grouped(latest, "reviewer", pmids)
    decisions = decision_log.grouped(latest, "value", pmids)
    lines = [
        "; ".join(f"{r}: {d}" for r, d in zip(names, chosen, strict=True))
        for names, chosen in zip(reviewers, decisions, strict=True)
    ]
    return pd.DataFrame(
        {"record_id": pmids.astype("int64"), "decisions": lines, "reviewers": reviewers},
        columns=["record_id", "decisions", "reviewers"],
    )


def agreement(store: Store, stage: str) -> list[Agreement]:
    """One :class:`Agreement` per pair of reviewers who both decided records at ``stage``.

    Each reviewer's latest decision counts (before any resolution), over the records both
    members of the pair decided.
    """
    where = check_stage(stage)
    latest = latest_decisions(live_events(store.events()))
    latest = latest[latest["stage"] == where]
    wide = latest.pivot(index="record_id", columns="reviewer", values="value")
    results = []
    for a, b in combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        if len(both):
            pair = (str(a), str(b))
            results.append(compare(where, pair, both[a].tolist(), both[b].tolist()))
    return results


# -- validation: everything is checked before anything is written ----------------------------


def signer(store: Store, reviewer: str, role: team.Role = team.Role.REVIEWER) -> str:
    """Who signs an action: the name given, and, when the review has a team, a member allowed
    ``role``, spelled as the team spells the account (so one person has one signature)."""
    return team.require(store, check_reviewer(reviewer), role).account


def check_reviewer(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ReviewerRequired()
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
    return str(decision)


def check_reason(store: Store | Sequence[str], decision: str, reason: str, note: str) -> str:
    """The reason as listed (its canonical spelling); ``store`` or the list of reasons."""
    reason = " ".join(reason.split())
    if decision != Decision.EXCLUDE:
        if reason:
            raise ReasonNotAllowed(decision)
        return ""
    reasons = exclusion_reasons(store) if isinstance(store, Store) else list(store)
    if not reason:
        raise ReasonRequired(reasons)
    match = {r.casefold(): r for r in reasons}.get(reason.casefold())
    if match is None:
        raise UnknownReason(reason, reasons)
    if match == ExclusionReason.OTHER and not note.strip():
        raise NoteRequired(match)
    return match


def check_pmids(store: Store, pmids: Iterable[int]) -> list[int]:
    wanted = list(dict.fromkeys(int(p) for p in pmids))
    if not wanted:
        raise ScreeningError("No PMID given: name one or more records by PMID.")
    known = store.known_ids()
    unknown = [p for p in wanted if p not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (" …" if len(unknown) > 10 else "")
        raise ScreeningError(
            f"Not in the store: PMID {shown}. Check the number, or fetch/import the record first."
        )
    return wanted


def pmids_of(values: Sequence[str]) -> list[int]:
    """PMIDs typed by a person: digits only, with a clear error otherwise."""
    bad = [v for v in values if not str(v).strip().isdigit()]
    if bad:
        raise ScreeningError(f"Not a PMID: {', '.join(bad[:5])}. PMIDs are whole numbers.")
    return [int(v) for v in values]
