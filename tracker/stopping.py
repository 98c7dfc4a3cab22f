"""When may screening stop? A rule with a stated guarantee, after Callaghan & Müller-Hansen.

Callaghan M.W. & Müller-Hansen F. (2020), *Statistical stopping criteria for automated
screening in systematic reviews*, Systematic Reviews 9:273. The question "have we found at
least ``target_recall`` of the relevant records?" becomes a hypothesis test:

    H0: recall < target_recall, i.e. the library holds more than found / target relevant records.

**The ranked-screening test** (the verdict's ``stop``). The records screened since some point
are treated as a sample drawn from the records that were still unscreened at that point. If
H0 were true, that pool held at least ``K = floor(found / target − found before the point) + 1``
relevant records, and the chance of seeing as few relevant ones as were seen in the sample is
the hypergeometric probability ``P(X ≤ k)``, X ~ Hypergeometric(pool, K, sample size). Every
possible starting point gives a p-value; the smallest counts, and the rule says *stop* when it
is below ``1 − confidence``. The guarantee: if the ranking finds relevant records at least as
fast as random screening would (bias ≥ 1, which a useful model does), the chance of stopping
with recall below the target is at most ``1 − confidence``. Because the screened records were
ranked and not drawn at random, the test is conservative in practice.

**The random check** (the verdict's ``random_check``): the number of records, drawn at random
from the unscreened ones, that must *all* turn out irrelevant to reject H0 with no assumption
about the ranking at all. It is the textbook hypergeometric test on a simple random sample,
and the price of its stronger guarantee: small reviews (few relevant records) need large
checks. :func:`random_check_p_value` tests the outcome of such a check.

Only the starting points just after a relevant record (and the very first record) need testing:
moving the start one irrelevant record earlier adds a record to both the sample and the pool
without adding a relevant one, which can only lower the p-value (tested against every start).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import hypergeom

from tracker.errors import RankingError


@dataclass(frozen=True, slots=True)
class StoppingRule:
    """The recall to guarantee and the confidence of the guarantee (both 0–1)."""

    target_recall: float = 0.95
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for name, value in (("target recall", self.target_recall), ("confidence", self.confidence)):
            if not 0.0 < value < 1.0:
                raise RankingError(
                    f"The {name} must lie strictly between 0 and 1 (got {value:g}): "
                    "give a fraction such as 0.95."
                )

    @property
    def alpha(self) -> float:
        """The accepted chance of stopping too early."""
        return round(1.0 - self.confidence, 12)  # 1 − 0.95 is 0.0500000000000000444


@dataclass(frozen=True, slots=True)
class StoppingVerdict:
    """What the rule says now, with every input a report needs to restate it."""

    target_recall: float
    confidence: float
    total: int
    screened: int
    relevant_found: int
    p_value: float
    stop: bool
    random_check: int

    @property
    def sentence(self) -> str:
        """The verdict in plain words, as the app and the CLI show it."""
        return plain_words(self)

    def to_json(self) -> str:
        """The inputs and verdict as one line of JSON (kept in the event log)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StoppingVerdict:
        data: dict[str, Any] = json.loads(text)
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def verdict(
    labels: Sequence[int] | np.ndarray, total: int, rule: StoppingRule | None = None
) -> StoppingVerdict:
    """The rule's verdict after screening ``labels`` (1 relevant, 0 not) in this order.

    ``total`` is the number of records in the library at this stage, screened or not.
    """
    rule = rule or StoppingRule()
    seen = np.asarray(labels, dtype=np.int64)
    if len(seen) > total:
        raise RankingError(
            f"{len(seen)} records screened out of {total}: the total must count every record."
        )
    found = int(seen.sum())
    p = ranked_p_value(seen, total, rule.target_recall)
    remaining = total - len(seen)
    return StoppingVerdict(
        target_recall=rule.target_recall,
        confidence=rule.confidence,
        total=total,
        screened=len(seen),
        relevant_found=found,
        p_value=p,
        stop=remaining == 0 or (len(seen) > 0 and p < rule.alpha),
        random_check=random_check_size(remaining, found, rule),
    )


def ranked_p_value(labels: np.ndarray, total: int, target_recall: float) -> float:
    """The smallest p-value of H0 over the starting points of the ranked-screening test."""
    n = len(labels)
    if n == 0:
        return 1.0
    if n == total:
        return 0.0
    found = int(labels.sum())
    starts = np.concatenate(([0], np.flatnonzero(labels) + 1))
    starts = starts[starts < n]
    before = np.cumsum(np.concatenate(([0], labels)))[starts]
    sample = n - starts
    in_sample = found - before
    pool = total - starts
    least = np.floor(found / target_recall - before).astype(np.int64) + 1
    possible = least <= pool
    if not possible.all():
        # H0 asks for more relevant records than the pool holds: it cannot be true there.
        return 0.0
    p = hypergeom.cdf(in_sample, pool, least, sample)
    return float(np.clip(p.min(), 0.0, 1.0))


def least_relevant_left(found: int, target_recall: float) -> int:
    """Under H0, the fewest relevant records still unscreened: floor(found / target − found) + 1."""
    return math.floor(found / target_recall - found) + 1


def random_check_size(remaining: int, found: int, rule: StoppingRule | None = None) -> int:
    """How many unscreened records, drawn at random and all irrelevant, would reject H0.

    0 when nothing is left to screen. When even checking every remaining record could not
    reject H0 (a tiny pool), the whole pool is the answer.
    """
    rule = rule or StoppingRule()
    if remaining <= 0:
        return 0
    least = least_relevant_left(found, rule.target_recall)
    if least > remaining:
        return 0
    low, high = 1, remaining
    while low < high:
        middle = (low + high) // 2
        if _none_found(remaining, least, middle) < rule.alpha:
            high = middle
        else:
            low = middle + 1
    return low


def random_check_p_value(
    *, remaining: int, found_before: int, checked: int, relevant_in_check: int, target_recall: float
) -> float:
    """p-value of H0 after a random check of ``checked`` of the ``remaining`` records.

    H0 is stated on the recall reached after the check (found before plus found in it), so a
    check that turns up relevant records can still allow stopping, with a larger sample.
    """
    found = found_before + relevant_in_check
    least = math.floor(found / target_recall - found_before) + 1
    if least > remaining:
        return 0.0
    return float(hypergeom.cdf(relevant_in_check, remaining, least, checked))


def _none_found(pool: int, relevant: int, drawn: int) -> float:
    """P(a random sample of ``drawn`` from ``pool`` misses all ``relevant``), in log space."""
    if drawn > pool - relevant:
        return 0.0
    steps = np.arange(relevant, dtype=np.float64)
    return float(np.exp(np.sum(np.log1p(-drawn / (pool - steps)))))


def plain_words(v: StoppingVerdict) -> str:
    """ "Stop: with 95 % confidence at least 95 % of relevant records have been found (…)"."""
    claim = (
        f"with {v.confidence:.0%} confidence at least {v.target_recall:.0%} of relevant"
        " records have been found"
    ).replace("%", " %")
    if v.screened == v.total:
        return f"Done: all {v.total:,} records have been screened."
    if v.screened == 0:
        return "Keep screening: no record has been screened yet."
    check = f"a random check of {v.random_check:,} more records"
    if v.stop:
        return (
            f"Stop: {claim} (ranked-screening test, p = {v.p_value:.3f}; for a guarantee"
            f" that does not rely on the ranking, {check} first, all of them irrelevant)."
        )
    return (
        f"Keep screening: not yet shown {claim.replace('have been', 'were')} (p ="
        f" {v.p_value:.3f}; {v.relevant_found:,} relevant in {v.screened:,} of {v.total:,}"
        f" records screened). Stopping now would need {check}, all of them irrelevant."
    )
