"""A data folder the PMID-keyed tracker wrote opens with today's code and loses nothing.

tests/stores/pmid-keyed/ holds such a folder and what that version exported from it (written
by tests/stores/write_pre_migration_store.py at the last PMID-keyed commit). A copy is opened
here: every record keeps its PMID as its id, every event and run row is the same row, and the
exports give the same entries, apart from the columns and fields records from other databases
added.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import rispy
from bibtexparser.entrypoint import parse_string
from click.testing import CliRunner

from tracker import Store, screening
from tracker.cli import main
from tracker.data_folder import ParquetRecords
from tracker.errors import StoreError

OLD = Path(__file__).parent / "stores" / "pmid-keyed"


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    """A copy of the old folder, opened once by today's store."""
    data = tmp_path / "data"
    shutil.copytree(OLD / "data", data)
    Store(data).records()
    return data


def old_table(sql: str) -> list[tuple[Any, ...]]:
    source = f"file:{OLD / 'data' / 'tracker.sqlite'}?mode=ro&immutable=1"
    with sqlite3.connect(source, uri=True) as db:
        return [tuple(row) for row in db.execute(sql)]


def cli(data: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_record_keeps_its_pmid_as_its_id_and_every_field(migrated: Path) -> None:
    old = pq.read_table(OLD / "data" / "records.parquet").to_pandas()
    new = Store(migrated).records()
    assert len(new) == len(old) == 14
    assert new["record_id"].tolist() == new["pmid"].tolist() == sorted(old["pmid"].tolist())
    assert set(new["source"]) == {"PubMed"} and set(new["kind"]) == {"article"}
    assert new["source_ids"].map(list).tolist() == [[f"PubMed: {p}"] for p in new["pmid"]]
    for name in old.columns:
        kept = [list(v) if hasattr(v, "__len__") and not isinstance(v, str) else v
                for v in old.sort_values("pmid")[name]]  # fmt: skip
        assert [list(v) if isinstance(v, list) else v for v in new[name]] == kept, name
    assert not (migrated / "records.before-upgrade.parquet").exists(), "the copy is removed"
    assert not (migrated / "tracker.before-upgrade.sqlite").exists()


def test_every_event_and_run_row_is_the_same_row(migrated: Path) -> None:
    events = old_table("SELECT id, created_at, reviewer, pmid, stage, action, value, reason,"
                       " note, target_id FROM events ORDER BY id")  # fmt: skip
    assert len(events) >= 15, "the old log holds decisions, tags, notes, undo, resolve, dup"
    new = Store(migrated).events()
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in new.itertuples(index=False)]
    assert rows == events
    runs = old_table("SELECT id, kind, query, started_at, tool_version FROM runs ORDER BY id")
    got = Store(migrated).runs()
    assert list(got[["id", "kind", "query", "started_at", "tool_version"]].itertuples(
        index=False, name=None)) == runs  # fmt: skip
    assert got["source"].tolist() == ["PubMed", "PubMed"]
    returned = old_table("SELECT run_id, pmid FROM run_pmids ORDER BY run_id, pmid")
    assert [(r, i) for r in (1, 2) for i in sorted(Store(migrated).run_records(r))] == returned


def test_decisions_tags_and_notes_export_as_before(migrated: Path) -> None:
    """CSV: the old columns hold the old cells, row for row (with every stored record kept as
    its own row, as the old export did)."""
    text = cli(migrated, "export", "--format", "csv", "--keep-duplicates").lstrip("\ufeff")
    old = list(csv.DictReader(io.StringIO(
        (OLD / "exports" / "all.csv").read_text(encoding="utf-8-sig"))))  # fmt: skip
    new = list(csv.DictReader(io.StringIO(text)))
    assert len(new) == len(old) == 14
    for before, after in zip(old, new, strict=True):
        assert {k: after[k] for k in before} == before
    decisions = [row["Decision"] for row in new]
    assert {"include", "exclude", "maybe", "conflict"} <= set(decisions), "the log's calls"


def _subset(before: dict[str, Any], after: dict[str, Any]) -> bool:
    for key, value in before.items():
        if isinstance(value, list):
            if not all(item in after.get(key, []) for item in value):
                return False
        elif after.get(key) != value:
            return False
    return True


def test_ris_and_bibtex_entries_keep_every_field(migrated: Path) -> None:
    old = rispy.loads((OLD / "exports" / "all.ris").read_text(encoding="utf-8"))
    new = rispy.loads(cli(migrated, "export", "--format", "ris", "--keep-duplicates"))
    assert len(new) == len(old) == 14
    assert all(_subset(a, b) for a, b in zip(old, new, strict=True))
    old_bib = parse_string((OLD / "exports" / "all.bibtex").read_text("utf-8"))
    new_bib = parse_string(cli(migrated, "export", "--format", "bibtex",
                                            "--keep-duplicates"))  # fmt: skip
    assert [e.key for e in new_bib.entries] == [e.key for e in old_bib.entries]
    for a, b in zip(old_bib.entries, new_bib.entries, strict=True):
        before = {k: f.value for k, f in a.fields_dict.items()}
        assert _subset(before, {k: f.value for k, f in b.fields_dict.items()}), a.key


def test_prisma_and_the_search_log_count_as_before(migrated: Path) -> None:
    old = json.loads((OLD / "exports" / "prisma.json").read_text(encoding="utf-8"))
    new = json.loads(cli(migrated, "prisma", "--format", "json"))
    assert {k: new[k] for k in old if k != "searches"} == {
        k: v for k, v in old.items() if k != "searches"}  # fmt: skip
    assert [{k: s[k] for k in old["searches"][0]} for s in new["searches"]] == old["searches"]
    log = cli(migrated, "runs", "--format", "csv").lstrip("\ufeff")
    before = list(csv.DictReader(io.StringIO(
        (OLD / "exports" / "search_log.csv").read_text(encoding="utf-8-sig"))))  # fmt: skip
    after = list(csv.DictReader(io.StringIO(log)))
    same = ("Run", "Date/time (UTC)", "Query as typed", "Records found", "New", "Status")
    assert [{k: r[k] for k in same} for r in after] == [{k: r[k] for k in same} for r in before]
    assert {r["Database"] for r in after} <= {"PubMed", "PubMed via NCBI E-utilities",
                                               "PubMed XML file import"}  # fmt: skip


def test_screening_goes_on_after_the_migration(migrated: Path) -> None:
    store = Store(migrated)
    unscreened = sorted(set(store.known_ids()) - set(screening.summary(store).index[
        screening.summary(store)["ta_decision"] != "unscreened"]))  # fmt: skip
    assert unscreened
    screening.decide(store, unscreened[:1], decision="include", reviewer="ana")
    assert screening.summary(Store(migrated)).at[unscreened[0], "ta_decision"] in (
        "include", "conflict")  # fmt: skip


def test_a_migration_that_cannot_write_leaves_the_old_files_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records file is replaced whole or not at all; on failure the copy kept beside it
    is the old table too, and the next open tries again."""
    data = tmp_path / "data"
    shutil.copytree(OLD / "data", data)
    before = (data / "records.parquet").read_bytes()

    def full_disk(self: ParquetRecords, table: object) -> None:
        raise StoreError("The disk is full: records.parquet could not be written.")

    monkeypatch.setattr(ParquetRecords, "replace", full_disk)
    with pytest.raises(StoreError, match="disk is full"):
        Store(data).records()
    assert (data / "records.parquet").read_bytes() == before
    assert (data / "records.before-upgrade.parquet").read_bytes() == before
    monkeypatch.undo()
    assert Store(data).records()["record_id"].tolist() == sorted(
        pq.read_table(OLD / "data" / "records.parquet").column("pmid").to_pylist())  # fmt: skip
    assert not (data / "records.before-upgrade.parquet").exists()
