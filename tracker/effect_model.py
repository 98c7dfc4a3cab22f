"""The learned second opinion on adverse-effect suggestions: a veto over the rules.

The hand-written rules of :mod:`tracker.effect_context` were written from the records they
were tuned on and miss, on new records, the mentions they were not written for: a condition's
symptom named without "patients with", an effect credited to the comparator in other words, a
background sentence. A logistic regression trained on every mention of an effect in the hand-
labelled tuning records (scripts/train_effect_model.py; its features in
:mod:`tracker.effect_mentions`) gives each mention a probability that the record reports the
effect as occurring with the intervention. A suggestion the rules make stands only when one of
its effect's mentions in the record scores at least the threshold; the rules' span stays its
evidence. Cross-validation on the tuning records chose this use (bench/effects_cv.py): a veto
over the rules, not a model alone.

Scoring needs no scikit-learn: the weights are a JSON file of feature -> weight
(tracker/learned/adverse_effects.json), and a mention's score is the sum of its features'
weights, through the logistic function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tracker.effect_mentions import EffectCues, mentions

MODEL_PATH = Path(__file__).resolve().parent / "learned" / "adverse_effects.json"


@dataclass(frozen=True)
class EffectModel:
    """Weights per feature name, the intercept, and the threshold a suggestion must reach."""

    weights: dict[str, float]
    bias: float
    threshold: float

    def probability(self, features: Iterable[str]) -> float:
        """The chance that a mention with these features is an effect the record reports."""
        score = self.bias + sum(self.weights.get(f, 0.0) for f in features)
        return 1.0 / (1.0 + math.exp(-score))

    @classmethod
    def of(cls, document: dict[str, Any]) -> EffectModel:
        return cls(
            {str(k): float(v) for k, v in document["weights"].items()},
            float(document["bias"]),
            float(document["threshold"]),
        )


@cache
def packaged_model() -> EffectModel:
    """The shipped model, read on first use. It is package data: without it the install is
    broken, and tags silently made without it would differ from the measured ones, so a
    missing file raises."""
    return EffectModel.of(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


def doubted(
    model: EffectModel,
    cues: EffectCues,
    suggested: Mapping[int, Sequence[str]],
    texts: Mapping[int, tuple[str, str]],
) -> dict[int, set[str]]:
    """Per record row, the suggested effects the model vetoes: none of their mentions in the
    record scores ``model.threshold``. An effect none of whose mentions Python's ``re`` finds
    (it cannot happen with the packaged cues) is not vetoed: there is nothing to weigh."""
    vetoed: dict[int, set[str]] = {}
    for row, values in suggested.items():
        title, abstract = texts[row]
        found = mentions(cues, title, abstract, values)
        best: dict[str, float] = {}
        for mention in found:
            p = model.probability(mention.features)
            best[mention.value] = max(p, best.get(mention.value, 0.0))
        low = {v for v in values if v in best and best[v] < model.threshold}
        if low:
            vetoed[row] = low
    return vetoed
