"""Evidence tags against 240 real abstracts labelled by hand (issue #17).

The abstracts are read in place from ../shared/screening-datasets (tests/real_abstracts.py
draws them by seed); the labels, the draw and the rules are in tests/expected/
(tagging_real_labels.json, tagging_real_rules.md). Rules were tuned on the tuning split only;
the test split, which no rule was tuned on, is guarded at what it measured when the rules were
frozen (FLOORS), below the issue's targets (ISSUE_TARGETS), which are not reached yet. The
measured table, with the fixture records and the crafted set, is written to
tests/artifacts/tagging_real_scores.json and printed (``pytest -s``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from real_abstracts import Drawn, screening_dir
from tagging_accuracy import (
    REAL_LABELS,
    Labelled,
    Scores,
    crafted_records,
    drawn_records,
    effect_records,
    fixture_records,
    frame,
    label_mismatches,
    score,
    table,
)

from tracker.tagging import evidence

ARTIFACTS = Path(__file__).parent / "artifacts"
ISSUE_TARGETS = {  # issue #17's acceptance on the test split: NOT yet reached (see below)
    "design_precision": 0.97,
    "design_coverage": 0.85,
    "adverse_precision": 0.95,
    "sample_size_exact": 0.90,
}
FLOORS = {  # what the test split measured when the rules were frozen (2026-12-03): a guard
    # against regression, below the issue's targets; issue #17 stays open until they are met.
    "design_precision": 0.91,  # 68/74
    "design_coverage": 0.77,  # 61/79
    "adverse_precision": 0.33,  # 2/6: the split holds only 3 real adverse effects
    "sample_size_exact": 0.82,  # 51/62
}
TUNING_FLOORS = {  # what the tuning split measured when the rules were frozen, less a little
    "design_precision": 0.97,
    "design_coverage": 0.88,
    "adverse_precision": 0.90,
    "sample_size_exact": 0.90,
}
CRAFTED_FLOORS = {  # the crafted set must not regress: it scored 1.0 on all four
    "design_precision": 1.0,
    "design_coverage": 1.0,
    "adverse_precision": 1.0,
    "sample_size_exact": 1.0,
}


@pytest.fixture(scope="module")
def drawn() -> list[tuple[Drawn, Labelled]]:
    folder = screening_dir()
    if not (folder / "MANIFEST.md").is_file():
        pytest.skip(f"screening datasets not found at {folder} (set TRACKER_SCREENING_DIR)")
    return drawn_records(folder)


@pytest.fixture(scope="module")
def effects(drawn: list[tuple[Drawn, Labelled]]) -> list[tuple[Drawn, Labelled]]:
    del drawn  # skips with its reason when the datasets are absent
    return effect_records(screening_dir())


@pytest.fixture(scope="module")
def scored(drawn: list[tuple[Drawn, Labelled]]) -> dict[str, Scores]:
    """Every labelled set, tagged and scored; the table written as an artifact."""
    sets = {
        "test split": [labelled for record, labelled in drawn if record.split == "test"],
        "tuning split": [labelled for record, labelled in drawn if record.split == "tune"],
        "crafted set": crafted_records(),
    }
    if (FIXTURES / "MANIFEST.md").is_file():
        sets["fixture records"] = fixture_records(FIXTURES)
    scores = {name: score(records, evidence(frame(records))) for name, records in sets.items()}
    ARTIFACTS.mkdir(exist_ok=True)
    report = {
        name: {"measures": s.measures(), "misses": s.misses}
        for name, s in scores.items()
        if name != "test split"
    }
    report["test split"] = {"measures": scores["test split"].measures()}
    report["table"] = table(scores)  # type: ignore[assignment]
    path = ARTIFACTS / "tagging_real_scores.json"
    path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print("\n" + table(scores))
    return scores


def test_the_labelled_records_are_the_ones_the_seed_draws(
    drawn: list[tuple[Drawn, Labelled]],
) -> None:
    assert label_mismatches([record for record, _ in drawn]) == []
    splits = [record.split for record, _ in drawn]
    assert len(drawn) >= 150 and splits.count("test") == len(drawn) // 3


def test_the_effect_set_is_the_one_the_seed_draws(
    effects: list[tuple[Drawn, Labelled]], drawn: list[tuple[Drawn, Labelled]]
) -> None:
    rows = REAL_LABELS["effects"]["records"]
    assert label_mismatches([record for record, _ in effects], rows) == []
    assert {r.pmid for r, _ in effects}.isdisjoint({r.pmid for r, _ in drawn})
    assert [r.split for r, _ in effects].count("test") == len(effects) // 3


def test_the_label_file_holds_no_abstract_text(
    drawn: list[tuple[Drawn, Labelled]], effects: list[tuple[Drawn, Labelled]]
) -> None:
    stored = _runs((Path(__file__).parent / "expected" / "tagging_real_labels.json").read_text())
    assert len(drawn) == len(REAL_LABELS["records"])
    for record, _ in (*drawn, *effects):
        assert _runs(record.abstract).isdisjoint(stored), record.key


def _runs(text: str, length: int = 8) -> set[tuple[str, ...]]:
    """Every run of ``length`` words, without the quotes, commas and brackets JSON adds."""
    words = [word.strip('",{}[]') for word in text.split()]
    return {tuple(words[start : start + length]) for start in range(len(words) - length + 1)}


def test_every_record_is_labelled_with_every_family() -> None:
    families = {"design", "nameable", "sample_size", "studies_pooled", "route", "adverse_effects"}
    for row in (*REAL_LABELS["records"], *REAL_LABELS["fixtures"]):
        assert set(row["labels"]) == families, row
        assert row["labels"]["nameable"] == bool(row["labels"]["design"]), row
    for row in REAL_LABELS["effects"]["records"]:
        assert set(row["labels"]) == {"adverse_effects"}, row


@pytest.fixture(scope="module")
def held_out_measures(scored: dict[str, Scores]) -> dict[str, float]:
    """The test split's totals only: a failure must not print its misses, which would invite
    tuning on them."""
    return dict(scored["test split"].measures())


@pytest.mark.parametrize("measure", sorted(FLOORS))
def test_the_test_split_keeps_what_it_measured(
    held_out_measures: dict[str, float], measure: str
) -> None:
    measured = held_out_measures[measure]
    assert measured >= FLOORS[measure], (measure, measured)
    assert FLOORS[measure] <= ISSUE_TARGETS[measure]


@pytest.mark.parametrize("measure", sorted(TUNING_FLOORS))
def test_the_tuning_split_keeps_what_it_measured(scored: dict[str, Scores], measure: str) -> None:
    tuning = scored["tuning split"]
    assert tuning.measures()[measure] >= TUNING_FLOORS[measure], (measure, tuning.misses)


@pytest.mark.parametrize("measure", sorted(CRAFTED_FLOORS))
def test_the_crafted_set_does_not_regress(scored: dict[str, Scores], measure: str) -> None:
    crafted = scored["crafted set"]
    assert crafted.measures()[measure] >= CRAFTED_FLOORS[measure], (measure, crafted.misses)


def test_the_fixture_records_tag_no_design_they_are_not(
    scored: dict[str, Scores], eutils_fixtures: Path
) -> None:
    del eutils_fixtures
    fixtures = scored["fixture records"]
    assert fixtures.design[1] == 0 and fixtures.false_n == 0, fixtures.misses
    assert fixtures.covered >= 4, fixtures.misses  # review, two preclinical, case-control/cohort
