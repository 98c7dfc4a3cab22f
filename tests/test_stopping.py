"""The stopping rule: its p-values against the textbook formula, and its guarantee by chance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from tracker import stopping
from tracker.errors import RankingError
from tracker.stopping import StoppingRule, StoppingVerdict


def brute_force_p(labels: np.ndarray, total: int, target: float) -> float:
    """Callaghan & Müller-Hansen's p-value, every starting point tested."""
    found, smallest = int(labels.sum()), 1.0
    for start in range(len(labels)):
        before = int(labels[:start].sum())
        pool = total - start
        least = math.floor(found / target - before) + 1
        if least > pool:
            return 0.0
        p = hypergeom.cdf(int(labels[start:].sum()), pool, least, len(labels) - start)
        smallest = min(smallest, float(p))
    return smallest


@pytest.mark.parametrize("seed", range(40))
def test_testing_only_the_starts_after_relevant_records_gives_the_smallest_p(seed: int) -> None:
    draw = np.random.default_rng(seed)
    total = int(draw.integers(30, 300))
    screened = int(draw.integers(1, total))
    share = draw.uniform(0.02, 0.4)
    # ranked screening: relevant records are likelier early on
    labels = (draw.random(screened) < share * np.linspace(1.5, 0.1, screened)).astype(np.int64)
    assert stopping.ranked_p_value(labels, total, 0.95) == pytest.approx(
        brute_force_p(labels, total, 0.95), abs=1e-12
    )


def test_the_rule_does_not_stop_while_relevant_records_keep_coming() -> None:
    verdict = stopping.verdict([1, 0, 1, 1, 0, 1, 1, 1], total=1000)
    assert not verdict.stop
    assert verdict.relevant_found == 6
    assert verdict.sentence.startswith("Keep screening:")


def test_the_rule_stops_after_a_long_run_of_irrelevant_records() -> None:
    labels = [1] * 20 + [0] * 800
    verdict = stopping.verdict(labels, total=1000)
    assert verdict.stop and verdict.p_value < 0.05
    assert verdict.sentence.startswith(
        "Stop: with 95 % confidence at least 95 % of relevant records have been found"
    )
    assert f"a random check of {verdict.random_check:,} more records" in verdict.sentence


def test_a_shorter_run_of_irrelevant_records_is_not_yet_enough() -> None:
    assert not stopping.verdict([1] * 20 + [0] * 600, total=1000).stop


def test_screening_every_record_always_stops() -> None:
    verdict = stopping.verdict([1, 0, 1], total=3)
    assert verdict.stop and verdict.random_check == 0
    assert verdict.sentence == "Done: all 3 records have been screened."


def test_nothing_screened_does_not_stop() -> None:
    verdict = stopping.verdict([], total=10)
    assert not verdict.stop and verdict.p_value == 1.0


@pytest.mark.parametrize(("remaining", "found"), [(100, 0), (1000, 16), (5000, 41), (200, 146)])
def test_the_random_check_is_the_smallest_sample_that_would_reject(
    remaining: int, found: int
) -> None:
    rule = StoppingRule()
    size = stopping.random_check_size(remaining, found, rule)
    least = stopping.least_relevant_left(found, rule.target_recall)
    assert hypergeom.pmf(0, remaining, least, size) < rule.alpha
    assert hypergeom.pmf(0, remaining, least, size - 1) >= rule.alpha - 1e-12


def test_a_random_check_passes_a_library_below_the_target_at_most_alpha_of_the_time() -> None:
    """The assumption-free guarantee, by simulation: 40 relevant found, 5 still hidden among
    3,000 (recall 0.89 < 0.95); a random check of the size asked for must rarely pass."""
    rule, remaining, found, hidden = StoppingRule(), 3000, 40, 5
    size = stopping.random_check_size(remaining, found, rule)
    pool = np.zeros(remaining, dtype=np.int64)
    pool[:hidden] = 1
    draw = np.random.default_rng(0)
    passed = 0
    for _ in range(2000):
        sample = draw.choice(pool, size=size, replace=False)
        p = stopping.random_check_p_value(
            remaining=remaining,
            found_before=found,
            checked=size,
            relevant_in_check=int(sample.sum()),
            target_recall=rule.target_recall,
        )
        passed += p < rule.alpha
    assert passed / 2000 <= rule.alpha + 0.01


def test_the_verdict_survives_a_json_round_trip() -> None:
    verdict = stopping.verdict([1, 1, 0, 0, 0], total=50)
    assert StoppingVerdict.from_json(verdict.to_json()) == verdict


@pytest.mark.parametrize(("target", "confidence"), [(1.5, 0.95), (0.95, 0.0), (0.0, 0.5)])
def test_a_rule_outside_zero_and_one_is_refused_in_plain_words(
    target: float, confidence: float
) -> None:
    with pytest.raises(RankingError, match="strictly between 0 and 1") as caught:
        StoppingRule(target_recall=target, confidence=confidence)
    assert "--" not in str(caught.value)


def test_more_screened_than_the_total_is_refused() -> None:
    with pytest.raises(RankingError, match="the total must count every record"):
        stopping.verdict([0, 1, 0], total=2)
