"""Train the learned design model (tracker/learned/design.json) from the hand labels.

    .venv/bin/python scripts/train_design_model.py [--check]

The model is fitted to every record of the real draw's **fitted side** (tests/expected/
tagging_real_labels.json, all but real_abstracts.held_out; the abstracts are read in place from
../shared/screening-datasets, or TRACKER_SCREENING_DIR): held-out records are never read. One
L2-regularised logistic regression per frequent design (one value against the rest) over the
record's words and word pairs (tracker.design_words), terms seen in at least three records.
The regularisation, the terms and the thresholds by which the tagger uses the model were chosen
by cross-validation on the tuning records (bench/design_cv.py, which fits each fold with
:func:`fit` below); they are constants here, so that the script regenerates the shipped file
byte for byte. ``--check`` writes nothing and exits 1 when the shipped file differs from what
the script produces (tests/test_learned_design.py runs the same comparison).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from real_abstracts import held_out  # noqa: E402
from tagging_accuracy import Labelled, drawn_records  # noqa: E402

from tracker.design_words import record_terms  # noqa: E402
from tracker.learned_design import PACKAGED, stored  # noqa: E402

VALUES = (
    "RCT",
    "review",
    "cross-over",
    "clinical trial",
    "cohort",
    "open-label",
    "cross-sectional",
    "systematic review / meta-analysis",
)
"""The designs with at least 13 tuning labels; rarer ones are left to the cues."""
C = 10.0
"""Inverse regularisation strength, L2 (bench/design_cv.py compared C from 1 to 10, L1 and L2:
L1 picked the sharper words, but its vetoes carried over from one honest set to the other
worse than L2's)."""
MIN_RECORDS = 3
"""A term must occur in at least this many training records."""
SMALLEST = 0.05
"""Weights smaller than this are left out of the file (L2 keeps every term): 17,800 weights
instead of 57,000, and cross-validated no worse (bench/design_cv.py compared 0.01, 0.05, 0.1)."""
VETO_BELOW = {
    "RCT": 0.05,
    "review": 0.0,
    "cross-over": 0.02,
    "clinical trial": 0.02,
    "cohort": 0.02,
    "open-label": 0.0,
    "cross-sectional": 0.0,
    "systematic review / meta-analysis": 0.0,
}
"""A cue's design is dropped below this probability, when a rival stands (RIVAL_FROM)."""
ADD_FROM: dict[str, float | None] = {
    "RCT": 0.95,
    "review": 0.8,
    "cross-over": None,
    "clinical trial": 0.8,
    "cohort": None,
    "open-label": None,
    "cross-sectional": None,
    "systematic review / meta-analysis": None,
}
"""A record with no design gets the value from this probability; None: never."""
RIVAL_FROM = 0.7
"""A veto needs the model to favour a design the cues did not give, at least this probably.

All three chosen by bench/design_cv.py on the records where the cues' errors are honest: the
cues of f34a8e0 on the third batch's tuning records, and the current cues on the fourth batch's,
with out-of-fold probabilities. Chosen on either set alone and scored on the other: design
precision 0.917 to 0.945 and coverage 0.750 to 0.775 on the fourth batch, precision 0.889 to
0.899 and coverage 0.799 to 0.787 on the proxy. Vetoes without a rival (0.0 here) raised
precision more (to 0.969 and 0.919) but cost coverage both ways (to 0.700 and 0.753), and vetoed
short abstracts' own words ("In this randomised, open-label, crossover trial")."""


def tuning_records(folder: Path) -> list[Labelled]:
    """The real draw's fitted side with its labels, in draw order: every record but the
    held-out ones (real_abstracts.held_out), which are never read here."""
    return [labelled for drawn, labelled in drawn_records(folder) if not held_out(drawn)]


def fit(records: Sequence[Labelled]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The terms, weights (terms x :data:`VALUES`) and biases fitted to ``records``."""
    rows, terms = _terms(records)
    vocabulary, counts = np.unique(np.array(terms, dtype=object), return_counts=True)
    kept = sorted(str(t) for t, n in zip(vocabulary, counts, strict=True) if n >= MIN_RECORDS)
    index = {term: i for i, term in enumerate(kept)}
    pairs = [(r, index[t]) for r, t in zip(rows, terms, strict=True) if t in index]
    matrix = sparse.csr_matrix(
        (np.ones(len(pairs)), ([r for r, _ in pairs], [c for _, c in pairs])),
        shape=(len(records), len(kept)),
    )
    weights = np.zeros((len(kept), len(VALUES)))
    bias = np.zeros(len(VALUES))
    for column, value in enumerate(VALUES):
        target = np.array([value in r.labels["design"] for r in records], dtype=int)
        model = LogisticRegression(C=C, l1_ratio=0.0, solver="liblinear", random_state=0)
        model.fit(matrix, target)
        weights[:, column] = np.where(np.abs(model.coef_[0]) >= SMALLEST, model.coef_[0], 0.0)
        bias[column] = model.intercept_[0]
    return kept, weights, bias


def _terms(records: Sequence[Labelled]) -> tuple[list[int], list[str]]:
    found = record_terms(
        pa.array([r.title for r in records], pa.string()),
        pa.array([r.abstract for r in records], pa.string()),
    )
    return found.rows.tolist(), found.terms.to_pylist()


def model_text(records: Sequence[Labelled]) -> str:
    """The model file's text, fitted to ``records``."""
    terms, weights, bias = fit(records)
    about: dict[str, Any] = {
        "what": "learned second opinion on designs (tracker/learned_design.py)",
        "trained_by": "scripts/train_design_model.py",
        "records": len(records),
        "labels": "tests/expected/tagging_real_labels.json, every record but the held-out",
        "model": (
            f"logistic regression per value, L2, C={C}, terms in >= {MIN_RECORDS} records, "
            f"weights below {SMALLEST} left out"
        ),
    }
    return stored(VALUES, terms, weights, bias.tolist(), VETO_BELOW, ADD_FROM, RIVAL_FROM, about)


def main() -> int:
    from real_abstracts import screening_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args()
    text = model_text(tuning_records(screening_dir()))
    if args.check:
        same = PACKAGED.exists() and PACKAGED.read_text(encoding="utf-8") == text
        print("the shipped model is what this script produces" if same else "the model differs")
        return 0 if same else 1
    PACKAGED.parent.mkdir(exist_ok=True)
    PACKAGED.write_text(text, encoding="utf-8")
    print(f"wrote {PACKAGED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
