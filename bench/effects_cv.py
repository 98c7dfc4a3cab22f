"""Cross-validated adverse-effect precision and recall on the TUNING records only.

    .venv/bin/python bench/effects_cv.py [--folds 5] [--seeds 3] [--newest]

Reads the tuning records of the main draw and of the adverse-effect set (never a test record),
and compares, by out-of-fold predictions (records split into folds, stratified by whether they
hold an effect; fixed seeds):
- rules only (tracker.tagging as it stands);
- rules AND the learned model (a suggestion stands when a mention of its effect scores >= t);
- the model alone (an effect is suggested when a mention scores >= t).
Counts are over (record, effect) pairs, as tests/tagging_accuracy.py counts them, summed over
the seeds' repeats and shown per repeat. With ``--newest`` the fourth batch's tuning records
(labelled after the model was chosen) are scored by a model fitted on the older ones.

The rules were written from these very records, so "rules only" reads high here, and a veto
has few of the rules' errors to catch. ``--old-rules`` adds a fairer test of what the veto
catches: the rules as they stood before the third round (commit f34a8e0, taken from git),
scored on the tuning records they had never seen (the third batch's and the adverse-effect
set's), alone and with the out-of-fold model as a veto.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "scripts")]

from tagging_accuracy import Labelled, frame  # noqa: E402
from train_effect_model import (  # noqa: E402
    THRESHOLD,
    C,
    Fitted,
    Tuned,
    fit,
    record_mentions,
    tuning_records,
)

from tracker import tagging  # noqa: E402
from tracker.effect_mentions import Mention  # noqa: E402

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
Scores = dict[tuple[int, str], float]
"""Per (record, effect): the highest score of its mentions."""


def rules(records: Sequence[Tuned]) -> list[set[str]]:
    """The rules' adverse effects per record."""
    labelled = [Labelled(r.key, r.title, r.abstract, {}) for r in records]
    tags = tagging.evidence(frame(labelled), learned=False)
    return [set(found) for found in tags["adverse_effects"]]


def out_of_fold(
    found: Sequence[Sequence[Mention]], records: Sequence[Tuned], folds: int, seed: int, c: float
) -> Scores:
    """Each record's mentions scored by a model fitted without its fold."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(records), dtype=int)
    for has in (True, False):
        members = [i for i, r in enumerate(records) if bool(r.effects) == has]
        order = rng.permutation(members)
        fold[order] = np.arange(len(order)) % folds
    scores: Scores = {}
    for k in range(folds):
        train = [i for i in range(len(records)) if fold[i] != k]
        fitted = fit([found[i] for i in train], [records[i] for i in train], c)
        for i in np.flatnonzero(fold == k).tolist():
            _score(scores, i, found[i], fitted)
    return scores


def _score(scores: Scores, i: int, found: Sequence[Mention], fitted: Fitted) -> None:
    for m in found:
        p = fitted.probability(m.features)
        scores[(i, m.value)] = max(p, scores.get((i, m.value), 0.0))


def count(records: Sequence[Tuned], suggested: Sequence[set[str]]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for r, got in zip(records, suggested, strict=True):
        tp += len(got & r.effects)
        fp += len(got - r.effects)
        fn += len(r.effects - got)
    return tp, fp, fn


def line(name: str, counts: Sequence[tuple[int, int, int]]) -> str:
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    per = " ".join(f"{c[0]}/{c[0] + c[1]}" for c in counts)
    return f"| {name} | {precision:.3f} | {recall:.3f} | {per} (of {counts[0][0] + counts[0][2]}) |"


def vetoed(ruled: Sequence[set[str]], scores: Scores, t: float) -> list[set[str]]:
    """The rules' suggestions the model lets stand."""
    return [{v for v in got if scores.get((i, v), 1.0) >= t} for i, got in enumerate(ruled)]


def alone(size: int, scores: Scores, t: float) -> list[set[str]]:
    """The effects the model alone suggests."""
    found: list[set[str]] = [set() for _ in range(size)]
    for (i, v), p in scores.items():
        if p >= t:
            found[i].add(v)
    return found


OLD_RULES = "f34a8e0"
"""The commit that labelled the third batch and the adverse-effect set, before any rule of
the third round was written from them."""
_OLD_TAGGER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import pandas as pd
from tracker import tagging
assert tagging.__file__.startswith(sys.argv[1])
rows = json.load(sys.stdin)
frame = pd.DataFrame({
    "record_id": range(1, len(rows) + 1), "title": [r[0] for r in rows],
    "abstract": [r[1] for r in rows], "publication_types": [[] for _ in rows],
    "mesh_terms": [[] for _ in rows], "mesh_qualified": [[] for _ in rows],
})
print(json.dumps([sorted(x) for x in tagging.evidence(frame)["adverse_effects"]]))
"""


def old_rules(records: Sequence[Tuned], commit: str = OLD_RULES) -> list[set[str]]:
    """The adverse effects the tagger of ``commit`` suggests, run from a copy of its
    tracker package in a separate interpreter."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "tracker"], capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        rows = json.dumps([(r.title, r.abstract) for r in records])
        done = subprocess.run(
            [sys.executable, "-c", _OLD_TAGGER, folder],
            input=rows, capture_output=True, text=True, check=True, cwd=folder,
        )  # fmt: skip
    return [set(found) for found in json.loads(done.stdout)]


def unseen_by_old_rules(record: Tuned) -> bool:
    """Drawn after the old rules were written: the third batch (places 240-599) or the
    adverse-effect set."""
    return record.effect_set or record.place >= 240


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--c", type=float, default=C)
    parser.add_argument("--newest", action="store_true")
    parser.add_argument("--old-rules", action="store_true")
    parser.add_argument(
        "--all", action="store_true", help="cross-validate over every tuning record, the newest too"
    )
    args = parser.parse_args()
    everything = tuning_records()
    older = everything if args.all else [r for r in everything if not r.newest]
    found = record_mentions(older)
    ruled = rules(older)
    print(f"{len(older)} tuning records, {sum(map(len, found))} mentions, "
          f"{sum(len(r.effects) for r in older)} labelled effects")  # fmt: skip
    print("| | precision | recall | TP/suggested per repeat |\n|---|---:|---:|---|")
    repeats = [out_of_fold(found, older, args.folds, seed, args.c) for seed in range(args.seeds)]
    print(line("rules only", [count(older, ruled)] * args.seeds))
    for t in THRESHOLDS:
        print(line(f"rules AND model >= {t}", [count(older, vetoed(ruled, s, t)) for s in repeats]))
    for t in THRESHOLDS:
        print(line(f"model alone >= {t}", [count(older, alone(len(older), s, t)) for s in repeats]))
    if args.old_rules:
        unseen = [i for i, r in enumerate(older) if unseen_by_old_rules(r)]
        fresh = [older[i] for i in unseen]
        ruled_old = old_rules(older)

        def pick(found: list[set[str]]) -> list[set[str]]:
            return [found[i] for i in unseen]

        print(f"\nrules of {OLD_RULES} on the {len(fresh)} tuning records they never saw")
        print(line("old rules only", [count(fresh, pick(ruled_old))] * args.seeds))
        for t in THRESHOLDS:
            counts = [count(fresh, pick(vetoed(ruled_old, s, t))) for s in repeats]
            print(line(f"old rules AND model >= {t}", counts))
    newest = [r for r in everything if r.newest]
    if args.newest and newest and not args.all:
        fitted = fit(found, older, args.c)
        scores: Scores = {}
        for i, ms in enumerate(record_mentions(newest)):
            _score(scores, i, ms, fitted)
        ruled_new = rules(newest)
        print(f"\nfourth batch's tuning records: {len(newest)}")
        print(line("rules only", [count(newest, ruled_new)]))
        for t in THRESHOLDS:
            print(line(f"rules AND model >= {t}", [count(newest, vetoed(ruled_new, scores, t))]))
        print(
            line(
                f"model alone >= {THRESHOLD}",
                [count(newest, alone(len(newest), scores, THRESHOLD))],
            )
        )


if __name__ == "__main__":
    main()
