"""Screening: decisions, tags and notes as appended events, and the state derived from them.

Nothing is changed in place. Every decision, tag, note, resolution and undo is one row appended
to the store's ``events`` table; the current state of each record is a fold over those rows, so
the history is always there, undo is just another event, and two reviewers can work at once.

Dual screening: each reviewer's decision is kept apart. At a stage, the final decision is a
resolution if one was recorded; otherwise the decision all reviewers agree on; otherwise
``conflict``. A reviewer sees only their own decisions (:func:`reviewer_decisions`).

Event actions: ``decide`` (stage, value = decision, reason, note), ``resolve`` (the same, by
whoever settles a conflict), ``tag-add``/``tag-remove`` (value = tag), ``note`` (note),
``undo`` (target_id = the event reversed), ``duplicate-confirm``/``duplicate-reject`` (value =
the PMID duplicated) and ``reason-add`` (value = a new exclusion reason, no PMID).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

import pandas as pd

from tracker.agreement import Agreement, compare
from tracker.errors import ScreeningError
from tracker.export import Annotation
from tracker.records import Decision, ExclusionReason, Stage
from tracker.store import Event, Store

DECIDABLE = (Decision.INCLUDE, Decision.EXCLUDE, Decision.MAYBE)
CONFLICT = "conflict"
STAGE_COLUMNS = {Stage.TITLE_ABSTRACT.value: "ta_decision", Stage.FULL_TEXT.value: "ft_decision"}
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
    who, where = check_reviewer(reviewer), check_stage(stage)
    what = check_decision(decision)
    why = check_reason(store, what, reason, note)
    targets = check_pmids(store, pmids)
    return store.append_events(
        [Event("decide", who, p, where, what, why, note.strip()) for p in targets]
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
    """Settle a conflict between reviewers with a final decision (its own event)."""
    who, where, what = check_reviewer(reviewer), check_stage(stage), check_decision(decision)
    why = check_reason(store, what, reason, note)
    (target,) = check_pmids(store, [pmid])
    return store.append_events([Event("resolve", who, target, where, what, why, note.strip())])


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
    label = " ".join((add if add is not None else remove or "").split())
    if (add is None) == (remove is None) or not label:
        raise ScreeningError("Give exactly one of --add TAG or --remove TAG, with a tag name.")
    action = "tag-add" if add is not None else "tag-remove"
    return store.append_events(
        [Event(action, who, p, value=label) for p in check_pmids(store, pmids)]
    )


def note(store: Store, pmid: int, text: str, *, reviewer: str) -> list[int]:
    """Attach a free-text note to a record."""
    who = check_reviewer(reviewer)
    if not text.strip():
        raise ScreeningError("The note is empty: write the note text after the PMID.")
    (target,) = check_pmids(store, [pmid])
    return store.append_events([Event("note", who, target, note=text.strip())])


def undo(store: Store, *, reviewer: str) -> str | None:
    """Reverse the reviewer's latest action still in force; None if nothing is left.

    Added exclusion reasons are not undone: decisions may already cite them.
    """
    who = check_reviewer(reviewer)
    events = live_events(store.events())
    mine = events[(events["reviewer"] == who) & (events["action"] != "reason-add")]
    if mine.empty:
        return None
    last = mine.iloc[-1]
    pmid = None if pd.isna(last["pmid"]) else int(last["pmid"])
    store.append_events([Event("undo", who, pmid, target_id=int(last["id"]))])
    detail = " ".join(str(part) for part in (last["stage"], last["value"], last["note"]) if part)
    return f"undid {last['action']} {detail} on PMID {pmid} ({last['created_at']})"


def add_exclusion_reason(store: Store, reason: str, *, reviewer: str) -> None:
    """Extend the controlled list of exclusion reasons."""
    who = check_reviewer(reviewer)
    text = " ".join(reason.split())
    if not text:
        raise ScreeningError("The reason is empty: give the text of the new exclusion reason.")
    if text.casefold() in {r.casefold() for r in exclusion_reasons(store)}:
        raise ScreeningError(f"{text!r} is already an exclusion reason: use it as it is.")
    store.append_events([Event("reason-add", who, value=text)])


# -- reading ----------------------------------------------------------------------------------


def exclusion_reasons(store: Store) -> list[str]:
    """The controlled list: the seeds from DESIGN.md, then the ones users added."""
    seeded = [r.value for r in ExclusionReason]
    events = live_events(store.events_of(["reason-add", "undo"]))
    added = events.loc[events["action"] == "reason-add", "value"].tolist()
    return seeded + [r for r in dict.fromkeys(added) if r not in seeded]


def live_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events still in force: undo events and the events they reversed are left out."""
    undo = (events["action"] == "undo").to_numpy(dtype=bool)
    undone = events["target_id"].to_numpy()[undo]
    keep = ~undo & ~events["id"].isin(pd.array(undone, dtype="Int64").dropna()).to_numpy(bool)
    return events[keep]


def reviewer_decisions(store: Store, reviewer: str, stage: str) -> dict[int, str]:
    """One reviewer's own current decisions at a stage: the blind view for dual screening."""
    latest = latest_decisions(live_events(store.events()))
    mine = latest[(latest["reviewer"] == reviewer) & (latest["stage"] == check_stage(stage))]
    return dict(zip(mine["pmid"].astype(int), mine["value"], strict=True))


def summary(store: Store, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per stored PMID (index ``pmid``) with its current screening state.

    ``events`` may be passed when the caller has already read the log, to read it once.
    """
    pmids = pd.Index(sorted(store.known_pmids()), name="pmid", dtype="int64")
    log = _compact(live_events(store.events() if events is None else events))
    frame = pd.DataFrame(index=pmids)
    finals = _finals(log)
    for stage, column in STAGE_COLUMNS.items():
        at_stage = finals[finals["stage"] == stage].set_index("pmid")
        frame[column] = _aligned(at_stage["decision"], pmids, Decision.UNSCREENED.value)
        frame[column + "_reason"] = _aligned(at_stage["reason"], pmids, "")
    full_text = (frame["ft_decision"] != Decision.UNSCREENED.value).to_numpy(bool)
    screened = full_text | (frame["ta_decision"] != Decision.UNSCREENED.value).to_numpy(bool)
    frame["decision"] = frame["ft_decision"].where(full_text, frame["ta_decision"])
    frame["exclusion_reason"] = frame["ft_decision_reason"].where(
        full_text, frame["ta_decision_reason"]
    )
    frame["stage"] = ""
    frame.loc[screened, "stage"] = Stage.TITLE_ABSTRACT.value
    frame.loc[full_text, "stage"] = Stage.FULL_TEXT.value
    frame["conflict"] = (frame["ta_decision"] == CONFLICT) | (frame["ft_decision"] == CONFLICT)
    frame["tags"] = _lists(_current_tags(log), pmids)
    frame["notes"] = _lists(_collect(_current_notes(log), "note"), pmids)
    frame["reviewers"] = _lists(_collect(_deciders(log), "reviewer"), pmids)
    return frame[list(SUMMARY_COLUMNS)]


def annotations(store: Store) -> dict[int, Annotation]:
    """The current state as exports show it, for screened, tagged or annotated records."""
    state = summary(store)
    touched = state[
        (state["decision"] != Decision.UNSCREENED.value)
        | state["tags"].map(bool)
        | state["notes"].map(bool)
    ]
    result = {}
    for pmid, row in zip(touched.index.tolist(), touched.itertuples(index=False), strict=True):
        decision = str(row.decision)
        result[int(pmid)] = Annotation(
            decision if decision != Decision.UNSCREENED.value else "",
            str(row.exclusion_reason),
            tuple(row.tags),  # type: ignore[arg-type]
            tuple(row.notes),  # type: ignore[arg-type]
        )
    return result


current_annotations = annotations
"""The earlier name of :func:`annotations`, which the app uses."""


def conflicts(store: Store, stage: str) -> pd.DataFrame:
    """Records whose reviewers disagree at a stage and that no one has resolved yet.

    Columns: pmid, ``decisions`` (one line, "ana: include; ben: exclude") and ``reviewers``.
    """
    where = check_stage(stage)
    log = _compact(live_events(store.events()))
    finals = _finals(log)
    open_ = finals.loc[(finals["stage"] == where) & (finals["decision"] == CONFLICT), "pmid"]
    latest = _latest(log)
    latest = latest[(latest["stage"] == where) & latest["pmid"].isin(open_)]
    latest = latest.sort_values(["pmid", "reviewer"], kind="stable")
    reviewers, decisions = _collect(latest, "reviewer"), _collect(latest, "value")
    rows = [
        (pmid, "; ".join(f"{r}: {d}" for r, d in zip(names, decisions[pmid], strict=True)), names)
        for pmid, names in sorted(reviewers.items())
    ]
    return pd.DataFrame(rows, columns=["pmid", "decisions", "reviewers"])


def agreement(store: Store, stage: str) -> list[Agreement]:
    """One :class:`Agreement` per pair of reviewers who both decided records at ``stage``.

    Each reviewer's latest decision counts (before any resolution), over the records both
    members of the pair decided.
    """
    where = check_stage(stage)
    latest = latest_decisions(live_events(store.events()))
    latest = latest[latest["stage"] == where]
    mine = {
        who: dict(zip(g["pmid"], g["value"], strict=True)) for who, g in latest.groupby("reviewer")
    }
    results = []
    for a, b in combinations(sorted(mine), 2):
        both = sorted(mine[a].keys() & mine[b].keys())
        if both:
            results.append(
                compare(where, (a, b), [mine[a][p] for p in both], [mine[b][p] for p in both])
            )
    return results


# -- the fold ----------------------------------------------------------------------------------


def latest_decisions(events: pd.DataFrame) -> pd.DataFrame:
    """Each reviewer's latest decision per (pmid, stage), from live events."""
    decided = events[events["action"] == "decide"]
    return decided.drop_duplicates(["pmid", "stage", "reviewer"], keep="last")


def _compact(events: pd.DataFrame) -> pd.DataFrame:
    """Only the columns and rows the fold needs, strings as categories (fast to filter)."""
    log = events.loc[events["pmid"].notna(), ["id", "pmid", "reviewer", "stage", "action",
                                               "value", "reason", "note"]]  # fmt: skip
    text = ["reviewer", "stage", "action", "value", "reason", "note"]
    log = log.astype({"pmid": "int64", **dict.fromkeys(text, "category")})
    return log.reset_index(drop=True)


def _latest(log: pd.DataFrame) -> pd.DataFrame:
    decided = log[(log["action"] == "decide").to_numpy(bool)]
    return decided.drop_duplicates(["pmid", "stage", "reviewer"], keep="last")


def _finals(log: pd.DataFrame) -> pd.DataFrame:
    """Final decision per (pmid, stage): resolution, else agreement, else conflict.

    Columns pmid, stage, decision, reason; plain strings.
    """
    latest = _latest(log)
    distinct = latest.drop_duplicates(["pmid", "stage", "value"])
    split = distinct.duplicated(["pmid", "stage"], keep=False).to_numpy(bool)
    reason = latest.drop_duplicates(["pmid", "stage"], keep="last").set_index(["pmid", "stage"])
    agreed = distinct[~split].set_index(["pmid", "stage"])
    agreed = pd.DataFrame(
        {"decision": agreed["value"].astype(str), "reason": reason["reason"].astype(str)},
        index=agreed.index,
    )
    disputed = distinct[split].drop_duplicates(["pmid", "stage"]).set_index(["pmid", "stage"])
    disputed = pd.DataFrame({"decision": CONFLICT, "reason": ""}, index=disputed.index)
    resolved = log[(log["action"] == "resolve").to_numpy(bool)]
    resolved = resolved.drop_duplicates(["pmid", "stage"], keep="last").set_index(["pmid", "stage"])
    resolved = pd.DataFrame(
        {"decision": resolved["value"].astype(str), "reason": resolved["reason"].astype(str)},
        index=resolved.index,
    )
    merged = pd.concat([agreed, disputed, resolved])
    merged = merged[~merged.index.duplicated(keep="last")]
    merged.index = merged.index.set_levels(merged.index.levels[1].astype(str), level=1)
    return merged.reset_index()


def _current_tags(log: pd.DataFrame) -> dict[int, list[str]]:
    tags = log[log["action"].isin(["tag-add", "tag-remove"]).to_numpy(bool)]
    last = tags.drop_duplicates(["pmid", "value"], keep="last")
    present = last[(last["action"] == "tag-add").to_numpy(bool)]
    return _collect(present.sort_values(["pmid", "value"]), "value")


def _current_notes(log: pd.DataFrame) -> pd.DataFrame:
    """Notes in force, oldest first: note events, and the notes of decisions still current."""
    notes = log[(log["action"] == "note").to_numpy(bool)]
    decided = pd.concat(
        [_latest(log), log[(log["action"] == "resolve").to_numpy(bool)]
         .drop_duplicates(["pmid", "stage"], keep="last")]
    )  # fmt: skip
    with_note = decided[(decided["note"].astype(str) != "").to_numpy(bool)]
    return pd.concat([notes, with_note]).sort_values("id")


def _deciders(log: pd.DataFrame) -> pd.DataFrame:
    decided = log[log["action"].isin(["decide", "resolve"]).to_numpy(bool)]
    return decided.drop_duplicates(["pmid", "reviewer"]).sort_values(["pmid", "reviewer"])


def _collect(rows: pd.DataFrame, column: str) -> dict[int, list[str]]:
    """Values of ``column`` grouped by PMID, in row order (a plain loop beats groupby here)."""
    found: dict[int, list[str]] = {}
    for pmid, value in zip(rows["pmid"].tolist(), rows[column].astype(str).tolist(), strict=True):
        found.setdefault(pmid, []).append(value)
    return found


def _lists(found: dict[int, list[str]], index: pd.Index) -> list[list[str]]:
    return [found.get(pmid, []) for pmid in index.tolist()]


def _aligned(values: pd.Series, index: pd.Index, empty: str) -> pd.Series:
    return values.astype(object).reindex(index).fillna(empty)


# -- validation: everything is checked before anything is written ----------------------------


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
    return str(decision)


def check_reason(store: Store | Sequence[str], decision: str, reason: str, note: str) -> str:
    """The reason as listed (its canonical spelling); ``store`` or the list of reasons."""
    reason = " ".join(reason.split())
    if decision != Decision.EXCLUDE:
        if reason:
            raise ScreeningError("An exclusion reason goes with --decision exclude only.")
        return ""
    reasons = exclusion_reasons(store) if isinstance(store, Store) else list(store)
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


def pmids_of(values: Sequence[str]) -> list[int]:
    """PMIDs typed by a person: digits only, with a clear error otherwise."""
    bad = [v for v in values if not str(v).strip().isdigit()]
    if bad:
        raise ScreeningError(f"Not a PMID: {', '.join(bad[:5])}. PMIDs are whole numbers.")
    return [int(v) for v in values]
