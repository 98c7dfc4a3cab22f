"""Train the learned second opinion on adverse effects: tracker/learned/adverse_effects.json.

    .venv/bin/python scripts/train_effect_model.py [--check]

Reads the hand labels (tests/expected/tagging_real_labels.json) of the FITTED SIDE only (every
record of the main draw and of the adverse-effect set but the held-out ones,
real_abstracts.held_out), their text in place from ../shared/screening-datasets, and fits a
logistic regression over every mention of an adverse effect in them (tracker.effect_mentions):
a mention is positive when the record's labels hold its effect. Held-out records are never
read. The result is written as JSON (non-zero weights, four
decimals), byte for byte the same on every run; ``--check`` compares instead of writing.

The threshold and the regularisation were chosen by cross-validation on the 500 tuning records
labelled before issue #17's fourth round (bench/effects_cv.py), by a rule written down first:
the highest precision that costs at most 0.03 of recall, both over the rules as they stand and
over the rules of f34a8e0 on the records those had never seen. That gave C = 1.0 and 0.4; the
fourth batch's 180 tuning records, labelled afterwards, then checked it (rules alone 50/67,
with the veto 50/61), and are part of the final fit.

The threshold was then raised to 0.7, before any held-out set was scored with the veto: the
issue asks for precision (0.95) and only reports recall, and 0.4 reached 0.91 on the honest
checks. 0.7 is the lowest threshold whose precision reached 0.95 on the one of them with
enough suggestions (the rules of f34a8e0 on the 340 tuning records they never saw: 0.958,
recall 0.749; on the fourth batch's tuning records 0.920, recall 0.730), at the cost of about
0.06 of recall (bench/effects_cv.py --newest --old-rules).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from real_abstracts import EFFECTS_FIRST, FOURTH_FROM, held_out, screening_dir  # noqa: E402
from tagging_accuracy import drawn_records, effect_records  # noqa: E402

from tracker.effect_mentions import Mention, effect_cues, mentions  # noqa: E402
from tracker.effect_model import MODEL_PATH  # noqa: E402
from tracker.tagging import default_vocabulary  # noqa: E402

C = 1.0
"""Inverse regularisation strength, chosen by cross-validation."""
THRESHOLD = 0.7
"""A suggestion stands when one of its mentions scores at least this."""
MIN_COUNT = 3
"""A feature must describe this many training mentions to get a weight."""


@dataclass(frozen=True)
class Tuned:
    """One tuning record: its text, its labelled effects, and where it came from."""

    key: str
    title: str
    abstract: str
    effects: frozenset[str]
    newest: bool
    """Drawn in the fourth batch (labelled after the rules and the model were built)."""
    place: int = 0
    effect_set: bool = False


def tuning_records(*, newest: bool = True) -> list[Tuned]:
    """The fitted-side records of the main draw and of the adverse-effect set, draw order; the
    fourth batch's only with ``newest``."""
    folder = screening_dir()
    found = []
    for drawn, labelled in drawn_records(folder):
        if not held_out(drawn):
            found.append((labelled, drawn.place >= FOURTH_FROM, drawn.place, False))
    for drawn, labelled in effect_records(folder):
        if not held_out(drawn, effects=True):
            found.append((labelled, drawn.place >= EFFECTS_FIRST, drawn.place, True))
    return [
        Tuned(r.id, r.title, r.abstract, frozenset(r.labels["adverse_effects"]), new, place, kind)
        for r, new, place, kind in found
        if newest or not new
    ]


def record_mentions(records: Sequence[Tuned]) -> list[list[Mention]]:
    """Every mention of every effect, per record."""
    cues = effect_cues(default_vocabulary())
    return [mentions(cues, r.title, r.abstract) for r in records]


@dataclass(frozen=True)
class Fitted:
    """A fitted model: weights per feature and the intercept."""

    weights: dict[str, float]
    bias: float

    def probability(self, features: Iterable[str]) -> float:
        return probability(self.weights, self.bias, features)


def fit(found: Sequence[Sequence[Mention]], records: Sequence[Tuned], c: float = C) -> Fitted:
    """Weights per feature and the intercept, from the mentions of ``records``."""
    rows = [
        (m.features, m.value in r.effects) for ms, r in zip(found, records, strict=True) for m in ms
    ]
    counts = Counter(f for features, _ in rows for f in features)
    names = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
    index = {name: i for i, name in enumerate(names)}
    matrix = _matrix([features for features, _ in rows], index)
    labels = np.array([label for _, label in rows], dtype=int)
    model = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    model.fit(matrix, labels)
    weights = {
        name: float(w) for name, w in zip(names, model.coef_[0], strict=True) if abs(w) >= 5e-4
    }
    return Fitted(weights, float(model.intercept_[0]))


def probability(weights: dict[str, float], bias: float, features: Iterable[str]) -> float:
    score = bias + sum(weights.get(f, 0.0) for f in features)
    return 1 / (1 + math.exp(-score))


def _matrix(rows: Sequence[frozenset[str]], index: dict[str, int]) -> csr_matrix:
    cols, ptr = [], [0]
    for features in rows:
        cols += sorted(index[f] for f in features if f in index)
        ptr.append(len(cols))
    data = np.ones(len(cols))
    return csr_matrix(
        (data, np.array(cols, dtype=int), np.array(ptr)), shape=(len(rows), len(index))
    )


def document(fitted: Fitted, records: int, found: int) -> dict[str, Any]:
    return {
        "about": (
            "Learned second opinion on adverse-effect suggestions (tracker/effect_model.py): a "
            "logistic regression over every mention of an effect in the fitted-side records' title "
            "and abstract. Regenerate with scripts/train_effect_model.py; do not edit."
        ),
        "trained_on": {"records": records, "mentions": found, "C": C, "min_count": MIN_COUNT},
        "threshold": THRESHOLD,
        "bias": round(fitted.bias, 4),
        "weights": {name: round(w, 4) for name, w in sorted(fitted.weights.items()) if round(w, 4)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args()
    records = tuning_records()
    found = record_mentions(records)
    fitted = fit(found, records)
    text = json.dumps(document(fitted, len(records), sum(map(len, found))), indent=1)
    text += "\n"
    if args.check:
        same = MODEL_PATH.read_text(encoding="utf-8") == text
        print("the shipped model is what this script produces" if same else "DIFFERENT")
        raise SystemExit(0 if same else 1)
    MODEL_PATH.parent.mkdir(exist_ok=True)
    MODEL_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL_PATH} ({len(fitted.weights)} weights, {len(records)} records)")


if __name__ == "__main__":
    main()
