"""Agreement between two screeners: counts, percent agreement and Cohen's kappa.

Kappa corrects raw agreement for the agreement two reviewers would reach by chance, given how
often each uses each decision: ``kappa = (p_observed - p_chance) / (1 - p_chance)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from tracker.screening import check_stage, latest_decisions, live_events
from tracker.store import Store


@dataclass(frozen=True, slots=True)
class Agreement:
    """How two reviewers compare on the records both decided at one stage."""

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
    """Cohen's kappa for two raters' paired labels; None when it is undefined (no variety)."""
    if len(first) != len(second):
        raise ValueError("the two raters must label the same items")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    count_a, count_b = Counter(first), Counter(second)
    chance = sum(count_a[k] * count_b[k] for k in count_a.keys() | count_b.keys()) / n**2
    if chance == 1.0:
        return None
    return (observed - chance) / (1.0 - chance)


def agreement(store: Store, stage: str) -> list[Agreement]:
    """One Agreement per pair of reviewers who both decided some records at ``stage``."""
    where = check_stage(stage)
    latest = latest_decisions(live_events(store.events()))
    latest = latest[latest["stage"] == where]
    wide = latest.pivot_table(index="pmid", columns="reviewer", values="value", aggfunc="last")
    results = []
    for a, b in combinations(sorted(wide.columns), 2):
        pair = wide[[a, b]].dropna()
        first, second = pair[a].tolist(), pair[b].tolist()
        table = Counter(zip(first, second, strict=True))
        results.append(
            Agreement(
                where,
                (a, b),
                len(pair),
                sum(x == y for x, y in zip(first, second, strict=True)),
                cohen_kappa(first, second),
                dict(table),
            )
        )
    return results


def agreement_frame(results: Sequence[Agreement]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "stage": r.stage,
                "reviewer_a": r.reviewers[0],
                "reviewer_b": r.reviewers[1],
                "both_decided": r.both_decided,
                "agreed": r.agreed,
                "percent": r.percent,
                "kappa": r.kappa,
            }
            for r in results
        ]
    )
