"""Screening progress for one reviewer: the numbers of the app's panel and the stopping verdict.

Everything is computed from the decisions the reviewer may see (:mod:`tracker.screening_order`),
so in dual screening neither the curve nor the stopping rule leaks the other reviewer's work.

Each time the stopping rule is consulted on purpose (:func:`record_stopping_check`) its inputs
and verdict are appended to the event log as a ``stopping-check`` event, the verdict as JSON
in ``note`` and "stop" or "continue" in ``value``, so a paper can report when and why
screening stopped (PRISMA 2020 item 8); :func:`stopping_checks` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tracker import screening_order, stopping
from tracker.decision_log import live_events
from tracker.ranking import ModelState, model_state
from tracker.records import Action, Stage
from tracker.screening import check_stage, signer
from tracker.stopping import StoppingRule, StoppingVerdict
from tracker.store import Event, Store

STOPPING_CHECK = Action.STOPPING_CHECK
CURVE_COLUMNS = ("screened", "relevant_found", "record_id", "decision")


@dataclass(frozen=True, slots=True)
class ScreeningProgress:
    """Screened / total, relevant found, the curve of relevant found against records screened
    (in screening order), the model's state and the stopping rule's verdict."""

    reviewer: str
    stage: str
    total: int
    screened: int
    relevant_found: int
    curve: pd.DataFrame
    model: ModelState
    verdict: StoppingVerdict

    @property
    def sentence(self) -> str:
        return self.verdict.sentence


def progress(
    store: Store,
    *,
    reviewer: str,
    stage: str = Stage.TITLE_ABSTRACT,
    rule: StoppingRule | None = None,
    events: pd.DataFrame | None = None,
) -> ScreeningProgress:
    """Where ``reviewer`` stands at ``stage`` ("" for the team's final decisions)."""
    stage = check_stage(stage)
    events = store.events() if events is None else events
    known = pd.Index(sorted(store.known_ids()), dtype="int64")
    pool = screening_order.stage_pool(known, events, stage)
    seen = screening_order.screened(events, reviewer=reviewer, stage=stage)
    seen = seen[seen["record_id"].isin(pool)].reset_index(drop=True)
    relevant = (seen["label"] > 0).astype(int).to_numpy()
    curve = pd.DataFrame(
        {
            "screened": range(1, len(seen) + 1),
            "relevant_found": relevant.cumsum(),
            "record_id": seen["record_id"].to_numpy(dtype="int64"),
            "decision": seen["decision"].to_numpy(dtype=object),
        },
        columns=list(CURVE_COLUMNS),
    )
    return ScreeningProgress(
        reviewer=reviewer,
        stage=stage,
        total=len(pool),
        screened=len(seen),
        relevant_found=int(relevant.sum()),
        curve=curve,
        model=model_state(seen),
        verdict=stopping.verdict(relevant, len(pool), rule),
    )


def record_stopping_check(
    store: Store, verdict: StoppingVerdict, *, reviewer: str, stage: str = Stage.TITLE_ABSTRACT
) -> int:
    """Append the verdict, with its inputs, to the event log; returns the event's id."""
    who, where = signer(store, reviewer), check_stage(stage)
    value = "stop" if verdict.stop else "continue"
    event = Event(STOPPING_CHECK, who, None, where, value, note=verdict.to_json())
    (event_id,) = store.append_events([event])
    return event_id


def stopping_checks(store: Store) -> pd.DataFrame:
    """Every recorded stopping check in force, oldest first: when, who, stage, the verdict's
    fields and its sentence."""
    events = live_events(store.events_of([STOPPING_CHECK, Action.UNDO]))
    checks = events[(events["action"] == STOPPING_CHECK).to_numpy(bool)]
    rows = []
    for event in checks.to_dict(orient="records"):
        verdict = StoppingVerdict.from_json(str(event["note"]))
        rows.append(
            {
                "created_at": event["created_at"],
                "reviewer": event["reviewer"],
                "stage": event["stage"],
                **_fields(verdict),
                "sentence": verdict.sentence,
            }
        )
    columns = ["created_at", "reviewer", "stage", *StoppingVerdict.__dataclass_fields__, "sentence"]
    return pd.DataFrame(rows, columns=columns)


def _fields(verdict: StoppingVerdict) -> dict[str, object]:
    return {name: getattr(verdict, name) for name in StoppingVerdict.__dataclass_fields__}
