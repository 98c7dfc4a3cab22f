"""The evidence map: how many studies sit at each crossing of two evidence facets.

A review team reads gaps off it: many RCTs of intravenous ketamine in CRPS, no trial of
intranasal esketamine in cancer pain. A study carrying several values of a facet (an RCT that
is also a cross-over) is counted in each of its cells, so a row's cells can sum to more than
the studies in it; the map answers "how many studies speak to this pair", not a partition.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tracker import tagging

NONE = "(not tagged)"
"""The row or column of studies that carry no value of that facet: the map's blind spot."""


def crossing(
    evidence: pd.DataFrame,
    rows: str,
    columns: str,
    pmids: Sequence[int] | pd.Series | None = None,
    *,
    untagged: bool = True,
) -> pd.DataFrame:
    """Long table (``rows`` value, ``columns`` value, ``studies``) with one line per non-empty
    cell, for a heat map. ``pmids`` limits the map to a selection (the dashboard's filters);
    with ``untagged`` the studies lacking a value of a facet get a :data:`NONE` line."""
    for facet in (rows, columns):
        if facet not in tagging.FACETS:
            raise ValueError(f"unknown evidence facet {facet!r}; choose from {tagging.FACETS}")
    chosen = evidence if pmids is None else evidence.reindex(np.asarray(pmids, dtype="int64"))
    row_flags = _flags(chosen, rows, untagged)
    column_flags = _flags(chosen, columns, untagged)
    # One matrix product counts every pair: (values x studies) @ (studies x values).
    counts = row_flags.T.to_numpy(dtype=np.int64) @ column_flags.to_numpy(dtype=np.int64)
    table = pd.DataFrame(counts, index=row_flags.columns, columns=column_flags.columns)
    long = pd.DataFrame(
        {
            rows: np.repeat(table.index.to_numpy(), len(table.columns)),
            columns: np.tile(table.columns.to_numpy(), len(table.index)),
            "studies": counts.ravel(),
        }
    )
    return long[long["studies"] > 0].reset_index(drop=True)


def _flags(evidence: pd.DataFrame, facet: str, untagged: bool) -> pd.DataFrame:
    names = tagging.flag_columns(evidence, facet)
    flags = evidence[names].fillna(False).astype(bool)
    flags.columns = [name.split(":", 1)[1] for name in names]
    if untagged:
        flags[NONE] = ~flags.any(axis=1)
    return flags
