"""Sample size on the tuning records only: the rules against the learned choice, cross-validated.

    .venv/bin/python bench/sample_size_cv.py [--seeds 5] [--misses]

Reads the tuning records of the real draw (split "tune"; never a test record, whose text and
labels this script does not touch) and reports, as the scorer of tests/tagging_accuracy.py
counts them (exact over the records that state a sample; false: a number on a record labelled
none), for:

- the rules alone (tracker.study_size): fixed, and written from these very records, so their
  score here is in-sample, not an estimate for unseen abstracts;
- the learned choice (tracker.sample_choice, without rule features), out of fold: 5 folds by
  record, repeated over ``--seeds`` shuffles;
- the learned choice with features saying which rule read each candidate, out of fold (what was
  tried and not shipped: those weights learn to trust rules that were fitted to the same records);

each on the records of the first three batches (places < 600, the records the rules and the
features were written from), and, fitted to those alone, on the fourth batch's tuning records
(places 600 to 779: labelled after the rules were frozen and before this model was chosen,
so they validate it), then out of fold over all tuning records. The design's decision (a
review, a model, a guideline has no sample) is the tagger's, applied to every column alike.
Candidate recall: how often the right number is among the candidates at all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

from real_abstracts import FOURTH_FROM, screening_dir  # noqa: E402
from tagging_accuracy import drawn_records, frame  # noqa: E402
from train_sample_size_model import C, Example, choose, examples, fit  # noqa: E402

from tracker import tagging  # noqa: E402

Chooser = Callable[[Example], int | None]


def without_sample(folder: Path) -> dict[str, bool]:
    """Per tuning record: does the tagger's design give it no sample (vocabulary ``sample``)?"""
    tune = [record for drawn, record in drawn_records(folder) if drawn.split == "tune"]
    designs = tagging.evidence(frame(tune))["design"].tolist()
    kinds = tagging._tables(None).samples
    return {r.id: any(kinds.get(d) for d in found) for r, found in zip(tune, designs, strict=True)}


def counts(items: Sequence[Example], answer: Chooser, none: dict[str, bool]) -> tuple[int, int]:
    """(exact, false) as tests/tagging_accuracy.py counts them."""
    exact = false = 0
    for example in items:
        got = None if none[example.key] else answer(example)
        exact += bool(example.accepted) and got in example.accepted
        false += not example.accepted and got is not None
    return exact, false


def out_of_fold(items: Sequence[Example], none: dict[str, bool], seed: int) -> tuple[int, int]:
    """The learned choice, each record answered by a model fitted without it."""
    order = np.random.RandomState(seed).permutation(len(items))
    fold = np.empty(len(items), dtype=int)
    fold[order] = np.arange(len(items)) % 5
    answers: dict[str, int | None] = {}
    for k in range(5):
        table = fit([e for e, f in zip(items, fold, strict=True) if f != k and e.accepted])
        for example, f in zip(items, fold, strict=True):
            if f == k:
                answers[example.key] = choose(example, table)
    return counts(items, lambda e: answers[e.key], none)


def line(name: str, items: Sequence[Example], found: Sequence[tuple[int, int]]) -> str:
    stated = sum(1 for e in items if e.accepted)
    exact = [e for e, _ in found]
    false = [f for _, f in found]
    runs = " ".join(str(e) for e in exact)
    return (
        f"| {name} | {statistics.mean(exact) / stated:.3f} ({statistics.mean(exact):.1f}/{stated}; "
        f"runs {runs}) | {statistics.mean(false):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="print the tuning records missed")
    args = parser.parse_args()
    folder = screening_dir()
    none = without_sample(folder)
    plain, ruled = examples(folder), examples(folder, rules=True)
    older = [e for e in plain if e.place < FOURTH_FROM]
    older_ruled = [e for e in ruled if e.place < FOURTH_FROM]
    newer = [e for e in plain if e.place >= FOURTH_FROM]
    newer_ruled = [e for e in ruled if e.place >= FOURTH_FROM]
    seeds = range(args.seeds)

    def rules(e: Example) -> int | None:
        return e.rules

    print(f"C = {C}; tuning records: {len(older)} older, {len(newer)} of the fourth batch\n")
    for name, items in (("older", older), ("fourth batch", newer), ("all", plain)):
        stated = [e for e in items if e.accepted]
        found = sum(1 for e in stated if any(c.value in e.accepted for c in e.candidates))
        if stated:
            print(f"candidate recall, {name}: {found}/{len(stated)}")
    print("\n| older tuning records (< 600) | exact | false |\n|---|---:|---:|")
    print(line("rules alone (in-sample)", older, [counts(older, rules, none)]))
    print(line("learned, out of fold", older, [out_of_fold(older, none, s) for s in seeds]))
    ruled_found = [out_of_fold(older_ruled, none, s) for s in seeds]
    print(line("learned with rule features, out of fold", older_ruled, ruled_found))
    if newer:
        table = fit([e for e in older if e.accepted])
        ruled_table = fit([e for e in older_ruled if e.accepted])
        print("\n| fourth batch's tuning records, fitted to the older | exact | false |")
        print("|---|---:|---:|")
        print(line("rules alone", newer, [counts(newer, rules, none)]))
        print(line("learned", newer, [counts(newer, lambda e: choose(e, table), none)]))
        answer = [counts(newer_ruled, lambda e: choose(e, ruled_table), none)]
        print(line("learned with rule features", newer_ruled, answer))
        print("\n| all tuning records | exact | false |\n|---|---:|---:|")
        print(line("rules alone", plain, [counts(plain, rules, none)]))
        print(line("learned, out of fold", plain, [out_of_fold(plain, none, s) for s in seeds]))
    if args.misses:
        table = fit([e for e in plain if e.accepted])
        for example in plain:
            got = None if none[example.key] else choose(example, table)
            if (got in example.accepted) != bool(example.accepted) or (
                not example.accepted and got is not None
            ):
                print(f"miss (in-sample) {example.key}: labelled {sorted(example.accepted)} "
                      f"got {got}, rules {example.rules}")  # fmt: skip


if __name__ == "__main__":
    main()
