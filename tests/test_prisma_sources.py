"""PRISMA 2020's identification box split as its template has it: records from databases and
from registers, each with its n and each source listed, on a real store holding PubMed,
Embase and ClinicalTrials.gov rows from real runs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import duplicates, prisma
from tracker.cli import main
from tracker.records import Article
from tracker.source_record import RecordKind, SourceRecord
from tracker.store import Store

PUBMED_IDS = (11, 12, 13)


def _embase(n: int) -> SourceRecord:
    return SourceRecord(source="Embase", format="RIS", origin="embase.ris",
                        title=f"Ketamine report {n}", accessions={"embase": f"L{n}"})  # fmt: skip


def _trial(n: int) -> SourceRecord:
    return SourceRecord(source="ClinicalTrials.gov", format="ClinicalTrials.gov API v2",
                        origin="ClinicalTrials.gov API", kind=RecordKind.TRIAL,
                        title=f"Esketamine trial {n}",
                        accessions={"nct": f"NCT0000000{n}"})  # fmt: skip


@pytest.fixture
def store(data_dir: Path) -> Store:
    """Three PubMed records (a fetch), four Embase records (an import, one of them a copy of
    PubMed 11, confirmed) and two ClinicalTrials.gov studies (a registry search)."""
    store = Store(data_dir)
    run = store.begin_run(kind="fetch", query="esketamine", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in PUBMED_IDS])
    run = store.begin_run(kind="import", query="import embase.ris", api_key_used=False,
                          source="Embase")  # fmt: skip
    store.complete_run(run, [], records=[_embase(n) for n in range(4)])
    run = store.begin_run(kind="fetch", query="esketamine", api_key_used=False,
                          source="ClinicalTrials.gov")  # fmt: skip
    store.complete_run(run, [], records=[_trial(n) for n in range(2)])
    records = store.records()
    copy = int(records.loc[records["title"] == "Ketamine report 0", "record_id"].iloc[0])
    duplicates.confirm(store, copy, duplicate_of=11, reviewer="ana")
    return store


def test_identified_records_are_split_into_databases_and_registers(store: Store) -> None:
    c = prisma.counts(store)
    assert c.databases == {"Embase": 4, "PubMed": 3}
    assert c.registers == {"ClinicalTrials.gov": 2}
    assert c.identified == c.identified_databases + c.identified_registers == 9
    assert c.duplicates_removed == 1 and c.screened == 8
    assert c.problems() == []


def test_the_sources_counted_are_the_stored_rows_of_each_source(store: Store) -> None:
    c = prisma.counts(store)
    by_source = store.records()["source"].value_counts().to_dict()
    assert {**c.databases, **c.registers} == by_source
    assert sum(by_source.values()) == len(store.known_ids()) == c.identified


def test_an_updated_review_splits_only_the_records_found_after_the_previous_version(
    store: Store,
) -> None:
    c = prisma.counts(store, since_run=2)
    assert (c.databases, c.registers, c.identified) == ({}, {"ClinicalTrials.gov": 2}, 2)
    assert c.problems() == []


def test_every_run_is_listed_with_the_database_it_searched(store: Store) -> None:
    c = prisma.counts(store)
    assert [(s.run_id, s.source, s.kind) for s in c.searches] == [
        (1, "PubMed", "fetch"), (2, "Embase", "import"), (3, "ClinicalTrials.gov", "fetch"),
    ]  # fmt: skip


def test_the_text_lists_databases_then_registers_each_with_its_n(store: Store) -> None:
    text = prisma.to_text(prisma.counts(store))
    block = text.split("Identification\n", 1)[1].split("  Duplicate", 1)[0]
    assert block.splitlines()[:6] == [
        "  Records identified: 9 (3 search runs), from:",
        "    Databases (n = 7)",
        "      Embase (n = 4)",
        "      PubMed (n = 3)",
        "    Registers (n = 2)",
        "      ClinicalTrials.gov (n = 2)",
    ]
    assert "run 2 (" in text and "Embase import): 4 retrieved, 4 new" in text


def test_the_json_carries_each_source_and_both_totals(store: Store) -> None:
    data = json.loads(prisma.to_json(prisma.counts(store)))
    assert data["databases"] == {"Embase": 4, "PubMed": 3}
    assert data["registers"] == {"ClinicalTrials.gov": 2}
    assert data["identified_databases"] + data["identified_registers"] == data["identified"]
    assert [s["source"] for s in data["searches"]] == ["PubMed", "Embase", "ClinicalTrials.gov"]


def test_the_diagram_s_identification_box_names_databases_and_registers(store: Store) -> None:
    dot = prisma.to_dot(prisma.counts(store))
    label = re.search(r'^  identified \[label="((?:[^"\\]|\\.)*)"\];$', dot, flags=re.M)
    assert label is not None
    assert label.group(1).split("\\l") == [
        "Records identified (n = 9; 3 search runs) from:",
        "Databases (n = 7)",
        "  Embase (n = 4)",
        "  PubMed (n = 3)",
        "Registers (n = 2)",
        "  ClinicalTrials.gov (n = 2)",
        "",
    ]


def test_tracker_prisma_json_shows_the_split(store: Store) -> None:
    result = CliRunner().invoke(main, ["prisma", "--format", "json", "--data-dir",
                                       str(store.data_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["identified_databases"], data["identified_registers"]) == (7, 2)


def test_a_count_that_does_not_add_up_is_reported(store: Store) -> None:
    """The check is real: a split that misses a source is a problem, named."""
    broken = dataclasses.replace(prisma.counts(store), registers={})
    assert broken.problems() == ["identified = databases + registers"]
