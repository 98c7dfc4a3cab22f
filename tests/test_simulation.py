"""Simulations: bad datasets refused by name, metrics by their definitions, runs reproducible
to the byte, and the stopping point the same as consulting the rule after every decision."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tracker import labelled_dataset, screening, simulation, stopping
from tracker.cli import main
from tracker.errors import DatasetError
from tracker.records import Article
from tracker.stopping import StoppingRule
from tracker.store import Store

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "screening-datasets"
TOPICS = (
    "ketamine infusion relieves neuropathic pain in adults",
    "fluoride varnish prevents dental caries in children",
)


def write_dataset(path: Path, rows: int = 60, relevant_every: int = 6) -> Path:
    """A small labelled CSV: every ``relevant_every``-th record about ketamine, relevant."""
    with path.open("w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(["record_id", "pubmedID", "title", "abstract", "label_included"])
        for n in range(rows):
            relevant = n % relevant_every == 0
            words = TOPICS[0 if relevant else 1].split()
            abstract = " ".join(words[(n + k) % len(words)] for k in range(12))
            writer.writerow([n + 1, 1000 + n, f"Study {n} {words[n % 3]}", abstract, int(relevant)])
    return path


BAD = {
    "no label column": ("title,abstract\nA,B\n", "no 'label_included' column"),
    "no title column": ("abstract,label_included\nB,1\n", "no 'title' column"),
    "no abstract column": ("title,label_included\nA,1\n", "no 'abstract' column"),
    "a label 2": ("title,abstract,label_included\nA,B,1\nC,D,2\nE,F,0\n", "line 3: '2'"),
    "a label in words": ("title,abstract,label_included\nA,B,yes\nC,D,0\n", "line 2: 'yes'"),
    "a missing label": ("title,abstract,label_included\nA,B,\nC,D,1\nE,F,0\n", "line 2: ''"),
    "no relevant record": ("title,abstract,label_included\nA,B,0\nC,D,0\n", "no relevant record"),
    "no irrelevant record": ("title,abstract,label_included\nA,B,1\n", "no irrelevant record"),
    "an empty file": ("", "is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_dataset_is_refused_with_its_problem_named(case: str, tmp_path: Path) -> None:
    text, expected = BAD[case]
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        labelled_dataset.load(path)
    message = str(caught.value)
    assert expected in message
    assert "--" not in message and "tracker " not in message


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_simulate_command_refuses_it_in_one_line(case: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD[case][0], encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(path), "--seeds", "1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and BAD[case][1] in result.stderr


def test_a_missing_dataset_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="give a labelled CSV file or a tracker data"):
        labelled_dataset.load(tmp_path / "nowhere.csv")


def test_a_simulation_is_reproducible_to_the_byte(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "small.csv")
    outputs = []
    for name in ("first", "second"):
        result = CliRunner().invoke(
            main, ["simulate", str(dataset), "--seeds", "2", "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert outputs[0] == outputs[1]
    assert sorted(outputs[0]) == [
        "recall-seed1.csv",
        "recall-seed1.html",
        "recall-seed2.csv",
        "recall-seed2.html",
        "summary.json",
    ]
    assert outputs[0]["recall-seed1.csv"] != outputs[0]["recall-seed2.csv"]


def test_the_summary_has_the_documented_shape(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "small.csv")
    result = CliRunner().invoke(
        main, ["simulate", str(dataset), "--seeds", "3", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["dataset"], summary["records"], summary["relevant"]) == ("small", 60, 10)
    assert [run["seed"] for run in summary["runs"]] == [1, 2, 3]
    for run in summary["runs"]:
        assert 0 <= run["recall_at_10"] <= run["recall_at_25"] <= 1
        assert -0.05 <= run["wss95"] <= 0.95
        assert 10 <= run["screened_to_95"] <= 60
        assert run["stopped_at"] is None or 2 <= run["stopped_at"] < 60
    with (tmp_path / "out" / "recall-seed1.csv").open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert len(rows) == 60 and rows[-1]["recall"] == "1.000000"
    assert {r["record"] for r in rows} == {str(1000 + n) for n in range(60)}


def test_the_run_starts_from_its_priors_and_screens_every_record(tmp_path: Path) -> None:
    data = labelled_dataset.load(write_dataset(tmp_path / "small.csv"))
    run = simulation.simulate(data, seed=4)
    relevant, irrelevant = simulation.priors(data.labels, 4)
    assert run.order[:2].tolist() == [relevant, irrelevant]
    assert sorted(run.order.tolist()) == list(range(60))
    assert run.labels.tolist() == data.labels[run.order].tolist()


@pytest.mark.parametrize("seed", range(12))
def test_the_stopping_point_is_the_first_decision_where_the_rule_says_stop(seed: int) -> None:
    draw = np.random.default_rng(seed)
    total = int(draw.integers(40, 400))
    labels = (draw.random(total) < np.linspace(0.4, 0.0, total)).astype(np.int64)
    labels[0] = 1
    rule = StoppingRule()
    every = [m for m in range(1, total) if stopping.verdict(labels[:m], total, rule).stop]
    assert simulation.stop_point(labels, rule) == (every[0] if every else None)


def test_the_metrics_follow_their_definitions() -> None:
    labels = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0] * 10)  # 30 relevant in 100
    needed = math.ceil(0.95 * 30)
    to_95 = int(np.flatnonzero(np.cumsum(labels) == needed)[0]) + 1
    assert simulation.screened_to(labels, 0.95) == to_95
    assert simulation.wss(labels, 0.95) == pytest.approx((100 - to_95) / 100 - 0.05)
    assert simulation.recall_after(labels, 0.10) == pytest.approx(labels[:10].sum() / 30)
    assert simulation.recall_after(labels, 0.25) == pytest.approx(labels[:25].sum() / 30)


def test_a_data_directory_with_complete_decisions_is_a_dataset(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert(Article(pmid=p, title=TOPICS[p % 2], abstract=TOPICS[p % 2]) for p in range(1, 9))
    screening.decide(store, [1, 3], decision="include", reviewer="ana")
    screening.decide(store, [5], decision="maybe", reviewer="ana")
    screening.decide(
        store, [2, 4, 6, 8], decision="exclude", reviewer="ana", reason="wrong population"
    )
    with pytest.raises(DatasetError, match=r"1 of 8 records .* \(record 7\)"):
        labelled_dataset.load(data_dir)
    screening.decide(store, [7], decision="exclude", reviewer="ana", reason="wrong population")
    data = labelled_dataset.load(data_dir)
    assert data.labels.tolist() == [1, 0, 1, 0, 1, 0, 0, 0]
    assert data.ids == tuple(str(p) for p in range(1, 9))


@pytest.fixture
def antihistamines() -> Path:
    path = DATASETS / "Cohen_2006_Antihistamines.csv"
    if not path.is_file():
        pytest.skip(f"the labelled datasets are not at {DATASETS}")
    return path


def test_on_a_real_review_the_order_finds_relevant_records_sooner_than_chance(
    antihistamines: Path,
) -> None:
    data = labelled_dataset.load(antihistamines)
    run = simulation.simulate(data, seed=1)
    assert (len(data.labels), data.relevant) == (310, 16)
    assert run.recall_at_25 > 0.25 + 3 * math.sqrt(0.25 * 0.75 / 16)
