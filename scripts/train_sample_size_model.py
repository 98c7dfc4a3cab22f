"""Fit the sample-size choice (tracker.sample_choice) to the hand labels, and write its weights.

    .venv/bin/python scripts/train_sample_size_model.py [--check]

Reads the fitted side of the real draw (every record of tests/expected/tagging_real_labels.json
but the held-out ones, real_abstracts.held_out; their text read in place from
../shared/screening-datasets) and never a held-out record. For every such record that states a
sample, each candidate the label accepts is set against each it
does not (tracker.stated_counts lists them), and a logistic regression on those differences,
without intercept, learns which features make a candidate the sample: a pairwise ranking, so
that a record with many numbers weighs no more than one with two. L2 strength ``C`` = 1.0, as
bench/sample_size_cv.py chose by cross-validation on the tuning records.

The weights are rounded to 4 decimals (so that the file is the same on any machine), those that
round to zero dropped, and written sorted to tracker/learned/sample_size.json. ``--check``
writes nothing and fails when the shipped file is not what this script produces.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from real_abstracts import held_out, screening_dir  # noqa: E402
from tagging_accuracy import REAL_LABELS, drawn_records  # noqa: E402

from tracker import sample_choice, stated_counts, study_size  # noqa: E402

C = 1.0
"""L2 strength, chosen by bench/sample_size_cv.py (flat between 1 and 30)."""
DECIMALS = 4
MIN_RECORDS = 2
"""A feature must occur in this many training records to get a weight: one seen in a single
record can only memorise it (cross-validation: 265.0/282 at 2, 264.6 at 1, 264.8 at 3)."""


@dataclass(frozen=True)
class Example:
    """One tuning record as training sees it: its candidates and the numbers its label
    accepts (empty when it states no sample)."""

    key: str
    place: int
    candidates: tuple[stated_counts.Candidate, ...]
    accepted: frozenset[int]
    rules: int | None
    """The rules' reading, or None."""
    numbers: int
    """How many numbers the text states (with fewer than two there is nothing to choose)."""


def examples(folder: Path, *, rules: bool = False) -> list[Example]:
    """Every record of the real draw's fitted side, in draw order: every record but the held-out
    ones (real_abstracts.held_out), which are never read here."""
    found = []
    for drawn, record in drawn_records(folder):
        if held_out(drawn):
            continue
        text = record.abstract if record.abstract.strip() else record.title
        read = study_size.readings(text)
        label = record.labels.get("sample_size")
        found.append(
            Example(
                record.id,
                drawn.place,
                tuple(stated_counts.candidates(text, read, rules=rules)),
                frozenset(int(n) for n in (label or []) if n is not None),
                read.chosen.value if read.chosen else None,
                len(study_size._NUMBERS.findall(text)),
            )
        )
    return found


def fit(train: Sequence[Example], c: float = C) -> dict[str, float]:
    """Pairwise logistic regression: right candidate minus wrong one, per record."""
    import numpy as np
    from scipy import sparse
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    seen: dict[str, int] = {}
    for example in train:
        for feature in set().union(*(c.features for c in example.candidates)):
            seen[feature] = seen.get(feature, 0) + 1
    kept = {feature for feature, records in seen.items() if records >= MIN_RECORDS}
    vectors = DictVectorizer()
    vectors.fit([dict.fromkeys(c.features & kept, 1.0) for e in train for c in e.candidates])
    rows, signs = [], []
    for example in train:
        right = [c for c in example.candidates if c.value in example.accepted]
        wrong = [c for c in example.candidates if c.value not in example.accepted]
        if not right or not wrong:
            continue
        good = vectors.transform([dict.fromkeys(c.features, 1.0) for c in right])
        bad = vectors.transform([dict.fromkeys(c.features, 1.0) for c in wrong])
        for i in range(good.shape[0]):
            for j in range(bad.shape[0]):
                difference = good[i] - bad[j]
                rows += [difference, -difference]
                signs += [1, 0]
    model = LogisticRegression(C=c, max_iter=5000, fit_intercept=False)
    model.fit(sparse.vstack(rows).tocsr(), np.array(signs))
    names = vectors.get_feature_names_out()
    table = {str(n): round(float(w), DECIMALS) for n, w in zip(names, model.coef_[0], strict=True)}
    return {name: weight for name, weight in sorted(table.items()) if weight != 0.0}


def choose(example: Example, table: dict[str, float]) -> int | None:
    """What tracker.sample_choice would answer for the example's text, from its candidates."""
    if example.rules is None or not example.candidates or example.numbers < 2:
        return example.rules
    scores = [sample_choice.score(c.features, table) for c in example.candidates]
    best = max(range(len(scores)), key=lambda at: (scores[at], -at))
    return example.candidates[best].value


def model_file(table: dict[str, float], train: Sequence[Example]) -> str:
    """The shipped JSON: what it is, what it was fitted to, and the weights."""
    stated = sum(1 for e in train if e.accepted)
    model = {
        "about": (
            "Weights of tracker.sample_choice: a pairwise logistic regression over the features "
            "of tracker.stated_counts, fitted by scripts/train_sample_size_model.py to every "
            "record of tests/expected/tagging_real_labels.json but the held-out ones. "
            "Regenerate with that script; "
            "do not edit by hand."
        ),
        "fitted_to": {
            "records": len(train),
            "stating_a_sample": stated,
            "label_records": len(REAL_LABELS["records"]),
        },
        "C": C,
        "weights": table,
    }
    return json.dumps(model, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    train = examples(screening_dir())
    text = model_file(fit(train), train)
    if args.check:
        same = sample_choice.WEIGHTS.read_text(encoding="utf-8") == text
        print("the shipped weights are what this script produces" if same else "weights differ")
        sys.exit(0 if same else 1)
    sample_choice.WEIGHTS.write_text(text, encoding="utf-8")
    print(f"wrote {sample_choice.WEIGHTS} ({len(json.loads(text)['weights'])} weights)")


if __name__ == "__main__":
    main()
