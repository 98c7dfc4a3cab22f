"""What one reviewer has screened, in the order they screened it: the only input ranking and the
stopping rule may learn from.

Dual screening is blind (see :func:`tracker.dashboard.shared_view`): a reviewer sees another
reviewer's decision on a record only after deciding it themselves. So a named reviewer's
decisions here are their own latest decision per record, replaced by a resolution where one
settled that record (they decided it, so the settled outcome is theirs to see); a record
decided only by someone else is not screened *for them* and is never used to train their
model. With no reviewer name, as in the app's shared view, the team's final decisions count.

A decision is a label: include 1, exclude 0, and "maybe" (or an open conflict) ½: a record
that goes on to full text is relevant as far as title/abstract screening can tell, but the
model should trust it less than a firm include.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker import decision_log
from tracker.decision_log import CONFLICT
from tracker.records import DECISION_ACTIONS, Action, Decision, Stage

LABELS = {
    Decision.INCLUDE.value: 1.0,
    Decision.EXCLUDE.value: 0.0,
    Decision.MAYBE.value: 0.5,
    CONFLICT: 0.5,
}
"""Training label of each decision; a label above 0 counts as relevant for the stopping rule."""
COLUMNS = ("record_id", "decision", "label", "decided_at")
PASSED = (Decision.INCLUDE.value, Decision.MAYBE.value)


def screened(events: pd.DataFrame, *, reviewer: str, stage: str) -> pd.DataFrame:
    """The records ``reviewer`` has screened at ``stage``, in the order first screened.

    Columns: pmid, decision, label (see :data:`LABELS`), decided_at (the time of the decision
    in force). ``reviewer`` "" means the team's final decisions.
    """
    live = decision_log.live_events(events)
    at_stage = live[
        (live["stage"] == stage).to_numpy(bool)
        & live["action"].isin(list(DECISION_ACTIONS)).to_numpy(bool)
        & live["record_id"].notna().to_numpy(bool)
    ]
    if reviewer:
        own = at_stage[(at_stage["reviewer"] == reviewer).to_numpy(bool)]
        own = own[(own["action"] == Action.DECIDE).to_numpy(bool)]
        mine = set(own["record_id"].astype("int64").tolist())
        settled = at_stage[(at_stage["action"] == Action.RESOLVE).to_numpy(bool)]
        settled = settled[settled["record_id"].astype("int64").isin(mine).to_numpy(bool)]
        return _in_order(own, pd.concat([own, settled]).sort_values("id", kind="stable"))
    return _in_order(at_stage, at_stage, team=True)


def _in_order(firsts: pd.DataFrame, deciding: pd.DataFrame, *, team: bool = False) -> pd.DataFrame:
    """One row per PMID of ``firsts`` in the order of its first event there, with the decision
    in force: the latest resolution, else the latest decision (for a team, their agreement)."""
    if firsts.empty:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(COLUMNS, ("int64", "object", "float64", "object"), strict=True)
            }
        )
    order = firsts.drop_duplicates("record_id", keep="first")["record_id"].astype("int64")
    pmids = pd.Index(order.to_numpy(), name="record_id")
    if team:
        log = decision_log.compact(deciding)
        stage = str(deciding["stage"].iloc[0])
        decisions, _ = decision_log.final_decisions(log, stage, pmids)
    else:
        decisions = _latest_with_resolution(deciding, pmids)
    latest_at = deciding.drop_duplicates("record_id", keep="last").set_index("record_id")[
        "created_at"
    ]
    latest_at.index = latest_at.index.astype("int64")
    frame = pd.DataFrame(
        {
            "record_id": pmids.to_numpy(dtype="int64"),
            "decision": decisions,
            "label": [LABELS.get(str(d), 0.5) for d in decisions],
            "decided_at": latest_at.reindex(pmids).astype(str).to_numpy(),
        }
    )
    return frame.reset_index(drop=True)


def _latest_with_resolution(deciding: pd.DataFrame, pmids: pd.Index) -> np.ndarray:
    """The latest decision per PMID, a resolution winning over any decision."""
    rows = deciding.assign(resolved=(deciding["action"] == Action.RESOLVE).astype(int))
    rows = rows.sort_values(["resolved", "id"], kind="stable")
    last = rows.drop_duplicates("record_id", keep="last").set_index("record_id")["value"]
    last.index = last.index.astype("int64")
    return last.reindex(pmids).astype(str).to_numpy(dtype=object)


def stage_pool(known: pd.Index, events: pd.DataFrame, stage: str) -> pd.Index:
    """The records to screen at ``stage``: all of them at title/abstract; at full text, those
    whose final title/abstract decision is include or maybe. Records confirmed as duplicates
    (another database's copy of a study, merged on import or by a person) are left out: PRISMA
    removes them before screening, so neither the ranking nor the progress counts them."""
    known = known[~known.isin(list(removed_as_duplicates(events)))]
    if stage == Stage.TITLE_ABSTRACT:
        return known
    log = decision_log.compact(decision_log.live_events(events))
    decisions, _ = decision_log.final_decisions(log, Stage.TITLE_ABSTRACT.value, known)
    return known[np.isin(decisions, PASSED)]


def removed_as_duplicates(events: pd.DataFrame) -> set[int]:
    """Records whose latest live judgement of some pair is "duplicate", from events already
    read (:func:`decision_log.duplicate_judgements`)."""
    wanted = events["action"].isin([*decision_log.DUPLICATE_JUDGEMENTS, Action.UNDO])
    judged = decision_log.duplicate_judgements(events[wanted.to_numpy(bool)])
    return {record for (record, _), status in judged.items() if status == "confirmed"}
