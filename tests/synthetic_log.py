"""A large screening log made up for the fold of the state: one workload, two readers.

tests/test_screening.py checks what the fold of it counts; bench/screening_bench.py times the
fold. Keeping the log here means the test and the benchmark cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = "record_id"


def synthetic_log(pmids: int) -> pd.DataFrame:
    """About 2.7 events per record: two reviewers, some tags, notes and full-text decisions.

    PMIDs run from 1 to ``pmids``. At title/abstract ana includes every record and ben the even
    ones (maybe for the odd ones: a conflict); ana alone includes every seventh at full text.
    """
    ids = np.arange(1, pmids + 1)
    parts = [
        pd.DataFrame({KEY: ids, "reviewer": "ana", "action": "decide", "stage": "title-abstract",
                      "value": "include"}),
        pd.DataFrame({KEY: ids, "reviewer": "ben", "action": "decide", "stage": "title-abstract",
                      "value": np.where(ids % 2 == 0, "include", "maybe")}),
        pd.DataFrame({KEY: ids[::3], "reviewer": "ana", "action": "tag-add", "value": "rct"}),
        pd.DataFrame({KEY: ids[::5], "reviewer": "ana", "action": "note", "note": "see p. 3"}),
        pd.DataFrame({KEY: ids[::7], "reviewer": "ana", "action": "decide", "stage": "full-text",
                      "value": "include"}),
    ]  # fmt: skip
    log = pd.concat(parts, ignore_index=True).fillna("")
    log["id"] = np.arange(1, len(log) + 1)
    log["created_at"], log["reason"], log["target_id"] = "2026-01-01T00:00:00", "", pd.NA
    return log.astype({"record_id": "Int64", "target_id": "Int64"})
