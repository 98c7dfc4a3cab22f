"""Fully labelled screening datasets, to replay in a simulation.

Two sources:

- a CSV in the format of ASReview's and SYNERGY's labelled datasets: columns ``title``,
  ``abstract`` and ``label_included`` (1 relevant, 0 not), optionally ``pubmedID`` or ``pmid``,
  ``doi`` and ``keywords`` (separated by ";" or ","). ``label_included`` is the final,
  full-text inclusion; it is also what ASReview's own benchmarks replay.
- a tracker data directory whose title/abstract screening is complete: every record has a
  final decision there, include or maybe counting as relevant.

Everything is checked before a simulation starts; a problem is a :class:`DatasetError` that
names it (a missing column, a label that is not 0 or 1 with its line, no relevant record).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from tracker import screening_order
from tracker.errors import DatasetError, StoreError
from tracker.ranking import FEATURE_COLUMNS
from tracker.records import Stage
from tracker.store import Store

REQUIRED = ("title", "abstract", "label_included")
ID_COLUMNS = ("pubmedID", "pmid")


@dataclass(frozen=True, slots=True)
class LabelledDataset:
    """Records (title, abstract and what metadata the source has) with one 0/1 label each."""

    name: str
    records: pd.DataFrame
    labels: npt.NDArray[np.int64]
    ids: tuple[str, ...]
    """Each record's PMID where the source gives one, else its line in the file."""

    @property
    def relevant(self) -> int:
        return int(self.labels.sum())


def load(path: str | os.PathLike[str]) -> LabelledDataset:
    """The dataset at ``path``: a labelled CSV, or a data directory with complete decisions."""
    source = Path(path)
    if source.is_dir():
        return _from_store(source)
    if not source.is_file():
        raise DatasetError(
            f"No dataset at {source}: give a labelled CSV file or a tracker data directory."
        )
    return _from_csv(source)


def _from_csv(path: Path) -> LabelledDataset:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, csv.Error) as exc:
        raise DatasetError(f"Cannot read {path.name} as a UTF-8 CSV file: {exc}.") from exc
    except pd.errors.EmptyDataError:
        raise DatasetError(
            f"{path.name} is empty: a labelled dataset needs a header and rows."
        ) from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"{path.name} has no {' or '.join(repr(c) for c in missing)} column: a labelled"
            f" dataset needs the columns {', '.join(REQUIRED)} (1 relevant, 0 not)."
        )
    labels = _labels(frame["label_included"], path.name)
    id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    ids = frame[id_column] if id_column else pd.Series(range(2, len(frame) + 2)).astype(str)
    keep = [c for c in ("title", "abstract", "keywords") if c in frame.columns]
    return _checked(path.stem, frame[keep].reset_index(drop=True), labels, tuple(ids))


def _labels(column: pd.Series, name: str) -> npt.NDArray[np.int64]:
    text = column.str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = ~numbers.isin([0, 1])
    if bad.any():
        lines = [str(i + 2) for i in np.flatnonzero(bad.to_numpy())]
        shown = ", ".join(f"line {n}: {text.iloc[int(n) - 2]!r}" for n in lines[:3])
        more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
        raise DatasetError(
            f"{name}: label_included must be 0 or 1 on every row ({shown}{more}). Fill in"
            " the missing labels or drop those rows."
        )
    return numbers.to_numpy(dtype=np.int64)


def _from_store(path: Path) -> LabelledDataset:
    store = Store(path)
    if not store.has_records():
        raise DatasetError(f"{path} holds no records: it is not a tracker data directory.")
    try:
        records = store.records(columns=FEATURE_COLUMNS)
        events = store.events()
    except StoreError as exc:
        raise DatasetError(f"Cannot read the store in {path}: {exc}") from exc
    team = screening_order.screened(events, reviewer="", stage=Stage.TITLE_ABSTRACT)
    decided = team.set_index("record_id")["decision"].reindex(records["record_id"])
    undecided = records["record_id"][~decided.isin(["include", "exclude", "maybe"]).to_numpy()]
    if len(undecided):
        shown = ", ".join(map(str, undecided.head(5)))
        raise DatasetError(
            f"{len(undecided)} of {len(records)} records in {path} have no final title/abstract"
            f" decision (record {shown}{' …' if len(undecided) > 5 else ''}): a simulation needs"
            " every record decided, with conflicts resolved."
        )
    labels = decided.isin(list(screening_order.PASSED)).to_numpy().astype(np.int64)
    ids = tuple(str(p) for p in records["record_id"])
    return _checked(path.name, records.drop(columns="record_id"), labels, ids)


def _checked(
    name: str, records: pd.DataFrame, labels: npt.NDArray[np.int64], ids: tuple[str, ...]
) -> LabelledDataset:
    if not len(labels):
        raise DatasetError(f"{name} has no records to simulate.")
    if not labels.any():
        raise DatasetError(
            f"{name} has no relevant record (label 1): a simulation measures how soon the"
            " relevant records are found, so it needs at least one."
        )
    if labels.all():
        raise DatasetError(
            f"{name} has no irrelevant record (label 0): a simulation starts from one relevant"
            " and one irrelevant record, so it needs at least one of each."
        )
    return LabelledDataset(name, records, labels, ids)
