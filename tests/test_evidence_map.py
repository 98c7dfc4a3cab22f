"""The evidence map counts studies per pair of facet values, as a reader counts them by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from tracker import tagging
from tracker.evidence_map import NONE, crossing

RECORDS = pd.DataFrame(
    {
        "record_id": [1, 2, 3, 4],
        "title": [
            "Intravenous ketamine for complex regional pain syndrome: a randomized trial",
            "Ketamine infusion in CRPS and fibromyalgia: a randomized controlled trial",
            "Oral ketamine for cancer pain: a case report",
            "Attitudes of nurses towards analgesia",
        ],
        "abstract": ["", "", "", ""],
        "publication_types": [
            ["Randomized Controlled Trial"],
            ["Randomized Controlled Trial"],
            ["Case Reports"],
            ["Journal Article"],
        ],
        "mesh_terms": [[], [], [], []],
    }
)


@pytest.fixture(scope="module")
def evidence() -> pd.DataFrame:
    return tagging.evidence(RECORDS)


def _cell(table: pd.DataFrame, design: str, condition: str) -> int:
    hit = table[(table["design"] == design) & (table["condition"] == condition)]
    return int(hit["studies"].sum())


def test_each_pair_counts_the_studies_carrying_both(evidence: pd.DataFrame) -> None:
    table = crossing(evidence, "design", "condition")
    # Counted by reading the four titles above.
    assert _cell(table, "RCT", "CRPS") == 2
    assert _cell(table, "RCT", "fibromyalgia") == 1
    assert _cell(table, "case report", "cancer pain") == 1
    assert _cell(table, NONE, NONE) == 1  # record 4 carries neither
    assert _cell(table, "case report", "CRPS") == 0
    assert (table["studies"] > 0).all()


def test_a_selection_limits_the_map(evidence: pd.DataFrame) -> None:
    table = crossing(evidence, "design", "condition", pmids=[2, 3])
    assert _cell(table, "RCT", "CRPS") == 1
    assert int(table["studies"].sum()) == 3  # record 2 twice (two conditions), record 3 once


def test_without_untagged_the_blind_spot_is_left_out(evidence: pd.DataFrame) -> None:
    table = crossing(evidence, "design", "condition", untagged=False)
    assert NONE not in set(table["design"]) | set(table["condition"])


def test_an_unknown_facet_is_refused(evidence: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown evidence facet 'colour'"):
        crossing(evidence, "colour", "condition")
