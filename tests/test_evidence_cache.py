"""The library's evidence tags kept between runs: the same frame as tagging everything, with
only new or changed records tagged again."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tagging_accuracy import crafted_records, fixture_records, frame

from tracker import evidence_cache, tagging
from tracker.records import Article
from tracker.store import Store
from tracker.vocabulary import write_default


@pytest.fixture
def records() -> pd.DataFrame:
    """The crafted abstracts (every facet, numbers and evidence), as the store holds records."""
    return frame(crafted_records())


def written(store: Store) -> str:
    """Changes whenever the cache is written (it is replaced whole), never when it is read."""
    return store.stamp().side_table(evidence_cache.CACHE_NAME)


def test_the_cached_frame_is_the_tagged_frame_cold_and_warm(
    data_dir: Path, records: pd.DataFrame
) -> None:
    store = Store(data_dir)
    expected = tagging.evidence(records)
    cold = evidence_cache.library_evidence(store, records)
    first = written(store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warm = evidence_cache.library_evidence(store, records)
    pd.testing.assert_frame_equal(cold, expected)
    pd.testing.assert_frame_equal(warm, expected)
    assert first != "none" and written(store) == first, "a warm cache is read, not rewritten"


def test_the_real_fixture_records_come_back_the_same(data_dir: Path, eutils_fixtures: Path) -> None:
    records = frame(fixture_records(eutils_fixtures))
    store = Store(data_dir)
    evidence_cache.library_evidence(store, records)
    pd.testing.assert_frame_equal(
        evidence_cache.library_evidence(store, records), tagging.evidence(records)
    )


def test_only_a_changed_record_is_tagged_again(data_dir: Path, records: pd.DataFrame) -> None:
    store = Store(data_dir)
    evidence_cache.library_evidence(store, records)
    _tamper(store, keep=records["record_id"].iloc[0])  # every other row now says "tampered"
    changed = records.copy()
    changed.loc[changed.index[0], "abstract"] = "We randomised 120 patients; 3 felt dizzy."
    changed = changed.iloc[::-1].reset_index(drop=True)  # another order too
    found = evidence_cache.library_evidence(store, changed)
    first = int(records["record_id"].iloc[0])
    pd.testing.assert_frame_equal(
        found.loc[[first]], tagging.evidence(changed[changed["record_id"] == first])
    )
    others = found.drop(index=first)
    assert set(others["dose"]) == {"tampered"}, "unchanged records came from the cache"
    assert list(found.index) == changed["record_id"].tolist()


def test_a_changed_vocabulary_tags_everything_again(data_dir: Path, records: pd.DataFrame) -> None:
    store = Store(data_dir)
    evidence_cache.library_evidence(store, records)
    _tamper(store)
    path = write_default(store.data_dir)
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    found = evidence_cache.library_evidence(store, records)
    assert "tampered" not in set(found["dose"])
    pd.testing.assert_frame_equal(found, tagging.evidence(records))


def test_a_damaged_row_is_tagged_again_and_a_damaged_cache_ignored(
    data_dir: Path, records: pd.DataFrame
) -> None:
    store = Store(data_dir)
    evidence_cache.library_evidence(store, records)
    table = store.read_side_table(evidence_cache.CACHE_NAME)
    assert table is not None
    tags = table.column("tags").to_pylist()
    tags[0] = "{not json"
    with store.locked():
        store.write_side_table(
            evidence_cache.CACHE_NAME,
            table.set_column(2, "tags", pa.array(tags, pa.string())),
        )
    pd.testing.assert_frame_equal(
        evidence_cache.library_evidence(store, records), tagging.evidence(records)
    )
    with store.locked():
        store.write_side_table(evidence_cache.CACHE_NAME, pa.table({"other": [1]}))
    pd.testing.assert_frame_equal(
        evidence_cache.library_evidence(store, records), tagging.evidence(records)
    )


def test_an_unwritable_cache_warns_and_still_gives_the_tags(
    data_dir: Path, records: pd.DataFrame
) -> None:
    store = Store(data_dir)
    store.upsert([Article(pmid=1, title="A trial", abstract="60 patients were randomised.")])
    (data_dir / f"{evidence_cache.CACHE_NAME}.parquet").mkdir()  # a directory where it goes
    with pytest.warns(evidence_cache.EvidenceCacheWarning, match="kept in memory"):
        found = evidence_cache.library_evidence(store, records)
    pd.testing.assert_frame_equal(found, tagging.evidence(records))


def test_an_empty_library_writes_nothing(data_dir: Path, records: pd.DataFrame) -> None:
    store = Store(data_dir)
    found = evidence_cache.library_evidence(store, records.iloc[:0])
    assert found.empty and list(found.columns) == list(tagging.evidence(records).columns)
    assert written(store) == "none"


def _tamper(store: Store, keep: object = None) -> None:
    """Rewrite the cached rows (all but ``keep``'s) so that a row read from the cache shows."""
    table = store.read_side_table(evidence_cache.CACHE_NAME)
    assert table is not None
    rows = []
    for pmid, text in zip(table.column("record_id").to_pylist(),
                          table.column("tags").to_pylist(), strict=True):  # fmt: skip
        row = json.loads(text)
        if pmid != keep:
            row["dose"] = "tampered"
        rows.append(json.dumps(row))
    with store.locked():
        store.write_side_table(
            evidence_cache.CACHE_NAME, table.set_column(2, "tags", pa.array(rows, pa.string()))
        )
