"""Replay a fully labelled dataset as if a reviewer screened it in the tracker's order.

Each run starts, as ASReview's simulations do, from one relevant and one irrelevant record
drawn at random for its seed, then screens the most likely relevant record next and retrains
after every decision, as the app would. Ties go to the earlier row of the dataset, and every
random draw comes from a generator seeded by the run's seed, so a run is reproducible to
the byte (liblinear is single-threaded and seeded; no other source of chance is used).

Once the last relevant record is found the run stops retraining and lists the rest in the
last model's order: they are all irrelevant, so the recall curve, every metric and the
stopping rule's verdicts (which depend only on the sequence of labels) are exactly what
retraining to the end would give, at a fraction of the time.

The stopping rule (:mod:`tracker.stopping`) is consulted after every decision; within a run of
irrelevant records its p-value can only fall, which lets :func:`stop_point` find the first
decision where it says stop without testing each one. Where it stops, the random check of the
assumption-free variant is also drawn (seeded) and its outcome reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracker import relevance, stopping
from tracker.labelled_dataset import LabelledDataset
from tracker.relevance import Features, ModelSettings
from tracker.stopping import StoppingRule

StepCallback = Callable[[int, int], None]
"""Called with (relevant found, relevant in total) after each decision while learning."""


@dataclass(frozen=True, slots=True)
class RandomCheck:
    """The random check drawn where the ranked rule stopped, and what it found."""

    size: int
    relevant_found: int
    passed: bool
    screened: int
    recall: float


@dataclass(frozen=True, slots=True)
class SimulationRun:
    """One seed's replay: the screening order (row numbers) and what it achieved."""

    seed: int
    order: npt.NDArray[np.int64]
    labels: npt.NDArray[np.int64]
    """The labels in screening order."""
    wss95: float
    recall_at_10: float
    recall_at_25: float
    screened_to_95: int
    stopped_at: int | None
    recall_at_stop: float | None
    random_check: RandomCheck | None

    def summary(self) -> dict[str, object]:
        """The run's entry in summary.json (fractions 0–1, counts of records)."""
        check = self.random_check
        return {
            "seed": self.seed,
            "wss95": round(self.wss95, 6),
            "recall_at_10": round(self.recall_at_10, 6),
            "recall_at_25": round(self.recall_at_25, 6),
            "screened_to_95": self.screened_to_95,
            "stopped_at": self.stopped_at,
            "recall_at_stop": None
            if self.recall_at_stop is None
            else round(self.recall_at_stop, 6),
            "random_check": None
            if check is None
            else {
                "size": check.size,
                "relevant_found": check.relevant_found,
                "passed": check.passed,
                "stopped_at": check.screened,
                "recall_at_stop": round(check.recall, 6),
            },
        }


def simulate(
    dataset: LabelledDataset,
    *,
    seed: int,
    rule: StoppingRule | None = None,
    settings: ModelSettings | None = None,
    features: Features | None = None,
    on_step: StepCallback | None = None,
) -> SimulationRun:
    """Replay ``dataset`` for one seed; ``features`` may be built once and shared by seeds."""
    rule = rule or StoppingRule()
    settings = settings or ModelSettings()
    features = features or relevance.build_features(dataset.records, settings)
    order = screening_order_of(dataset.labels, features, seed, settings, on_step)
    labels = dataset.labels[order]
    stopped = stop_point(labels, rule)
    return SimulationRun(
        seed=seed,
        order=order,
        labels=labels,
        wss95=wss(labels, 0.95),
        recall_at_10=recall_after(labels, 0.10),
        recall_at_25=recall_after(labels, 0.25),
        screened_to_95=screened_to(labels, 0.95),
        stopped_at=stopped,
        recall_at_stop=None if stopped is None else recall_at(labels, stopped),
        random_check=None if stopped is None else _random_check(labels, stopped, rule, seed),
    )


def priors(labels: npt.NDArray[np.int64], seed: int) -> tuple[int, int]:
    """One random relevant and one random irrelevant row, the same for every tool given a seed."""
    draw = np.random.default_rng(seed)
    relevant = int(draw.choice(np.flatnonzero(labels == 1)))
    irrelevant = int(draw.choice(np.flatnonzero(labels == 0)))
    return relevant, irrelevant


def screening_order_of(
    labels: npt.NDArray[np.int64],
    features: Features,
    seed: int,
    settings: ModelSettings,
    on_step: StepCallback | None = None,
) -> npt.NDArray[np.int64]:
    """Every row, in the order the tracker would show them: priors, then highest score next."""
    total, relevant = len(labels), int(labels.sum())
    screened = np.zeros(total, dtype=bool)
    order = list(priors(labels, seed))
    screened[order] = True
    found = int(labels[order].sum())
    scores = np.zeros(total)
    while found < relevant:
        rows = np.asarray(order, dtype=np.intp)
        targets = np.flatnonzero(~screened)
        scores = np.full(total, -np.inf)
        scores[targets] = relevance.fit_scores(
            features, rows, labels[rows].astype(np.float64), targets, settings
        )
        best = int(np.argmax(scores))  # the first of equal scores: the earlier row
        order.append(best)
        screened[best] = True
        found += int(labels[best])
        if on_step is not None:
            on_step(found, relevant)
    rest = np.flatnonzero(~screened)
    rest = rest[np.lexsort((rest, -scores[rest]))]
    return np.concatenate([np.asarray(order, dtype=np.int64), rest.astype(np.int64)])


def stop_point(labels: npt.NDArray[np.int64], rule: StoppingRule) -> int | None:
    """Records screened when the rule first says stop, None if only at the very end.

    Between two relevant records the p-value can only fall, so each such stretch is tested at
    its end and, if the rule stops inside it, searched by bisection.
    """
    total = len(labels)
    relevant_at = np.flatnonzero(labels)
    ends = [*(relevant_at.tolist()), total - 1]
    start = 1
    for end in ends:
        last = end if end >= start else start  # prefixes start..last hold no new relevant
        if last >= total:
            break
        if _stops(labels, last, rule):
            while start < last:
                middle = (start + last) // 2
                start, last = (
                    (start, middle) if _stops(labels, middle, rule) else (middle + 1, last)
                )
            return start
        start = end + 1
    return None


def _stops(labels: npt.NDArray[np.int64], screened: int, rule: StoppingRule) -> bool:
    return screened < len(labels) and stopping.verdict(labels[:screened], len(labels), rule).stop


def _random_check(
    labels: npt.NDArray[np.int64], stopped: int, rule: StoppingRule, seed: int
) -> RandomCheck:
    """Draw the assumption-free variant's random check from the records left at ``stopped``."""
    remaining = labels[stopped:]
    found = int(labels[:stopped].sum())
    size = stopping.random_check_size(len(remaining), found, rule)
    drawn = np.random.default_rng([seed, 1]).choice(len(remaining), size=size, replace=False)
    in_check = int(remaining[drawn].sum())
    p = stopping.random_check_p_value(
        remaining=len(remaining),
        found_before=found,
        checked=size,
        relevant_in_check=in_check,
        target_recall=rule.target_recall,
    )
    recall = (found + in_check) / int(labels.sum())
    return RandomCheck(size, in_check, p < rule.alpha, stopped + size, recall)


# -- metrics, from the labels in screening order ------------------------------------------------


def screened_to(labels: npt.NDArray[np.int64], recall: float) -> int:
    """Records screened until at least ``recall`` of the relevant records were found."""
    needed = math.ceil(round(recall * int(labels.sum()), 9))
    return int(np.searchsorted(np.cumsum(labels), needed) + 1)


def wss(labels: npt.NDArray[np.int64], recall: float) -> float:
    """Work saved over sampling at ``recall``: the share left unscreened, minus 1 − recall."""
    total = len(labels)
    return (total - screened_to(labels, recall)) / total - (1.0 - recall)


def recall_after(labels: npt.NDArray[np.int64], share: float) -> float:
    """Recall after screening ``share`` of the records (rounded up to a whole record)."""
    return recall_at(labels, math.ceil(round(share * len(labels), 9)))


def recall_at(labels: npt.NDArray[np.int64], screened: int) -> float:
    return float(labels[:screened].sum()) / float(labels.sum())
