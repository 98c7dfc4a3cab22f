"""The screening commands as a researcher types them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.importer import import_files
from tracker.store import Store


@pytest.fixture
def data(eutils_fixtures: Path, data_dir: Path) -> Path:
    import_files(Store(data_dir), sorted(eutils_fixtures.glob("pubmed*.xml")))
    return data_dir


def run(data: Path, *args: str, reviewer: str = "ana") -> tuple[int, str, str]:
    env = {"TRACKER_REVIEWER": reviewer}
    result = CliRunner(env=env).invoke(main, [*args, "--data-dir", str(data)])
    return result.exit_code, result.stdout, result.stderr


def exported(data: Path, *filters: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(main, ["export", "--data-dir", str(data), *filters])
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline="")))


def test_screen_tag_note_then_export_fills_the_screening_columns(data: Path) -> None:
    assert run(data, "screen", "9997", "29963580", "--decision", "include")[0] == 0
    code, out, _ = run(data, "screen", "12091962", "--decision", "exclude",
                       "--reason", "not chronic pain")  # fmt: skip
    assert code == 0 and out == "1 record(s) marked exclude at title-abstract by ana.\n"
    run(data, "tag", "9997", "--add", "rct")
    run(data, "note", "9997", "=looks fine")
    rows = {r["PMID"]: r for r in exported(data)}
    assert len(rows) == 8
    assert (rows["9997"]["Decision"], rows["9997"]["Tags"], rows["9997"]["Notes"]) == (
        "include", "rct", "'=looks fine",
    )  # fmt: skip
    assert (rows["12091962"]["Decision"], rows["12091962"]["Exclusion Reason"]) == (
        "exclude", "not chronic pain",
    )  # fmt: skip
    assert rows["27797938"]["Decision"] == ""
    assert [r["PMID"] for r in exported(data, "--decision", "include")] == ["9997", "29963580"]
    assert [r["PMID"] for r in exported(data, "--tag", "rct")] == ["9997"]
    assert len(exported(data, "--decision", "unscreened")) == 5
    assert [r["PMID"] for r in exported(data, "--reviewer", "ana", "--decision", "exclude")] == [
        "12091962"
    ]


def test_an_unknown_pmid_is_a_one_line_error_that_changes_nothing(data: Path) -> None:
    code, _, err = run(data, "screen", "123", "--decision", "include")
    assert code == 1
    assert err.startswith("Error: Not in the store: PMID 123.")
    assert Store(data).events().empty
    code, _, err = run(data, "screen", "abc", "--decision", "include")
    assert (code, err) == (1, "Error: Not a PMID: abc. PMIDs are whole numbers.\n")


def test_a_missing_reviewer_is_refused(data: Path) -> None:
    code, _, err = run(data, "screen", "9997", "--decision", "include", reviewer="")
    assert code == 1 and "Pass --reviewer NAME" in err


def test_undo_conflicts_resolve_and_agreement(data: Path) -> None:
    run(data, "screen", "9997", "--decision", "include", reviewer="ana")
    run(data, "screen", "9997", "--decision", "exclude", "--reason", "wrong population",
        reviewer="ben")  # fmt: skip
    code, out, _ = run(data, "conflicts")
    assert (code, out) == (0, "9997\tana: include; ben: exclude\n")
    code, out, _ = run(data, "agreement", "--json")
    (pair,) = json.loads(out)
    assert (pair["both_decided"], pair["agreed"]) == (1, 0)
    run(data, "resolve", "9997", "--decision", "include", reviewer="cat")
    assert run(data, "conflicts")[1] == "No open conflicts at title-abstract.\n"
    code, out, _ = run(data, "undo", reviewer="cat")
    assert code == 0 and out.startswith("Undid resolve include on PMID 9997")
    assert run(data, "conflicts")[1].startswith("9997")


def test_prisma_prints_text_json_and_dot(data: Path) -> None:
    run(data, "screen", "9997", "--decision", "include")
    code, text, _ = run(data, "prisma")
    assert code == 0 and "Records identified from PubMed: 8" in text
    counts = json.loads(run(data, "prisma", "--format", "json")[1])
    assert (counts["identified"], counts["screened"], counts["sought"]) == (8, 8, 1)
    assert run(data, "prisma", "--format", "dot")[1].startswith("digraph PRISMA {")


def test_annotations_export_then_import_elsewhere(
    data: Path, eutils_fixtures: Path, tmp_path: Path
) -> None:
    run(data, "screen", "9997", "--decision", "maybe")
    out = tmp_path / "notes.csv"
    assert run(data, "annotations", "export", "--out", str(out))[0] == 0
    other = tmp_path / "other"
    import_files(Store(other), sorted(eutils_fixtures.glob("pubmed*.xml")))
    code, msg, _ = run(other, "annotations", "import", str(out))
    assert (code, msg) == (0, "1 annotation event(s) imported.\n")
    assert [r["Decision"] for r in exported(other, "--decision", "maybe")] == ["maybe"]


def test_reasons_list_and_add(data: Path) -> None:
    assert "wrong population" in run(data, "reasons", "list")[1]
    run(data, "reasons", "add", "conference abstract only")
    assert run(data, "reasons", "list")[1].rstrip().endswith("conference abstract only")


def test_duplicates_lists_and_confirms(data: Path) -> None:
    code, out, _ = run(data, "duplicates")
    assert (code, out) == (0, "No likely duplicates.\n")
    code, out, _ = run(data, "duplicates", "--confirm", "9997", "--of", "12091962")
    assert code == 0 and "confirmed" in out
