"""Run ASReview's own simulation with its default model; run by ``.venv-asreview/bin/python``.

    .venv-asreview/bin/python bench/asreview_simulate.py DATASET.csv SEED:RELEVANT:IRRELEVANT ...

ASReview needs pandas < 3 and the project pins pandas 3, so it lives in its own virtual
environment and ranking_bench.py drives it through this script. For each seed the priors
(row numbers of one relevant and one irrelevant record, chosen by tracker.simulation.priors)
are labelled first, as ``asreview simulate --prior-idx`` does, then ASReview's default cycle
(``get_ai_config()``: ELAS u4 in 3.0.x) runs until the last relevant record is found, its
default stopper. Prints one JSON line per seed: the rows in labelling order and the seconds
``review()`` took (feature extraction included, as ASReview does it inside ``review``).
No network is used: the dataset is a local file.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
from asreview import load_dataset  # type: ignore[import-not-found]
from asreview.learner import ActiveLearningCycle  # type: ignore[import-not-found]
from asreview.models.models import get_ai_config  # type: ignore[import-not-found]
from asreview.models.queriers import TopDown  # type: ignore[import-not-found]
from asreview.models.stoppers import IsFittable  # type: ignore[import-not-found]
from asreview.simulation.simulate import Simulate  # type: ignore[import-not-found]


def run(path: str, seed: int, priors: list[int]) -> dict[str, Any]:
    np.random.seed(seed)  # what `asreview simulate --seed` does
    config = get_ai_config()
    with load_dataset(path, dataset_id="bench") as db:
        frame = db.input.get_df()
        labels = np.asarray(db.input["included"])
        expected = pd.read_csv(path)["label_included"].to_numpy()
        if not np.array_equal(labels, expected):
            raise SystemExit(f"{path}: ASReview read the rows in another order")
        cycles = [
            ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()),
            ActiveLearningCycle.from_meta(config["value"]),
        ]
        simulation = Simulate(frame, labels, cycles, print_progress=False)
        simulation.label(priors)
        started = time.perf_counter()
        simulation.review()
        seconds = time.perf_counter() - started
        order = [int(r) for r in simulation._results["record_id"]]
    return {"seed": seed, "model": config["name"], "order": order, "seconds": seconds}


def main() -> None:
    path, *runs = sys.argv[1:]
    for spec in runs:
        seed, relevant, irrelevant = (int(part) for part in spec.split(":"))
        print(json.dumps(run(path, seed, [relevant, irrelevant])), flush=True)


if __name__ == "__main__":
    main()
