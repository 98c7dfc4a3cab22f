"""Moving annotations between machines and tools: the event log as CSV, and back.

Export writes one row per event still in force (undone events and the undos themselves are
left out), oldest first, with the columns of :data:`COLUMNS`:
``created_at, reviewer, record_id, stage, action, value, reason, note``. Importing that file into
another store holding the same records gives the same current state, and importing it again
changes nothing: an event already in the store (same time, reviewer, record and content) is
skipped, and so is one that was undone there.

Other tools' screening results come in too: a CSV without an ``action`` column is read as one
decision per row, with columns ``record_id, decision`` and optionally ``reason, stage, reviewer,
tags`` (separated by ";") and ``note``. A ``pmid`` column stands for ``record_id`` (files
exported while records were keyed by PMID, and other tools' PMID lists): a record PubMed gave
has its PMID as its id.

Everything in the file is checked (PMIDs, actions, stages, decisions, reasons) before anything
is written, so a bad file changes nothing. Cells a spreadsheet would run as a formula get a
leading apostrophe on export, which import removes again.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd

from tracker import decision_log, screening
from tracker.errors import ScreeningError
from tracker.records import DECISION_ACTIONS, Action, Stage
from tracker.stopping import StoppingVerdict
from tracker.store import Event, Store

COLUMNS = ("created_at", "reviewer", "record_id", "stage", "action", "value", "reason", "note")
ACTIONS = frozenset(Action) - {Action.UNDO}
"""What a file may carry: every action but undo (a file holds the state, not its history)."""
NO_PMID_ACTIONS = frozenset({Action.REASON_ADD, Action.STOPPING_CHECK})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_csv(store: Store) -> bytes:
    """The live events as CSV bytes (UTF-8 with BOM, so Excel opens it cleanly)."""
    events = decision_log.live_events(store.events())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in events.to_dict(orient="records"):
        pmid = (
            ""
            if row["record_id"] is None or str(row["record_id"]) == "<NA>"
            else str(int(row["record_id"]))
        )
        cells = [pmid if c == "record_id" else str(row[c]) for c in COLUMNS]
        writer.writerow([escape(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


def escape(cell: str) -> str:
    """A leading apostrophe on formula-like cells, and on cells that already start with one."""
    return "'" + cell if cell.startswith((*_FORMULA_START, "'")) else cell


def unescape(cell: str) -> str:
    """Undo :func:`escape`; an apostrophe another tool wrote before plain text is kept."""
    return cell[1:] if cell[:1] == "'" and cell[1:2].startswith((*_FORMULA_START, "'")) else cell


def import_csv(store: Store, path: str | os.PathLike[str], *, reviewer: str = "") -> int:
    """Append the file's annotations as events, all or nothing; returns how many were new."""
    reasons = screening.exclusion_reasons(store)
    events: list[Event] = []
    for line, row in enumerate(_rows(Path(path)), start=2):
        try:
            found = _events(row, reviewer, reasons)
        except ScreeningError as exc:
            raise ScreeningError(f"{Path(path).name}, line {line}: {exc}") from None
        events += found
    pmids = {e.record_id for e in events if e.record_id is not None}
    pmids |= {int(e.value) for e in events if e.action.startswith("duplicate-")}
    if pmids:
        screening.check_pmids(store, sorted(pmids))
    fresh = _not_yet_stored(store, events)
    store.append_events(fresh)
    return len(fresh)


def _not_yet_stored(store: Store, events: list[Event]) -> list[Event]:
    """Leave out events the store already has (or had, and undid): importing twice is harmless.

    An event is the same when its time, reviewer, PMID, stage, action and values all match;
    rows without a time (from other tools) are always new.
    """
    stored = store.events()
    seen = {_identity(r) for r in stored.to_dict(orient="records") if r["action"] != Action.UNDO}
    return [e for e in events if not e.created_at or _identity(asdict(e)) not in seen]


def _identity(row: Mapping[Any, Any]) -> tuple[str, ...]:
    return tuple("" if row[c] is None or row[c] is pd.NA else str(row[c]) for c in COLUMNS)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScreeningError(f"Cannot read {path}: {exc}. Give a UTF-8 CSV file.") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not ({"record_id", "pmid"} & fields) or not ({"action", "decision"} & fields):
        raise ScreeningError(
            f"{path.name} has no record_id (or pmid) and action/decision columns: export the"
            " annotations "
            "once to see the expected shape."
        )
    for row in reader:
        yield {k.strip().lower(): unescape(v or "") for k, v in row.items() if k}


def _events(row: Mapping[str, str], default_reviewer: str, reasons: list[str]) -> list[Event]:
    """The events one row stands for, every value checked; ``reasons`` grows with reason-add."""
    who = screening.check_reviewer(row.get("reviewer") or default_reviewer)
    if "action" not in row:
        return _decision_row(row, who, reasons)
    action = row["action"].strip()
    if action not in ACTIONS:
        raise ScreeningError(f"unknown action {action!r}: use one of {', '.join(sorted(ACTIONS))}.")
    pmid = _pmid(row) if action not in NO_PMID_ACTIONS else None
    event = Event(Action(action), who, pmid, row.get("stage", "").strip(), row.get("value", ""),
                  row.get("reason", ""), row.get("note", ""),
                  created_at=row.get("created_at", "").strip())  # fmt: skip
    return [_checked(event, reasons)]


def _checked(event: Event, reasons: list[str]) -> Event:
    """The event with its values validated (and reasons in their listed spelling)."""
    if event.action in DECISION_ACTIONS:
        stage = screening.check_stage(event.stage)
        decision = screening.check_decision(event.value)
        reason = screening.check_reason(reasons, decision, event.reason, event.note)
        return replace(event, stage=stage, reason=reason)
    if event.action == Action.REASON_ADD:
        if not event.value.strip():
            raise ScreeningError("a reason-add row needs the new reason in its value column.")
        reasons.append(event.value.strip())
    elif event.action.startswith(("tag-", "suggestion-")) and not event.value.strip():
        raise ScreeningError("a tag row needs the tag in its value column.")
    elif event.action == Action.STOPPING_CHECK:
        _check_verdict(event.note)
    elif event.action == Action.NOTE and not event.note.strip():
        raise ScreeningError("a note row needs the text in its note column.")
    elif event.action.startswith("duplicate-") and not event.value.strip().isdigit():
        raise ScreeningError(f"{event.value!r} is not the PMID of the original record.")
    return event


def _check_verdict(note: str) -> None:
    """A stopping check's note must be the verdict's JSON, so reports can read it back."""
    try:
        StoppingVerdict.from_json(note)
    except (ValueError, KeyError, TypeError) as exc:
        raise ScreeningError(
            "a stopping-check row needs the verdict's JSON in its note column, as exported."
        ) from exc


def _pmid(row: Mapping[str, str]) -> int:
    text = (row.get("record_id") or row.get("pmid") or "").strip()
    if not text.isdigit():
        raise ScreeningError(f"{text!r} is not a record id (or PMID).")
    return int(text)


def _decision_row(row: Mapping[str, str], reviewer: str, reasons: list[str]) -> list[Event]:
    """A row from another tool: a decision, with its reason, tags and note."""
    pmid, note = _pmid(row), row.get("note", "").strip()
    decision = screening.check_decision(row.get("decision", "").strip().lower())
    stage = screening.check_stage(row.get("stage", "").strip() or Stage.TITLE_ABSTRACT)
    reason = screening.check_reason(reasons, decision, row.get("reason", ""), note)
    events = [Event(Action.DECIDE, reviewer, pmid, stage, decision, reason)]
    tags = [t.strip() for t in row.get("tags", "").split(";") if t.strip()]
    events += [Event(Action.TAG_ADD, reviewer, pmid, value=t) for t in tags]
    if note:
        events.append(Event(Action.NOTE, reviewer, pmid, note=note))
    return events
