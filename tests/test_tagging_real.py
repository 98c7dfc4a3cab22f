"""Evidence tags against 1,800 real abstracts labelled by hand, and 840 more that name an
adverse effect (issue #17).

The abstracts are read in place from ../shared/screening-datasets (tests/real_abstracts.py draws
them by seed); the labels, the draws and the rules are in tests/expected/
(tagging_real_labels.json, tagging_real_rules.md). From the eighth round on, rules and learned
weights may be fitted to every labelled record but the held-out ones (real_abstracts.held_out):
the eighth test split ("held-out tests", 300 records, each read by two readers), and for
adverse-effect precision it with the adverse-effect set's 90 newest records ("held-out
effects"), so that precision rests on enough suggestions. The acceptance is read there. Of the
issue's four targets only sample size is met on it (ISSUE_TARGETS are reported in the table,
not asserted); FLOORS guard what was measured. The earlier test splits
are on the fitted side and are guarded at what they measured, as is the tuning side. Held-out
sets are reported by their totals only: their misses are never printed or written. The table
is written to tests/artifacts/tagging_real_scores.json and printed (``pytest -s``), the two
readers' agreement to tests/artifacts/tagging_reader_agreement.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from real_abstracts import (
    EFFECTS_THIRD,
    EIGHTH_FROM,
    SEVENTH_FROM,
    SIXTH_FROM,
    Drawn,
    screening_dir,
)
from tagging_accuracy import (
    HELD_OUT,
    REAL_LABELS,
    Labelled,
    Scores,
    drawn_records,
    effect_records,
    label_mismatches,
    pooled,
    reader_agreement,
    scored_sets,
    table,
)

from tracker.tagging import evidence

ARTIFACTS = Path(__file__).parent / "artifacts"
ISSUE_TARGETS = {  # issue #17's acceptance on a test split no rule was tuned on
    "design_precision": 0.97,
    "design_coverage": 0.85,
    "adverse_precision": 0.95,
    "sample_size_exact": 0.90,
}
FLOORS = {  # the held-out tests when round eight was frozen (c398104) and scored once
    "design_precision": 0.90,  # 258/285
    "design_coverage": 0.75,  # 225/299
    "adverse_precision": 0.90,  # held-out effects, 49/54
    "sample_size_exact": 0.90,  # 199/218 = 0.913: the issue's target, met
}
HELD_OUT_SUGGESTIONS = 50
"""Held-out adverse-effect precision must rest on at least this many suggestions. The eighth
batch's effect records are the last of their population (90, not the 150 asked for), so this
round's precision rests on 54; the seventh round's on 94."""
EARLIER_FLOORS = {  # the earlier test split (80 records), fitted to from round five
    "design_precision": 0.94,  # 71/75
    "design_coverage": 0.81,  # 64/79
    "adverse_precision": 1.0,  # 2/2: too few suggestions to say much
    "sample_size_exact": 0.93,  # 58/62
}
TUNING_FLOORS = {  # the tuning split (680) with the adverse-effect set's tuning part (340)
    "design_precision": 0.95,  # 671/703
    "design_coverage": 0.87,  # 592/677
    "adverse_precision": 0.99,  # 274/275 (the veto was fitted to these records)
    "adverse_recall": 0.80,  # 274/342
    "sample_size_exact": 0.95,  # 463/485 (the sample-size choice was fitted to these records)
    "studies_pooled_exact": 0.76,  # 13/17
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
    """Every labelled set, tagged and scored; the table written as an artifact, with the misses
    of the sets rules were tuned on only."""
    del drawn  # skips with its reason when the datasets are absent
    fixtures = FIXTURES if (FIXTURES / "MANIFEST.md").is_file() else None
    scores = scored_sets(screening_dir(), fixtures, evidence)
    report: dict[str, object] = {
        name: {"measures": s.measures()}
        if name in HELD_OUT
        else {"measures": s.measures(), "misses": s.misses}
        for name, s in scores.items()
    }
    report["table"] = table(scores)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "tagging_real_scores.json"
    path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print("\n" + table(scores))
    return scores


def test_the_labelled_records_are_the_ones_the_seed_draws(
    drawn: list[tuple[Drawn, Labelled]],
) -> None:
    assert label_mismatches([record for record, _ in drawn]) == []
    every_third = [record.split for record, _ in drawn if record.place < SIXTH_FROM]
    assert len(drawn) >= 150 and every_third.count("test") == len(every_third) // 3
    assert all(record.split == "test" for record, _ in drawn if record.place >= SIXTH_FROM)


def test_the_effect_set_is_the_one_the_seed_draws(
    effects: list[tuple[Drawn, Labelled]], drawn: list[tuple[Drawn, Labelled]]
) -> None:
    rows = REAL_LABELS["effects"]["records"]
    assert label_mismatches([record for record, _ in effects], rows) == []
    assert {r.pmid for r, _ in effects}.isdisjoint({r.pmid for r, _ in drawn})
    every_third = [r.split for r, _ in effects if r.place < EFFECTS_THIRD]
    assert every_third.count("test") == len(every_third) // 3
    assert all(r.split == "test" for r, _ in effects if r.place >= EFFECTS_THIRD)


def test_the_label_file_holds_no_abstract_text(
    drawn: list[tuple[Drawn, Labelled]], effects: list[tuple[Drawn, Labelled]]
) -> None:
    stored = _runs((Path(__file__).parent / "expected" / "tagging_real_labels.json").read_text())
    assert len(drawn) == len(REAL_LABELS["records"])
    for record, _ in (*drawn, *effects):
        copied = not _runs(record.abstract).isdisjoint(stored)
        assert not copied, f"a note copies 8 words of {record.key}'s abstract"


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


def test_a_record_read_twice_keeps_both_readings_and_how_it_was_settled() -> None:
    """The sixth to eighth batches and the adverse-effect set's places from 510 were each
    read by two readers; the label is theirs where they agree, a third reader's where they do
    not, and the third reader settled exactly the families they differ on."""
    read_twice = [
        *(r for r in REAL_LABELS["records"] if "readings" in r),
        *(r for r in REAL_LABELS["effects"]["records"] if "readings" in r),
    ]
    assert len(read_twice) == (len(REAL_LABELS["records"]) - SIXTH_FROM) + (
        len(REAL_LABELS["effects"]["records"]) - EFFECTS_THIRD
    )
    for row in read_twice:
        first, second = (_sorted(reading["labels"]) for reading in row["readings"])
        differ = {family for family in first if first[family] != second[family]}
        if row["settled"] == "both readers":
            assert not differ and _sorted(row["labels"]) == first, row["record"]
        else:
            assert set(row["settled"]) == differ, row["record"]
            for family, kept in row["settled"].items():
                if kept != "neither":
                    reading = first if kept == "reader_1" else second
                    assert _sorted(row["labels"])[family] == reading[family], row["record"]


def _sorted(labels: dict[str, object]) -> dict[str, object]:
    return {k: sorted(v) if isinstance(v, list) else v for k, v in labels.items()}


def test_readers_agreement_is_reported(drawn: list[tuple[Drawn, Labelled]]) -> None:
    """Two readers' agreement, scored like a tagger against labels: the ceiling a target read
    on these labels can be told apart from. Written to the scores artifact."""
    del drawn  # skips with its reason when the datasets are absent
    agreement = reader_agreement(screening_dir())
    batches = ("sixth", "seventh", "eighth")
    sixth, seventh, eighth = (agreement[f"second reader, {b} test split"] for b in batches)
    assert sixth.records == SEVENTH_FROM - SIXTH_FROM
    assert seventh.records == EIGHTH_FROM - SEVENTH_FROM
    assert eighth.records == len(REAL_LABELS["records"]) - EIGHTH_FROM
    assert all(batch.design[0] > 0 for batch in (sixth, seventh, eighth))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "tagging_reader_agreement.md").write_text(table(agreement) + "\n")
    print("\n" + table(agreement))


@pytest.fixture(scope="module")
def held_out_measures(scored: dict[str, Scores]) -> dict[str, float]:
    """The held-out sets' totals only: a failure must not print their misses, which would
    invite tuning on them. The acceptance is read on the eighth test split ("held-out tests",
    300 records); adverse-effect precision pools it with the adverse-effect set's newest records
    ("held-out effects", 390)."""
    measures = dict(scored["held-out tests"].measures())
    measures["adverse_precision"] = scored["held-out effects"].measures()["adverse_precision"]
    return measures


@pytest.mark.parametrize("measure", sorted(FLOORS))
def test_the_held_out_tests_keep_their_floors(
    held_out_measures: dict[str, float], measure: str
) -> None:
    measured = held_out_measures[measure]
    assert measured >= FLOORS[measure], (measure, measured)
    assert FLOORS[measure] <= ISSUE_TARGETS[measure]


def test_held_out_adverse_effect_precision_rests_on_enough_suggestions(
    scored: dict[str, Scores],
) -> None:
    true, false, _ = scored["held-out effects"].adverse
    assert true + false >= HELD_OUT_SUGGESTIONS, (true, false)


@pytest.mark.parametrize("measure", sorted(EARLIER_FLOORS))
def test_the_earlier_test_split_keeps_what_it_measured(
    scored: dict[str, Scores], measure: str
) -> None:
    measured = scored["earlier test split"].measures()[measure]
    assert measured >= EARLIER_FLOORS[measure], (measure, measured)


@pytest.mark.parametrize("measure", sorted(TUNING_FLOORS))
def test_the_tuning_split_keeps_what_it_measured(scored: dict[str, Scores], measure: str) -> None:
    tuning = pooled(scored["tuning split"], scored["effect set, tuning"])
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
