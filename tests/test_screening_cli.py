"""The screening commands as a researcher types them, on records imported from real PubMed XML."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backend_choice import child_env
from click.testing import CliRunner

from tracker.cli import main
from tracker.importer import import_files
from tracker.store import Store

pytestmark = pytest.mark.both_backends

PMIDS = ["9997", "11700088", "11748933", "12091962", "27797938", "28775130", "29963580", "30108519"]


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
    assert (code, out) == (0, "1 record(s) marked exclude at title-abstract by ana.\n")
    assert run(data, "tag", "9997", "29963580", "--add", "rct")[1] == "added tag on 2 record(s).\n"
    assert run(data, "note", "9997", "=looks fine")[1] == "Note added to PMID 9997.\n"
    rows = {r["PMID"]: r for r in exported(data)}
    assert len(rows) == 8
    assert (rows["9997"]["Decision"], rows["9997"]["Tags"], rows["9997"]["Notes"]) == (
        "include", "rct", "'=looks fine",
    )  # fmt: skip
    assert (rows["12091962"]["Decision"], rows["12091962"]["Exclusion Reason"]) == (
        "exclude", "not chronic pain",
    )  # fmt: skip
    assert rows["27797938"]["Decision"] == ""


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--decision", "include"], ["9997", "29963580"]),
        (["--decision", "include", "--decision", "exclude"], ["9997", "12091962", "29963580"]),
        (["--tag", "rct"], ["9997"]),
        (["--tag", "rct", "--tag", "nasal"], []),
        (["--reviewer", "ben"], ["29963580"]),
        (["--reviewer", "ana", "--decision", "exclude"], ["12091962"]),
        (["--stage", "full-text", "--decision", "include"], ["29963580"]),
        (["--stage", "title-abstract", "--decision", "include"], ["9997", "29963580"]),
        (["--stage", "full-text", "--decision", "unscreened"], [*PMIDS[:6], PMIDS[7]]),
    ],
)
def test_export_filters_choose_exactly_the_matching_records(
    data: Path, filters: list[str], expected: list[str]
) -> None:
    run(data, "screen", "9997", "29963580", "--decision", "include")
    run(data, "screen", "12091962", "--decision", "exclude", "--reason", "not chronic pain")
    run(data, "screen", "29963580", "--decision", "maybe", reviewer="ben")
    run(data, "resolve", "29963580", "--decision", "include", reviewer="cat")
    run(data, "screen", "29963580", "--decision", "include", "--stage", "full-text")
    run(data, "tag", "9997", "--add", "rct")
    assert [r["PMID"] for r in exported(data, *filters)] == expected


def test_the_unscreened_filter_and_the_rest_together_cover_every_record_once(data: Path) -> None:
    run(data, "screen", "9997", "29963580", "--decision", "include")
    unscreened = {r["PMID"] for r in exported(data, "--decision", "unscreened")}
    included = {r["PMID"] for r in exported(data, "--decision", "include")}
    assert len(unscreened) == 6 and not unscreened & included
    assert len(unscreened | included) == len(exported(data))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["screen", "123", "--decision", "include"], "Error: Not in the store: PMID 123."),
        (["screen", "abc", "--decision", "include"],
         "Error: Not a PMID: abc. PMIDs are whole numbers.\n"),
        (["screen", "9997", "--decision", "exclude", "--reason", "boring"],
         "Error: Unknown exclusion reason 'boring'"),
        (["screen", "9997", "--decision", "exclude", "--reason", "other"],
         "Error: The reason 'other' needs a note"),
        (["tag", "9997"], "Error: Give exactly one of --add TAG or --remove TAG"),
        (["note", "9997", " "], "Error: The note is empty"),
        (["resolve", "555", "--decision", "include"], "Error: Not in the store: PMID 555."),
        (["duplicates", "--confirm", "9997", "--of", "9997"], "Error: A record cannot duplicate"),
        (["prisma", "--since-run", "99"], "Error: No finished run 99"),
    ],
)  # fmt: skip
def test_a_mistake_is_a_one_line_error_that_changes_nothing(
    data: Path, args: list[str], message: str
) -> None:
    code, _, err = run(data, *args)
    assert code == 1 and err.startswith(message) and err.count("\n") == 1
    assert Store(data).events().empty


def test_an_unknown_decision_or_stage_is_refused_by_the_command_line(data: Path) -> None:
    code, _, err = run(data, "screen", "9997", "--decision", "perhaps")
    assert code == 2 and "'perhaps' is not one of 'include', 'exclude', 'maybe'" in err
    code, _, err = run(data, "screen", "9997", "--decision", "include", "--stage", "abstract")
    assert code == 2 and "'abstract' is not one of 'title-abstract', 'full-text'" in err
    assert Store(data).events().empty


def test_a_missing_reviewer_is_refused(data: Path) -> None:
    code, _, err = run(data, "screen", "9997", "--decision", "include", reviewer="")
    assert code == 1 and "Pass --reviewer NAME" in err
    code, _, _ = run(data, "screen", "9997", "--decision", "include", "--reviewer", "dan",
                     reviewer="")  # fmt: skip
    assert code == 0 and Store(data).events()["reviewer"].tolist() == ["dan"]


def test_undo_conflicts_resolve_and_agreement(data: Path) -> None:
    run(data, "screen", "9997", "29963580", "--decision", "include", reviewer="ana")
    run(data, "screen", "9997", "--decision", "exclude", "--reason", "wrong population",
        reviewer="ben")  # fmt: skip
    run(data, "screen", "29963580", "--decision", "include", reviewer="ben")
    code, out, _ = run(data, "conflicts")
    assert code == 0 and "9997" in out and "ana: include; ben: exclude" in out
    assert "29963580" not in out
    assert json.loads(run(data, "conflicts", "--json")[1]) == [
        {"record_id": 9997, "decisions": "ana: include; ben: exclude", "reviewers": ["ana", "ben"]}
    ]
    (pair,) = json.loads(run(data, "agreement", "--json")[1])
    assert (pair["reviewer_a"], pair["reviewer_b"], pair["both_decided"], pair["agreed"]) == (
        "ana", "ben", 2, 1,
    )  # fmt: skip
    table = run(data, "agreement")[1]
    assert "ana / ben" in table and "50.0 %" in table and "0.000" in table
    run(data, "resolve", "9997", "--decision", "include", reviewer="cat")
    assert run(data, "conflicts")[1] == "No open conflicts at title-abstract.\n"
    code, out, _ = run(data, "undo", reviewer="cat")
    assert code == 0 and out.startswith("Undid resolve title-abstract include on PMID 9997")
    assert "9997" in run(data, "conflicts")[1]
    assert run(data, "undo", reviewer="dan")[1] == "Nothing of yours to undo.\n"


def test_prisma_prints_text_json_and_dot(data: Path) -> None:
    run(data, "screen", "9997", "--decision", "include")
    code, text, _ = run(data, "prisma")
    assert code == 0 and "Records identified: 8 (1 search run), from:" in text
    assert "      PubMed (n = 8)" in text
    counts = json.loads(run(data, "prisma", "--format", "json")[1])
    assert (counts["identified"], counts["screened"], counts["sought"]) == (8, 8, 1)
    assert (counts["screening_pending"], counts["assessment_pending"]) == (7, 1)
    assert run(data, "prisma", "--format", "dot")[1].startswith("digraph PRISMA {")


def test_annotations_export_then_import_elsewhere(
    data: Path, eutils_fixtures: Path, tmp_path: Path
) -> None:
    run(data, "screen", "9997", "--decision", "maybe")
    run(data, "tag", "9997", "--add", "dose")
    out = tmp_path / "notes.csv"
    assert run(data, "annotations", "export", "--out", str(out))[0] == 0
    other = tmp_path / "other"
    import_files(Store(other), sorted(eutils_fixtures.glob("pubmed*.xml")))
    code, msg, _ = run(other, "annotations", "import", str(out))
    assert (code, msg) == (0, "2 annotation event(s) imported.\n")
    assert run(other, "annotations", "import", str(out))[1] == "0 annotation event(s) imported.\n"
    assert exported(other, "--decision", "maybe") == exported(data, "--decision", "maybe")


def test_annotations_export_writes_csv_to_standard_output(data: Path) -> None:
    run(data, "screen", "9997", "--decision", "include")
    result = CliRunner().invoke(main, ["annotations", "export", "--data-dir", str(data)])
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert [(r["record_id"], r["action"], r["value"], r["reviewer"]) for r in rows] == [
        ("9997", "decide", "include", "ana")
    ]


def test_reasons_list_and_add(data: Path) -> None:
    assert "wrong population" in run(data, "reasons", "list")[1]
    assert run(data, "reasons", "add", "conference abstract only")[0] == 0
    assert run(data, "reasons", "list")[1].rstrip().endswith("conference abstract only")
    code, _, err = run(data, "reasons", "add", "Conference Abstract Only")
    assert code == 1 and "already an exclusion reason" in err


def test_duplicates_lists_confirms_and_rejects(data: Path) -> None:
    assert run(data, "duplicates") == (0, "No likely duplicates.\n", "")
    code, out, _ = run(data, "duplicates", "--confirm", "9997", "--of", "12091962")
    assert (code, out) == (0, "PMID 9997 confirmed as a duplicate of 12091962.\n")
    code, out, _ = run(data, "duplicates", "--reject", "9997", "--of", "12091962")
    assert (code, out) == (0, "PMID 9997 marked as not a duplicate of 12091962.\n")
    code, _, err = run(data, "duplicates", "--confirm", "9997")
    assert code == 2 and "--of PMID" in err
    assert json.loads(run(data, "duplicates", "--json")[1]) == [
        {"record_id": 9997, "duplicate_of": 12091962, "rule": "named by a reviewer", "detail": "",
         "status": "rejected"}
    ]  # fmt: skip


def test_the_installed_command_screens_and_exports_in_real_processes(data: Path) -> None:
    tracker = Path(sys.executable).with_name("tracker")
    common = ["--data-dir", str(data), "--reviewer", "ana"]
    env = {**os.environ, **child_env(data)}  # on a server, the URL of this folder's schema
    screen = subprocess.run([str(tracker), "screen", *PMIDS[:2], "--decision", "include", *common],
                            capture_output=True, text=True, check=False, env=env)  # fmt: skip
    assert (screen.returncode, screen.stderr) == (0, "")
    bad = subprocess.run([str(tracker), "screen", "1", "--decision", "include", *common],
                         capture_output=True, text=True, check=False, env=env)  # fmt: skip
    assert (bad.returncode, bad.stderr.splitlines()[0][:29]) == (1, "Error: Not in the store: PMID")
    export = subprocess.run([str(tracker), "export", "--decision", "include", "--data-dir",
                             str(data)], capture_output=True, check=False, env=env)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(export.stdout.decode("utf-8-sig"))))
    assert sorted(r["PMID"] for r in rows) == sorted(PMIDS[:2])
