"""Moving annotations between machines and tools: the event log as CSV, and back.

Export writes the events still in force (undone ones and the undos themselves are left out), one
row each, oldest first: ``created_at, reviewer, pmid, stage, action, value, reason, note``.
Importing that file into another store with the same records gives the same current state.

Other tools' screening results can come in too: a CSV without an ``action`` column is read as
one decision per row, with columns ``pmid, decision`` and optionally ``reason, stage,
reviewer, tags`` (separated by ";") and ``note``. Everything is checked before anything is
written, so a bad file changes nothing.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from tracker import screening
from tracker.errors import ScreeningError
from tracker.export import inert
from tracker.records import Stage
from tracker.store import Event, Store

COLUMNS = ("created_at", "reviewer", "pmid", "stage", "action", "value", "reason", "note")
ACTIONS = frozenset({"decide", "resolve", "tag-add", "tag-remove", "note", "duplicate-confirm",
                     "duplicate-reject", "reason-add"})  # fmt: skip


def export_csv(store: Store) -> bytes:
    """The live events as CSV bytes (UTF-8 with BOM, so Excel opens it cleanly)."""
    events = screening.live_events(store.events())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in events.to_dict(orient="records"):
        pmid = "" if row["pmid"] is None or str(row["pmid"]) == "<NA>" else str(int(row["pmid"]))
        cells = [str(row[c]) if c != "pmid" else pmid for c in COLUMNS]
        writer.writerow([cells[0], *(inert(cell) for cell in cells[1:])])
    return buffer.getvalue().encode("utf-8-sig")


def import_csv(store: Store, path: str | os.PathLike[str], *, reviewer: str = "") -> int:
    """Append the file's annotations as events, all or nothing; returns how many."""
    events: list[Event] = []
    for line, row in enumerate(_rows(Path(path)), start=2):
        events += _events(store, row, line, reviewer)
    pmids = {e.pmid for e in events if e.pmid is not None}
    if pmids:
        screening.check_pmids(store, sorted(pmids))
    store.append_events(events)
    return len(events)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScreeningError(f"Cannot read {path}: {exc}. Give a UTF-8 CSV file.") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if "pmid" not in fields or not ({"action", "decision"} & fields):
        raise ScreeningError(
            f"{path.name} has no pmid and action/decision columns: export one with "
            "`tracker annotations export` to see the expected shape."
        )
    for row in reader:
        yield {k.strip().lower(): _uninert(v or "") for k, v in row.items() if k}


def _uninert(cell: str) -> str:
    """Undo the apostrophe export adds in front of formula-like cells."""
    return cell[1:] if cell[:2] in {"'=", "'+", "'-", "'@", "'\t", "'\r"} else cell


def _events(store: Store, row: Mapping[str, str], line: int, default_reviewer: str) -> list[Event]:
    reviewer = (row.get("reviewer") or default_reviewer).strip()
    if not reviewer:
        raise ScreeningError(f"line {line}: no reviewer; add a reviewer column or pass --reviewer.")
    pmid_text = (row.get("pmid") or "").strip()
    if "action" not in row:
        return _decision_row(store, row, line, reviewer, pmid_text)
    action = row["action"].strip()
    if action not in ACTIONS:
        raise ScreeningError(f"line {line}: unknown action {action!r}.")
    if action != "reason-add" and not pmid_text.isdigit():
        raise ScreeningError(f"line {line}: {pmid_text!r} is not a PMID.")
    event = Event(action=action, reviewer=reviewer, pmid=int(pmid_text) if pmid_text else None,
                  stage=row.get("stage", "").strip(), value=row.get("value", ""),
                  reason=row.get("reason", ""), note=row.get("note", ""),
                  created_at=row.get("created_at", "").strip())  # fmt: skip
    return [event]


def _decision_row(
    store: Store, row: Mapping[str, str], line: int, reviewer: str, pmid_text: str
) -> list[Event]:
    """A row from another tool: a decision, with its reason, tags and note."""
    if not pmid_text.isdigit():
        raise ScreeningError(f"line {line}: {pmid_text!r} is not a PMID.")
    pmid, note = int(pmid_text), row.get("note", "").strip()
    try:
        decision = screening.check_decision(row.get("decision", "").strip().lower())
        stage = screening.check_stage(row.get("stage", "").strip() or Stage.TITLE_ABSTRACT)
        reason = screening.check_reason(store, decision, row.get("reason", ""), note)
    except ScreeningError as exc:
        raise ScreeningError(f"line {line}: {exc}") from None
    events = [Event("decide", reviewer, pmid, stage, decision, reason)]
    tags = [t.strip() for t in row.get("tags", "").split(";") if t.strip()]
    events += [Event("tag-add", reviewer, pmid, value=t) for t in tags]
    if note:
        events.append(Event("note", reviewer, pmid, note=note))
    return events
