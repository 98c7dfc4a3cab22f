"""`tracker rank` and `tracker progress` as a reviewer types them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import screening
from tracker.cli import main
from tracker.records import Article
from tracker.store import Store


@pytest.fixture
def data(data_dir: Path) -> Path:
    store = Store(data_dir)
    store.upsert(
        Article(pmid=p, title=("Ketamine for neuropathic pain" if p < 6 else "Dental caries"),
                abstract=f"Record {p}")
        for p in range(1, 11)
    )  # fmt: skip
    screening.decide(store, [1], decision="include", reviewer="ana")
    screening.decide(store, [7], decision="exclude", reviewer="ana", reason="wrong population")
    return data_dir


def run(data: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"TRACKER_REVIEWER": "ana"}).invoke(
        main, [*args, "--data-dir", str(data)]
    )
    return result.exit_code, result.stdout, result.stderr


def test_rank_as_csv_lists_the_unscreened_records_best_first(data: Path) -> None:
    code, out, _ = run(data, "rank", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["rank"] for r in rows] == [str(n) for n in range(1, 9)]
    assert {r["record_id"] for r in rows[:4]} == {"2", "3", "4", "5"}
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_rank_limit_and_json_say_how_the_order_was_made(data: Path) -> None:
    code, out, _ = run(data, "rank", "--limit", "3", "--format", "json")
    payload = json.loads(out)
    assert code == 0 and len(payload["records"]) == 3
    assert payload["model"].startswith("Model trained on 2 decisions (1 relevant, 1 irrelevant)")


def test_rank_as_text_starts_with_the_models_state(data: Path) -> None:
    code, out, _ = run(data, "rank", "--limit", "2")
    assert code == 0 and out.startswith("Model trained on 2 decisions")


def test_progress_prints_the_numbers_and_the_verdict(data: Path) -> None:
    code, out, _ = run(data, "progress")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Screened 2 of 10 records at title-abstract; 1 relevant found."
    assert lines[2].startswith("Keep screening:")


def test_progress_record_appends_a_stopping_check(data: Path) -> None:
    code, out, _ = run(data, "progress", "--record", "--json")
    assert code == 0 and json.loads(out)["verdict"]["screened"] == 2
    assert Store(data).events()["action"].iloc[-1] == "stopping-check"


def test_a_rule_outside_zero_and_one_is_an_error_line(data: Path) -> None:
    code, _, err = run(data, "progress", "--target-recall", "95")
    assert code == 1 and err.startswith("Error: The target recall must lie strictly between")
