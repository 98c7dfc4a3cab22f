"""A learned second opinion on a record's design, fitted to the hand labels of issue #17.

Three rounds of hand-written design cues fitted the records they were written from far better
than new ones (precision 0.972 on those, 0.911 held out): each new cue fixed one record. A
linear model over the words of title and abstract (:mod:`tracker.design_words`), one per
frequent design, fitted to the same labels and chosen by cross-validation
(bench/design_cv.py), sees every word at once. It is used as a second opinion, never alone:

- **veto**: a design the text cues gave is dropped when the model finds it very unlikely for
  this record (probability below the value's ``veto_below``) and favours a design the cues did
  not give (at least ``rival_from``): the cue fired on words the record only mentions, which
  the cues' ``unless`` lists could not foresee. Without a rival the cues stand: a short abstract
  gives the model too few words to doubt "in this randomised, open-label, crossover trial";
- **addition**: a record that ends with no design at all gets the model's most probable one when
  the model is confident (at least the value's ``add_from``), with the words that weighed most
  as its evidence ("learned: p=0.93; words: randomly, placebo").

A design from publication types or MeSH is neither vetoed nor added to: indexing is the
publisher's own statement and keeps its precedence. Rare designs (guideline, case report,
protocol, ...) have too few labels to learn from and stay with the cues.

What it buys, measured where the cues' errors are honest (bench/design_cv.py; thresholds
chosen on one honest set, scored on the other): design precision 0.917 to 0.945 and coverage
0.750 to 0.775 on the fourth batch's tuning records, precision 0.889 to 0.899 and coverage 0.799
to 0.787 on the proxy (the cues of round two on the third batch). Small, because a bag of words
cannot tell "patients were randomised" from "the randomised trials we reviewed" much better
than the cues do; vetoes without a rival bought more precision (0.969, 0.919) for a loss of
coverage both ways (0.700, 0.753). ``DesignModel.empty()`` turns the opinion off.

The parameters are data, tracker/learned/design.json, written by
scripts/train_design_model.py (the test suite checks that the shipped file is what the script
produces). Scoring is a sparse dot product over Arrow arrays; scikit-learn is needed only to
train.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tracker.design_words import TITLE, known_terms, record_terms

PACKAGED = Path(__file__).resolve().parent / "learned" / "design.json"
EVIDENCE_WORDS = 3
"""How many of the words that weighed most an addition's evidence names."""


@dataclass(frozen=True)
class DesignModel:
    """One logistic model per design value over the same terms, and how the tagger uses it.

    ``weights`` has a row per term and a column per value; ``veto_below`` and ``add_from`` are
    per value (a value missing from them, or whose ``add_from`` is infinite, null in the file,
    is never vetoed or added)."""

    values: tuple[str, ...]
    terms: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray
    veto_below: Mapping[str, float]
    add_from: Mapping[str, float]
    rival_from: float = math.inf
    """A veto needs a rival: a value the cues did not give with at least this probability."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DesignModel:
        """The model as stored: per value its bias, thresholds and non-zero weights."""
        models: Mapping[str, Any] = data["values"]
        values = tuple(models)
        terms = tuple(sorted({term for m in models.values() for term in m["weights"]}))
        index = {term: i for i, term in enumerate(terms)}
        weights = np.zeros((len(terms), len(values)))
        for column, value in enumerate(values):
            for term, weight in models[value]["weights"].items():
                weights[index[term], column] = weight
        return cls(
            values=values,
            terms=terms,
            weights=weights,
            bias=np.array([float(models[v]["bias"]) for v in values]),
            veto_below={v: float(models[v]["veto_below"]) for v in values},
            add_from={
                v: math.inf if models[v]["add_from"] is None else float(models[v]["add_from"])
                for v in values
            },
            rival_from=float(data["rival_from"]),
        )

    @classmethod
    def empty(cls) -> DesignModel:
        """No second opinion: the cues alone decide (for comparing with and without)."""
        return cls((), (), np.zeros((0, 0)), np.zeros(0), {}, {})

    def probabilities(self, titles: pa.Array, abstracts: pa.Array) -> np.ndarray:
        """Per record (rows) and value (columns): the probability that it is of that design."""
        size = len(titles)
        if not self.values:
            return np.zeros((size, 0))
        found = known_terms(titles, abstracts, self.terms)
        rows, columns = found.rows, found.terms.to_numpy()
        scores = np.tile(self.bias, (size, 1))
        for column in range(len(self.values)):
            scores[:, column] += np.bincount(
                rows, weights=self.weights[columns, column], minlength=size
            )
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-scores))
        return probabilities

    def explain(self, title: str, abstract: str, value: str, probability: float) -> str:
        """An addition's evidence: the probability and the record's words that weighed most
        for the value."""
        found = record_terms(pa.array([title], pa.string()), pa.array([abstract], pa.string()))
        column = self.values.index(value)
        lookup = {term: i for i, term in enumerate(self.terms)}
        weighed = [
            (self.weights[lookup[t], column], t) for t in found.terms.to_pylist() if t in lookup
        ]
        top = [term for weight, term in sorted(weighed, reverse=True) if weight > 0]
        words = ", ".join(_readable(t) for t in top[:EVIDENCE_WORDS]) or "none"
        return f"learned: p={_floor(probability)}; words: {words}"


def _readable(term: str) -> str:
    return f"{term[len(TITLE) :]} (title)" if term.startswith(TITLE) else term


def _floor(probability: float) -> str:
    """Two decimals, rounded down, so that a shown p is never above the true one."""
    return f"{math.floor(probability * 100) / 100:.2f}"


@cache
def packaged() -> DesignModel:
    """The model shipped with the tracker, read on first use."""
    return DesignModel.from_json(json.loads(PACKAGED.read_text(encoding="utf-8")))


def rivals(model: DesignModel, probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Per record: does the model favour a design the cues did not give (``given``: records x
    values), at least at ``rival_from``? Only then may it veto one they gave."""
    if not model.values:
        return np.zeros(len(probabilities), dtype=bool)
    others = np.where(given, -1.0, probabilities)
    return np.asarray(others.max(axis=1) >= model.rival_from, dtype=bool)


def vetoed(
    model: DesignModel, value: str, probabilities: np.ndarray, rivalled: np.ndarray
) -> np.ndarray:
    """Which of the given records' probabilities (a column of :meth:`probabilities`) make the
    value too unlikely to keep a cue's tag, where a rival (:func:`rivals`) stands."""
    threshold = model.veto_below.get(value)
    if threshold is None or value not in model.values:
        return np.zeros(len(probabilities), dtype=bool)
    return np.asarray((probabilities < threshold) & rivalled, dtype=bool)


def additions(
    model: DesignModel, probabilities: np.ndarray, settled: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """For the records not ``settled`` (no design from any source): the value to add, where
    the model's most probable value reaches its ``add_from``. Returned per value with its
    rows."""
    if not model.values:
        return []
    thresholds = np.array([model.add_from.get(v, math.inf) for v in model.values])
    confident = np.where(probabilities >= thresholds, probabilities, -1.0)
    best = np.argmax(confident, axis=1)
    chosen = (confident.max(axis=1) >= 0) & ~settled
    return [
        (value, np.flatnonzero(chosen & (best == column)))
        for column, value in enumerate(model.values)
        if np.any(chosen & (best == column))
    ]


def stored(
    values: Sequence[str],
    terms: Sequence[str],
    weights: np.ndarray,
    bias: Sequence[float],
    veto_below: Mapping[str, float],
    add_from: Mapping[str, float | None],
    rival_from: float,
    about: Mapping[str, Any],
) -> str:
    """The JSON text of a model: non-zero weights only, rounded, in a fixed order, so that the
    same fit always writes the same bytes."""
    models: dict[str, Any] = {}
    for column, value in enumerate(values):
        kept = {
            term: round(float(weights[row, column]), 4)
            for row, term in enumerate(terms)
            if round(float(weights[row, column]), 4) != 0
        }
        models[value] = {
            "bias": round(float(bias[column]), 4),
            "veto_below": veto_below[value],
            "add_from": add_from[value],
            "weights": dict(sorted(kept.items())),
        }
    text = {"about": about, "rival_from": rival_from, "values": models}
    return json.dumps(text, indent=1, ensure_ascii=False) + "\n"
