"""One entry per study in the exports: confirmed duplicates folded into their original.

Each database's copy of a record is its own row in the store, so the same trial report found
in PubMed and Embase is two rows; a ``duplicate-confirm`` event (a reviewer's, or the
automatic cross-source merge's) marks the later row as a duplicate of the earlier one. A
bibliography should cite the study once, yet still say where it was found, so by default
:func:`entries` drops every confirmed duplicate and gives its original the ``sources`` and
``source_ids`` of the whole group (original first). ``keep_duplicates=True`` keeps one entry
per stored row, each naming only its own source: what the exports wrote before records came
from more than one database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from tracker import duplicates
from tracker.store import Store


def originals(store: Store) -> dict[int, int]:
    """Each confirmed duplicate's original, following chains to the first record.

    A duplicate of a duplicate belongs to the same study, so its entry folds into the root. A
    cycle (two records each confirmed as the other's duplicate) folds into its lowest id, so
    the group still keeps exactly one entry.
    """
    # duplicates' own fold of the judgement events (undo included); it has no public name yet.
    judged = duplicates.judgements(store)
    parent = {dup: orig for (dup, orig), status in judged.items() if status == "confirmed"}
    roots = {dup: _root(dup, parent) for dup in parent}
    return {dup: root for dup, root in roots.items() if dup != root}


def _root(start: int, parent: Mapping[int, int]) -> int:
    path = [start]
    while path[-1] in parent:
        following = parent[path[-1]]
        if following in path:
            return min(path[path.index(following) :])
        path.append(following)
    return path[-1]


def entries(records: pd.DataFrame, store: Store, *, keep_duplicates: bool = False) -> pd.DataFrame:
    """The records an export writes, each with a ``sources`` list column.

    By default confirmed duplicates are left out and each original lists the sources and ids
    of its whole group, read from the store (a duplicate outside ``records`` still counts:
    the filters choose studies, not copies). ``keep_duplicates`` keeps every row, each with its
    own source only.
    """
    with_own = records.assign(sources=_lists(_own_sources(records), records.index))
    folded = {} if keep_duplicates else originals(store)
    if not folded:
        return with_own
    kept = with_own[~with_own["record_id"].isin(list(folded)).to_numpy(dtype=bool)]
    groups: dict[int, list[int]] = {}
    for dup, root in sorted(folded.items()):
        groups.setdefault(root, []).append(dup)
    wanted = set(kept["record_id"].tolist()) & set(groups)
    if not wanted:
        return kept
    members = _member_rows(store, [d for root in wanted for d in groups[root]])
    sources, ids = [], []
    for record_id, first, first_ids in zip(
        kept["record_id"].tolist(), kept["sources"].tolist(), kept["source_ids"].tolist(),
        strict=True,
    ):  # fmt: skip
        rows = [members[d] for d in groups.get(record_id, ()) if d in members]
        sources.append(_unique([*first, *(s for row in rows for s in row[0])]))
        ids.append(_unique([*first_ids, *(i for row in rows for i in row[1])]))
    return kept.assign(sources=_lists(sources, kept.index), source_ids=_lists(ids, kept.index))


def _lists(values: list[list[str]], index: pd.Index) -> pd.Series:
    """A column of lists (pandas would try to read a plain list of lists as a table)."""
    return pd.Series(values, index=index, dtype=object)


def _own_sources(records: pd.DataFrame) -> list[list[str]]:
    if "source" not in records.columns:
        return [[] for _ in range(len(records))]
    return [[str(s)] if isinstance(s, str) and s else [] for s in records["source"].tolist()]


def _member_rows(store: Store, ids: list[int]) -> dict[int, tuple[list[str], list[str]]]:
    """(sources, source ids) of the duplicate rows, read from the store in one pass."""
    table = store.records(["record_id", "source", "source_ids"])
    table = table[table["record_id"].isin(ids).to_numpy(dtype=bool)]
    return {
        int(record_id): ([str(source)] if source else [], list(found or []))
        for record_id, source, found in zip(
            table["record_id"], table["source"], table["source_ids"], strict=True
        )
    }


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
