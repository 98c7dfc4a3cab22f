"""Moving a whole review from one store to another: a data folder to a server and back.

A team that outgrows one laptop copies its data folder into a PostgreSQL database; a review
can leave the server again the same way. The copy is the review exactly as it is: the records,
every run with its outcome and the records it returned, every event with its id (so undo,
resolutions and duplicate judgements still name the events they point at), the side tables
and the library's own vocabulary. Nothing is transformed, so the copy is then compared with
the original part by part, and a copy that differs in anything is reported, not trusted.

The target must be empty. On a server the whole copy is one transaction, so a copy that fails
leaves the server as it was; a data folder is written file by file, so a failed copy into one
says so and the folder is best deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tracker.errors import StoreError
from tracker.store import Store


@dataclass(frozen=True, slots=True)
class Transfer:
    """What a copy moved, each count checked equal in the target afterwards."""

    source: str
    target: str
    records: int
    runs: int
    events: int
    side_tables: tuple[str, ...]
    vocabulary: bool

    def line(self) -> str:
        extra = [f"side tables: {', '.join(self.side_tables)}"] if self.side_tables else []
        if self.vocabulary:
            extra.append("the library's own vocabulary")
        tail = f" ({'; '.join(extra)})" if extra else ""
        return (
            f"Copied {self.records} records, {self.runs} runs and {self.events} events from"
            f" {self.source} to {self.target}{tail}; every part was read back and is equal."
        )


def copy_store(source: Store, target: Store) -> Transfer:
    """Copy the review in ``source`` into the empty ``target`` and check every part equal."""
    _require_empty(target)
    log = source.backend.log.dump()
    records = source.records_table() if source.has_records() else None
    names = [name for name, _ in source.stamp().side_tables]
    vocabulary = source.own_vocabulary()
    with target.locked():
        if records is not None:
            target.backend.records.replace(records)
        target.backend.log.load(log)
        for name in names:
            table = source.read_side_table(name)
            if table is not None:
                target.write_side_table(name, table)
        if vocabulary is not None:
            target.create_vocabulary(vocabulary[1])
    differences = compare(source, target)
    if differences:
        raise StoreError(
            f"The copy in {target.location} differs from {source.location} in"
            f" {', '.join(differences)}. Do not use it: delete it and copy again."
        )
    return Transfer(
        source=source.location,
        target=target.location,
        records=0 if records is None else records.num_rows,
        runs=len(log["runs"]),
        events=len(log["events"]),
        side_tables=tuple(names),
        vocabulary=vocabulary is not None,
    )


def compare(first: Store, second: Store) -> list[str]:
    """The parts in which two stores differ (none when they hold the same review)."""
    differences = []
    if not first.records().equals(second.records()):
        differences.append("records")
    if first.backend.log.dump() != second.backend.log.dump():
        differences.append("the runs and events log")
    if not _same(first.runs(), second.runs()):
        differences.append("the search log")
    names = {name for name, _ in first.stamp().side_tables}
    if names != {name for name, _ in second.stamp().side_tables}:
        differences.append("the side tables")
    for name in sorted(names):
        one, other = first.read_side_table(name), second.read_side_table(name)
        if one is None or other is None or not one.equals(other):
            differences.append(f"side table {name}")
    mine, theirs = first.own_vocabulary(), second.own_vocabulary()
    if (mine and mine[1]) != (theirs and theirs[1]):
        differences.append("the vocabulary")
    return differences


def _same(one: pd.DataFrame, other: pd.DataFrame) -> bool:
    return one.to_json() == other.to_json()


def _require_empty(target: Store) -> None:
    if target.has_records() or not target.events().empty or not target.runs().empty:
        raise StoreError(
            f"{target.location} already holds a review. Copy into an empty data folder or"
            " database (or another schema of it)."
        )
