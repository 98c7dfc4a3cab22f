"""Evidence tags on hand-written cases (tests/expected/tagging_cases.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tracker.tagging import FACETS, evidence, tag_record, tag_vocabulary

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "expected" / "tagging_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["about"][:40])
def test_each_case_gets_exactly_its_tags(case: dict[str, Any]) -> None:
    tags = tag_record(case["title"], case["abstract"], case["publication_types"],
                      case["mesh_terms"])  # fmt: skip
    for key, want in case["expect"].items():
        assert tags[key] == want, key


def test_every_tag_names_the_evidence_that_justified_it() -> None:
    case = CASES[0]
    tags = tag_record(case["title"], case["abstract"], case["publication_types"], [])
    for facet in FACETS:
        for value in tags[facet]:
            proof = [e for e in tags["evidence"] if e["facet"] == facet and e["value"] == value]
            assert proof and all(e["span"] for e in proof)
    spans = {(e["value"], e["field"], e["span"]) for e in tags["evidence"]}
    assert ("RCT", "publication type", "Randomized Controlled Trial") in spans
    assert ("intranasal", "title", "Intranasal") in spans


def test_the_vocabulary_lists_every_value_a_filter_can_offer() -> None:
    vocabulary = tag_vocabulary()
    assert set(vocabulary) == set(FACETS)
    assert "intranasal" in vocabulary["route"] and "RCT" in vocabulary["design"]


def test_a_frame_of_records_is_tagged_by_pmid() -> None:
    records = pd.DataFrame({
        "pmid": [5, 9], "title": ["Oral ketamine", None], "abstract": ["", None],
        "publication_types": [[], []], "mesh_terms": [[], []],
    })  # fmt: skip
    tags = evidence(records)
    assert tags.index.tolist() == [5, 9]
    assert tags.loc[5, "route"] == ["oral"] and tags.loc[9, "route"] == []


def test_the_fast_column_tagger_agrees_with_the_per_record_tagger() -> None:
    records = pd.DataFrame({
        "pmid": list(range(len(CASES))),
        "title": [c["title"] for c in CASES],
        "abstract": [c["abstract"] for c in CASES],
        "publication_types": [c["publication_types"] for c in CASES],
        "mesh_terms": [c["mesh_terms"] for c in CASES],
    })  # fmt: skip
    fast = evidence(records)
    for number, case in enumerate(CASES):
        one = tag_record(case["title"], case["abstract"], case["publication_types"],
                         case["mesh_terms"])  # fmt: skip
        for facet in FACETS:
            assert fast.loc[number, facet] == one[facet], (case["about"], facet)
