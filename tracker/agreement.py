"""Agreement between two screeners: counts, percent agreement and Cohen's kappa.

Kappa corrects raw agreement for the agreement two reviewers would reach by chance, given how
often each uses each decision: ``kappa = (p_observed - p_chance) / (1 - p_chance)``, where
``p_chance = sum over decisions d of (share of A's labels that are d) x (share of B's)``.

Pure arithmetic on paired labels; :func:`tracker.screening.agreement` pairs them from the log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from tracker.errors import ScreeningError


@dataclass(frozen=True, slots=True)
class Agreement:
    """How two reviewers compare on the records both decided at one stage.

    ``table`` counts each (A's decision, B's decision) combination: the confusion matrix.
    """

    stage: str
    reviewers: tuple[str, str]
    both_decided: int
    agreed: int
    kappa: float | None
    table: dict[tuple[str, str], int]

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agreed / self.both_decided if self.both_decided else None


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa for two raters' paired labels; None when it is undefined.

    Undefined means no items, or both raters gave one and the same label to everything (chance
    agreement is then 1 and the ratio is 0/0).
    """
    if len(first) != len(second):
        raise ScreeningError(
            f"Kappa needs paired labels: got {len(first)} and {len(second)}. Pass the two "
            "reviewers' decisions on the same records, in the same order."
        )
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    count_a, count_b = Counter(first), Counter(second)
    chance = sum(count_a[k] * count_b[k] for k in count_a.keys() & count_b.keys()) / n**2
    if chance == 1.0:
        return None
    return (observed - chance) / (1.0 - chance)


def compare(
    stage: str, reviewers: tuple[str, str], first: Sequence[str], second: Sequence[str]
) -> Agreement:
    """The Agreement of two reviewers from their paired decisions."""
    pairs = list(zip(first, second, strict=True))
    return Agreement(
        stage=stage,
        reviewers=reviewers,
        both_decided=len(pairs),
        agreed=sum(a == b for a, b in pairs),
        kappa=cohen_kappa(first, second),
        table=dict(sorted(Counter(pairs).items())),
    )


def agreement_frame(results: Sequence[Agreement]) -> pd.DataFrame:
    """One row per pair of reviewers, for tables and JSON."""
    columns = ["stage", "reviewer_a", "reviewer_b", "both_decided", "agreed", "percent", "kappa"]
    rows = [(r.stage, *r.reviewers, r.both_decided, r.agreed, r.percent, r.kappa) for r in results]
    return pd.DataFrame(rows, columns=columns)
