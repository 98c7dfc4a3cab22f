"""Prioritised screening benchmark: tracker's simulation against ASReview's, in one run.

    .venv/bin/python bench/ranking_bench.py [--seeds 5] [--only NAME] [--no-asreview]
                                            [--timing 10000,100000] [--write]

On every labelled dataset in ../shared/screening-datasets/ (see its MANIFEST.md), for seeds
1..N, the same two prior records per seed (tracker.simulation.priors: one random relevant,
one random irrelevant) are given to:

- tracker: ``tracker.simulation.simulate``, features built inside the timed run;
- ASReview 3.0.8 with its default model (``get_ai_config()``, ELAS u4: TF-IDF 1–2-grams,
  linear SVM, balanced sample weights, max query), driven in its own virtual environment
  ``.venv-asreview`` by bench/asreview_simulate.py (``make bench-ranking`` builds it), in a
  process of its own that runs while tracker's runs of the same dataset do (two cores: both
  tools' wall times are measured under the same load).

Both are measured by the same functions of tracker.simulation on their screening orders:
WSS@95, recall after 10 % screened, records screened to find 95 % of the relevant ones, and
wall time per run. ASReview stops at the last relevant record (its default), which fixes
every one of these. The stopping rule (tracker only) is reported by where it stopped, the
recall reached there, and the assumption-free random check drawn at that point.

Then the retrain + rescore after one more decision at 10k and 100k records (texts of the
labelled datasets repeated, with MeSH terms and publication types added), median of 7: the
model alone (fit on the screened rows, score the unscreened) and ``ranking.rank`` on a store
(event log read and folded, features cached).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from report import machine, write_section

from tracker import labelled_dataset, ranking, relevance, screening, simulation
from tracker.records import Article, MeshHeading
from tracker.relevance import ModelSettings
from tracker.stopping import StoppingRule
from tracker.store import Store

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "screening-datasets"
ASREVIEW_PYTHON = ROOT / ".venv-asreview" / "bin" / "python"
OUT = ROOT / "bench" / "out"


def tracker_runs(path: Path, seeds: Sequence[int], settings: ModelSettings) -> list[dict[str, Any]]:
    data = labelled_dataset.load(path)
    runs = []
    for seed in seeds:
        started = time.perf_counter()
        features = relevance.build_features(data.records, settings)
        run = simulation.simulate(data, seed=seed, settings=settings, features=features)
        runs.append(
            {**run.summary(), "seconds": time.perf_counter() - started, "records": len(data.labels)}
        )
    return runs


def start_asreview(path: Path, seeds: Sequence[int]) -> subprocess.Popen[str]:
    """ASReview's runs of one dataset, in a process of its own beside tracker's runs."""
    data = labelled_dataset.load(path)
    specs = [f"{s}:{':'.join(map(str, simulation.priors(data.labels, s)))}" for s in seeds]
    command = [str(ASREVIEW_PYTHON), str(ROOT / "bench" / "asreview_simulate.py"), str(path)]
    return subprocess.Popen(
        [*command, *specs], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def asreview_runs(path: Path, process: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """Each run's metrics, computed by tracker's functions on ASReview's screening order."""
    data = labelled_dataset.load(path)
    stdout, stderr = process.communicate()
    if process.returncode:
        raise SystemExit(f"ASReview failed on {path.name}:\n{stderr}")
    runs = []
    for line in stdout.splitlines():
        result = json.loads(line)
        order = np.asarray(result["order"], dtype=np.int64)
        rest = np.setdiff1d(np.arange(len(data.labels)), order)  # all irrelevant
        labels = data.labels[np.concatenate([order, rest])]
        runs.append(
            {
                "seed": result["seed"],
                "model": result["model"],
                "wss95": simulation.wss(labels, 0.95),
                "recall_at_10": simulation.recall_after(labels, 0.10),
                "recall_at_25": simulation.recall_after(labels, 0.25),
                "screened_to_95": simulation.screened_to(labels, 0.95),
                "seconds": result["seconds"],
            }
        )
    return runs


def comparison_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| dataset | records | relevant | WSS@95 tracker | WSS@95 ASReview | recall@10 % tracker"
        " | recall@10 % ASReview | to 95 % tracker | to 95 % ASReview | s/run tracker"
        " | s/run ASReview |",
        "|---|" + "---:|" * 10,
    ]
    for name, result in results.items():
        ours, theirs = result["tracker"], result.get("asreview") or []
        cells = [name, f"{result['records']:,}", f"{result['relevant']:,}"]
        for key, fmt in (
            ("wss95", "{:.3f}"),
            ("recall_at_10", "{:.3f}"),
            ("screened_to_95", "{:,.0f}"),
            ("seconds", "{:.1f}"),
        ):
            cells += [_mean(ours, key, fmt), _mean(theirs, key, fmt)]
        lines.append("| " + " | ".join(cells) + " |")
    for label, pick in (("mean", statistics.mean),):
        cells = [f"**{label}**", "", ""]
        for key in ("wss95", "recall_at_10"):
            for tool in ("tracker", "asreview"):
                values = [
                    statistics.mean(r[key] for r in res[tool])
                    for res in results.values()
                    if res.get(tool)
                ]
                cells.append(f"**{pick(values):.3f}**" if values else "—")
        lines.append("| " + " | ".join([*cells, "", "", "", ""]) + " |")
    return "\n".join(lines)


def stopping_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| dataset | runs | stopped at (share screened) | recall at stop: mean / min"
        " | runs with recall ≥ 0.95 | random check: records | passed | share screened"
        " | recall |",
        "|---|" + "---:|" * 8,
    ]
    every: list[tuple[float, float]] = []
    for name, result in results.items():
        runs, total = result["tracker"], result["records"]
        stops = [(r["stopped_at"] or total) / total for r in runs]
        recalls = [1.0 if r["recall_at_stop"] is None else r["recall_at_stop"] for r in runs]
        every += list(zip(stops, recalls, strict=True))
        checks = [r["random_check"] for r in runs if r["random_check"]]
        lines.append(
            f"| {name} | {len(runs)} | {statistics.mean(stops):.3f} | "
            f"{statistics.mean(recalls):.3f} / {min(recalls):.3f} | "
            f"{sum(r >= 0.95 for r in recalls)}/{len(runs)} | "
            + (
                f"{statistics.mean(c['size'] for c in checks):,.0f} | "
                f"{sum(c['passed'] for c in checks)}/{len(checks)} | "
                f"{statistics.mean(c['stopped_at'] for c in checks) / total:.3f} | "
                f"{statistics.mean(c['recall_at_stop'] for c in checks):.3f} |"
                if checks
                else "— | — | — | — |"
            )
        )
    good = sum(r >= 0.95 for _, r in every)
    lines.append(
        f"| **all** | {len(every)} | **{statistics.mean(s for s, _ in every):.3f}** | "
        f"{statistics.mean(r for _, r in every):.3f} / {min(r for _, r in every):.3f} | "
        f"**{good}/{len(every)} ({good / len(every):.0%})** | | | | |"
    )
    return "\n".join(lines)


def _mean(runs: list[dict[str, Any]], key: str, fmt: str) -> str:
    return fmt.format(statistics.mean(r[key] for r in runs)) if runs else "—"


# -- retrain + rescore timing ------------------------------------------------------------------


def timing_library(count: int) -> pd.DataFrame:
    """``count`` records: the labelled datasets' titles and abstracts in turn, with metadata."""
    texts = pd.concat(
        [pd.read_csv(p, usecols=["title", "abstract"]) for p in sorted(DATASETS.glob("*.csv"))]
    ).fillna("")
    rng = np.random.default_rng(7)
    picked = texts.iloc[np.arange(count) % len(texts)].reset_index(drop=True)
    mesh = ["Ketamine", "Chronic Pain", "Humans", "Neuralgia", "Analgesics", "Adult", "Female"]
    picked["mesh_terms"] = [list(rng.choice(mesh, 4, replace=False)) for _ in range(count)]
    picked["publication_types"] = [["Journal Article"] for _ in range(count)]
    picked["keywords"] = [[] for _ in range(count)]
    return picked


def retrain_timings(count: int, repeat: int = 7) -> list[tuple[str, str]]:
    library = timing_library(count)
    started = time.perf_counter()
    features = relevance.build_features(library)
    built = time.perf_counter() - started
    rng = np.random.default_rng(1)
    screened = list(rng.choice(count, 1000, replace=False))
    labels = (rng.random(count) < 0.03).astype(np.float64)
    labels[screened[:2]] = [1.0, 0.0]
    times = []
    for _ in range(repeat):
        screened.append(int(rng.choice(np.setdiff1d(np.arange(count), screened))))
        rows = np.asarray(screened, dtype=np.intp)
        targets = np.setdiff1d(np.arange(count), rows)
        start = time.perf_counter()
        relevance.fit_scores(features, rows, labels[rows], targets)
        times.append(time.perf_counter() - start)
    rank_time = _rank_timing(library, screened[:1000], labels, repeat)
    return [
        (f"features, {count:,} records (once per records version)", f"{built:.1f} s"),
        (
            f"retrain + rescore after one decision, {count:,} records, 1,000 screened (median)",
            f"{statistics.median(times) * 1000:.0f} ms",
        ),
        (
            f"`ranking.rank` after one decision, {count:,} records (median, features cached)",
            f"{rank_time * 1000:.0f} ms",
        ),
    ]


def _rank_timing(
    library: pd.DataFrame, screened: list[int], labels: np.ndarray, repeat: int
) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        store.upsert(
            Article(
                pmid=1 + i,
                title=str(t),
                abstract=str(a),
                mesh=tuple(map(MeshHeading, m)),
                publication_types=("Journal Article",),
            )
            for i, (t, a, m) in enumerate(
                zip(library["title"], library["abstract"], library["mesh_terms"], strict=True)
            )
        )
        for decision in ("include", "exclude"):
            chosen = [1 + i for i in screened if (labels[i] > 0) == (decision == "include")]
            reason = "wrong population" if decision == "exclude" else ""
            screening.decide(store, chosen, decision=decision, reviewer="ana", reason=reason)
        ranking.rank(store, reviewer="ana")  # builds and caches the features
        times = []
        for step in range(repeat):
            screening.decide(
                store,
                [len(library) - step],
                decision="exclude",
                reviewer="ana",
                reason="wrong population",
            )
            start = time.perf_counter()
            ranking.rank(store, reviewer="ana")
            times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- the run ------------------------------------------------------------------------------------


def simulate_all(args: argparse.Namespace, settings: ModelSettings) -> dict[str, dict[str, Any]]:
    seeds = list(range(1, args.seeds + 1))
    results: dict[str, dict[str, Any]] = {}
    for path in sorted(DATASETS.glob("*.csv")):
        if args.only and not any(o in path.stem for o in args.only):
            continue
        data = labelled_dataset.load(path)
        result: dict[str, Any] = {"records": len(data.labels), "relevant": data.relevant}
        peer = None if args.no_asreview else start_asreview(path, seeds)
        result["tracker"] = tracker_runs(path, seeds, settings)
        if peer is not None:
            result["asreview"] = asreview_runs(path, peer)
        results[path.stem] = result
        OUT.mkdir(parents=True, exist_ok=True)  # saved after each dataset: a long run can stop
        (OUT / args.results).write_text(json.dumps(results, indent=1), encoding="utf-8")
        ours = statistics.mean(r["wss95"] for r in result["tracker"])
        theirs = _mean(result.get("asreview") or [], "wss95", "{:.3f}")
        print(f"{path.stem}: WSS@95 tracker {ours:.3f}, ASReview {theirs}", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--no-asreview", action="store_true")
    parser.add_argument("--settings", default="{}", help="ModelSettings fields as JSON")
    parser.add_argument("--timing", default="10000,100000", help="sizes; '' to skip")
    parser.add_argument("--skip-simulation", action="store_true")
    parser.add_argument("--results", default="ranking.json", help="file name in bench/out/")
    parser.add_argument(
        "--merge", nargs="*", default=None, help="tabulate saved results files instead of running"
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    settings = replace(ModelSettings(), **json.loads(args.settings))
    command = "python bench/ranking_bench.py " + " ".join(sys.argv[1:])
    parts = [
        f"Run on {datetime.now(UTC):%Y-%m-%d}: `{command.strip()}`",
        f"Machine: {machine('scikit-learn', 'scipy', 'numpy')}",
        f"Model settings: `{asdict(settings)}`; stopping rule: {StoppingRule()}",
    ]
    if args.merge is not None:
        results = {}
        for name in args.merge:
            results.update(json.loads((OUT / name).read_text(encoding="utf-8")))
        results = dict(sorted(results.items()))
    elif not args.skip_simulation:
        results = simulate_all(args, settings)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / args.results).write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.merge is not None or not args.skip_simulation:
        parts += [
            f"Seeds 1–{args.seeds}, same priors for both tools.",
            comparison_table(results),
            "Stopping rule (tracker, inside the simulation):",
            stopping_table(results),
        ]
    sizes = [int(s) for s in args.timing.split(",") if s.strip()]
    if sizes:
        rows = [row for size in sizes for row in retrain_timings(size)]
        parts.append(
            "\n".join(["| measure | value |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)])
        )
    text = "\n\n".join(parts) + "\n"
    print(text)
    if args.write:
        write_section("Ranking and stopping", text)


if __name__ == "__main__":
    main()
