"""Duplicates are flagged with the rule that matched, judged by a person, and never merged."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tracker import duplicates, screening
from tracker.errors import ScreeningError
from tracker.records import Article, Author
from tracker.store import Store

CASES = json.loads(
    (Path(__file__).parent / "expected" / "duplicates_cases.json").read_text(encoding="utf-8")
)


def article(case: dict[str, Any]) -> Article:
    last, _, initials = case.get("author", "").partition(" ")
    authors = (Author(last, initials, initials),) if last else ()
    return Article(pmid=case["pmid"], title=case["title"], year=case.get("year"),
                   doi=case.get("doi", ""), authors=authors,
                   publication_types=tuple(case.get("types", ())))  # fmt: skip


@pytest.fixture
def store(data_dir: Path) -> Store:
    store = Store(data_dir)
    store.upsert(article(case) for case in CASES["records"])
    return store


def pairs(found: pd.DataFrame) -> list[list[Any]]:
    return [[r["record_id"], r["duplicate_of"], r["rule"]] for r in found.to_dict(orient="records")]


def test_the_hand_written_cases_give_exactly_the_expected_pairs(store: Store) -> None:
    found = duplicates.find_duplicates(store.records())
    assert pairs(found) == CASES["expected"]
    assert list(found.columns) == ["record_id", "duplicate_of", "rule", "detail", "status"]
    assert set(found["status"]) == {"open"}


def test_the_detail_says_what_matched(store: Store) -> None:
    found = duplicates.find_duplicates(store.records()).set_index("record_id")
    assert found.loc[12, "detail"] == "10.1000/abc"
    assert found.loc[11, "detail"] == "ketamine for crps a randomised trial"
    assert str(found.loc[13, "detail"]).startswith("Erratum: Ketamine for CRPS")


def test_judging_a_pair_never_merges_records_and_latest_judgement_wins(store: Store) -> None:
    duplicates.confirm(store, 11, duplicate_of=10, reviewer="ana")
    duplicates.reject(store, 12, duplicate_of=10, reviewer="ana")
    duplicates.confirm(store, 13, duplicate_of=10, reviewer="ana")
    duplicates.reject(store, 13, duplicate_of=10, reviewer="ben")
    status = duplicates.find_duplicates(store.records(), store).set_index("record_id")["status"]
    assert status.loc[[11, 12, 13, 16]].tolist() == ["confirmed", "rejected", "rejected", "open"]
    assert duplicates.confirmed(store) == {11}
    assert len(store.known_ids()) == len(CASES["records"]), "nothing is merged or deleted"


def test_a_confirmation_can_be_undone(store: Store) -> None:
    duplicates.confirm(store, 11, duplicate_of=10, reviewer="ana")
    assert screening.undo(store, reviewer="ana") is not None
    assert duplicates.confirmed(store) == set()


@pytest.mark.parametrize(
    ("pmid", "original", "message"),
    [(11, 11, "cannot duplicate itself"), (11, 999, "PMID 999"), (998, 10, "PMID 998")],
)
def test_a_bad_judgement_is_refused_and_writes_nothing(
    store: Store, pmid: int, original: int, message: str
) -> None:
    with pytest.raises(ScreeningError, match=message):
        duplicates.confirm(store, pmid, duplicate_of=original, reviewer="ana")
    assert store.events().empty


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Erratum: Ketamine for CRPS [Pain Med. 2019;20(3):1]", ("erratum", "ketamine for crps")),
        ("Correction to: Ketamine trial.", ("erratum", "ketamine trial")),
        ("Corrigendum to “Ketamine trial”", ("erratum", "ketamine trial")),
        ("Retraction Note: Oral ketamine", ("retraction", "oral ketamine")),
        ("Notice of Retraction. Oral ketamine", ("retraction", "oral ketamine")),
        ("Erratum.", ("erratum", "")),
        ("Ketamine for errata", None),
        ("Errors in ketamine dosing", None),
    ],
)
def test_notice_titles_name_the_article_they_concern(
    title: str, expected: tuple[str, str] | None
) -> None:
    assert duplicates.notice_target(title) == expected


@pytest.mark.slow
def test_100_000_records_are_checked_in_a_few_seconds() -> None:
    count = 100_000
    records = pd.DataFrame(
        {
            "record_id": range(1, count + 1),
            "title": [f"Study {n} of ketamine" for n in range(count)],
            "doi": [f"10.1/{n % (count - 10)}" for n in range(count)],
            "year": pd.array([2000 + n % 20 for n in range(count)], dtype="Int64"),
            "authors": [["Smith J"]] * count,
            "publication_types": [["Journal Article"]] * count,
        }
    )
    start = time.perf_counter()
    found = duplicates.find_duplicates(records)
    elapsed = time.perf_counter() - start
    assert len(found) == 10 and set(found["rule"]) == {"same DOI"}
    assert elapsed < 5.0, f"{elapsed:.1f} s"
