"""Annotations as CSV: exported, imported elsewhere, imported again, and from other tools."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tracker import annotation_files, decision_log, duplicates, screening
from tracker.errors import ScreeningError
from tracker.records import Article
from tracker.store import Store

pytestmark = pytest.mark.both_backends


def stored(data_dir: Path, count: int = 20) -> Store:
    store = Store(data_dir)
    store.upsert(Article(pmid=p, title=f"Study {p}") for p in range(1, count + 1))
    return store


@pytest.fixture
def store(data_dir: Path) -> Store:
    return stored(data_dir)


def screen_a_little(store: Store) -> None:
    """A bit of everything: decisions, an undo, a conflict resolved, tags, notes, reasons."""
    screening.decide(store, [1, 2], decision="include", reviewer="ana")
    screening.decide(store, [3], decision="exclude", reviewer="ben", reason="other", note="=odd")
    screening.decide(store, [4], decision="maybe", reviewer="ana")
    screening.undo(store, reviewer="ana")
    screening.decide(store, [2], decision="exclude", reviewer="ben", reason="duplicate")
    screening.resolve(store, 2, decision="include", reviewer="cat", stage="title-abstract")
    screening.decide(store, [1], decision="include", reviewer="ana", stage="full-text")
    screening.tag(store, [1], reviewer="ana", add="rct")
    screening.tag(store, [1, 5], reviewer="ana", add="'quoted'")
    screening.tag(store, [5], reviewer="ana", remove="'quoted'")
    screening.note(store, 2, "+ check the appendix", reviewer="ben")
    screening.add_exclusion_reason(store, "conference abstract", reviewer="ana")
    screening.decide(store, [6], decision="exclude", reviewer="ana", reason="conference abstract")
    duplicates.confirm(store, 8, duplicate_of=7, reviewer="ana")


def exported(store: Store, path: Path) -> Path:
    path.write_bytes(annotation_files.export_csv(store))
    return path


def test_export_then_import_into_a_fresh_store_gives_the_same_state(
    store: Store, tmp_path: Path
) -> None:
    screen_a_little(store)
    path = exported(store, tmp_path / "annotations.csv")
    fresh = stored(tmp_path / "fresh")
    annotation_files.import_csv(fresh, path)
    assert screening.summary(fresh).equals(screening.summary(store))
    assert screening.exclusion_reasons(fresh) == screening.exclusion_reasons(store)
    assert duplicates.confirmed(fresh) == {8}


def test_the_file_has_one_row_per_event_in_force_with_formulas_made_inert(
    store: Store, tmp_path: Path
) -> None:
    screen_a_little(store)
    text = annotation_files.export_csv(store).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(annotation_files.COLUMNS)
    live = decision_log.live_events(store.events())
    assert len(rows) == len(live) and "undo" not in {r["action"] for r in rows}
    assert {r["note"] for r in rows} >= {"'=odd", "'+ check the appendix"}
    assert "''quoted'" in {r["value"] for r in rows}


def test_importing_the_same_file_twice_changes_nothing_more(store: Store, tmp_path: Path) -> None:
    screen_a_little(store)
    path = exported(store, tmp_path / "annotations.csv")
    fresh = stored(tmp_path / "fresh")
    first = annotation_files.import_csv(fresh, path)
    assert annotation_files.import_csv(fresh, path) == 0
    assert len(fresh.events()) == first
    assert annotation_files.import_csv(store, path) == 0, "the source store has them all"


def test_an_import_does_not_bring_back_what_was_undone_here(store: Store, tmp_path: Path) -> None:
    screening.decide(store, [1], decision="include", reviewer="ana")
    path = exported(store, tmp_path / "annotations.csv")
    screening.undo(store, reviewer="ana")
    annotation_files.import_csv(store, path)
    assert screening.summary(store).loc[1, "decision"] == "unscreened"


def test_another_tool_s_decisions_import_with_tags_and_notes(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rayyan.csv"
    path.write_text(
        "PMID,Decision,Reason,Tags,Note,Stage\n1,Include,,rct; nasal,good,\n"
        "2,exclude,Wrong Population,,,full-text\n",
        encoding="utf-8",
    )
    assert annotation_files.import_csv(store, path, reviewer="import") == 5
    first, second = (screening.summary(store).loc[p].to_dict() for p in (1, 2))
    assert (first["tags"], first["notes"], first["reviewers"]) == (
        ["nasal", "rct"],
        ["good"],
        ["import"],
    )
    assert (second["ft_decision"], second["exclusion_reason"]) == ("exclude", "wrong population")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pmid,decision,reviewer\n1,include,ana\n999,include,ana\n", "PMID 999"),
        ("pmid,decision,reviewer\n1,include,ana\n2,perhaps,ana\n",
         "line 3: Unknown decision 'perhaps'"),
        ("pmid,decision\n1,include\n", "line 2: Who is screening"),
        ("pmid,decision,reviewer\nabc,include,ana\n", "line 2: 'abc' is not a record id"),
        ("title,year\nx,2020\n", "no record_id .or pmid. and action/decision columns"),
        ("created_at,reviewer,pmid,stage,action,value,reason,note\n"
         ",ana,1,title-abstract,decide,exclude,boring,\n", "Unknown exclusion reason 'boring'"),
        ("created_at,reviewer,pmid,stage,action,value,reason,note\n"
         ",ana,1,abstract,decide,include,,\n", "Unknown stage 'abstract'"),
        ("created_at,reviewer,pmid,stage,action,value,reason,note\n"
         ",ana,1,,delete,,,\n", "unknown action 'delete'"),
        ("created_at,reviewer,pmid,stage,action,value,reason,note\n"
         ",ana,1,,tag-add,,,\n", "needs the tag"),
        ("created_at,reviewer,pmid,stage,action,value,reason,note\n"
         ",ana,1,,duplicate-confirm,555,,\n", "PMID 555"),
    ],
)  # fmt: skip
def test_a_file_with_one_bad_row_changes_nothing(
    store: Store, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScreeningError, match=message):
        annotation_files.import_csv(store, path)
    assert store.events().empty


def test_a_reason_added_earlier_in_the_same_file_may_be_used_below_it(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "reasons.csv"
    path.write_text(
        "created_at,reviewer,pmid,stage,action,value,reason,note\n"
        ",ana,,,reason-add,paediatric,,\n"
        ",ana,3,title-abstract,decide,exclude,Paediatric,\n",
        encoding="utf-8",
    )
    assert annotation_files.import_csv(store, path) == 2
    assert screening.summary(store).loc[3, "exclusion_reason"] == "paediatric"


@pytest.mark.parametrize("cell", ["=1+1", "'=1+1", "''", "'plain", "plain", "-3", "@x", "'"])
def test_escaping_cells_round_trips(cell: str) -> None:
    escaped = annotation_files.escape(cell)
    assert not escaped.startswith(("=", "+", "-", "@"))
    assert annotation_files.unescape(escaped) == cell
