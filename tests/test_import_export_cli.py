"""`tracker import`, `tracker export` and `tracker runs`, through the real command line."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rispy
from bibtexparser.entrypoint import parse_string
from click.testing import CliRunner

from tracker.cli import main
from tracker.store import Store

PUBMED_FILES = ("pubmed1.xml", "pubmed2.xml", "pubmed4.xml", "pubmed5.xml", "pubmed6.xml",
                "pubmed7.xml")  # fmt: skip


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_stores_every_record_and_says_how_many_were_new(
    eutils_fixtures: Path, data_dir: Path
) -> None:
    files = [str(eutils_fixtures / name) for name in PUBMED_FILES]
    code, out, err = run("import", *files, "--data-dir", str(data_dir))
    assert (code, err) == (0, "")
    assert out.strip() == "PubMed: 8 records: 8 new, 0 updated"
    assert len(Store(data_dir).known_ids()) == 8


def test_importing_the_same_file_twice_gives_identical_records_bytes(
    eutils_fixtures: Path, data_dir: Path
) -> None:
    path = str(eutils_fixtures / "pubmed4.xml")
    run("import", path, "--data-dir", str(data_dir))
    first = (data_dir / "records.parquet").read_bytes()
    code, out, _ = run("import", path, "--data-dir", str(data_dir))
    assert code == 0
    assert out.strip() == "PubMed: 1 records: 0 new, 0 updated, 1 unchanged"
    assert (data_dir / "records.parquet").read_bytes() == first


def test_each_import_call_is_one_run_in_the_log(eutils_fixtures: Path, data_dir: Path) -> None:
    run("import", str(eutils_fixtures / "pubmed1.xml"), "--data-dir", str(data_dir))
    run("import", str(eutils_fixtures / "pubmed2.xml"), str(eutils_fixtures / "pubmed6.xml"),
        "--data-dir", str(data_dir))  # fmt: skip
    code, out, _ = run("runs", "--json", "--data-dir", str(data_dir))
    runs = json.loads(out)
    assert code == 0
    assert [(r["kind"], r["status"], r["new"]) for r in runs] == [
        ("import", "succeeded", 2),
        ("import", "succeeded", 3),
    ]
    assert runs[1]["query"] == "import pubmed2.xml, pubmed6.xml"
    code, table, _ = run("runs", "--data-dir", str(data_dir))
    assert code == 0 and "succeeded" in table and "import pubmed1.xml" in table


def test_a_truncated_file_is_refused_names_the_file_and_changes_nothing(
    eutils_fixtures: Path, data_dir: Path, tmp_path: Path
) -> None:
    run("import", str(eutils_fixtures / "pubmed1.xml"), "--data-dir", str(data_dir))
    before = (data_dir / "records.parquet").read_bytes()
    cut = tmp_path / "cut.xml"
    data = (eutils_fixtures / "pubmed4.xml").read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    good = str(eutils_fixtures / "pubmed2.xml")
    code, out, err = run("import", good, str(cut), "--data-dir", str(data_dir))
    assert code == 1
    assert out == ""
    assert err.startswith("Error: ") and "cut.xml" in err and "line" in err
    assert "Traceback" not in err
    assert (data_dir / "records.parquet").read_bytes() == before
    statuses = [r["status"] for r in json.loads(run("runs", "--json", "--data-dir",
                                                    str(data_dir))[1])]  # fmt: skip
    assert statuses == ["succeeded", "failed"]


def test_a_missing_file_is_a_one_line_error(data_dir: Path) -> None:
    code, _, err = run("import", "no-such-file.xml", "--data-dir", str(data_dir))
    assert code == 1
    assert err == "Error: no-such-file.xml does not exist or is not a file: check the path.\n"


def test_export_writes_one_csv_row_per_stored_record(
    eutils_fixtures: Path, data_dir: Path, tmp_path: Path
) -> None:
    files = [str(eutils_fixtures / name) for name in PUBMED_FILES]
    run("import", *files, "--data-dir", str(data_dir))
    out = tmp_path / "review.csv"
    code, _, err = run("export", "--format", "csv", "--out", str(out), "--data-dir", str(data_dir))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    exported = [int(row["PMID"]) for row in rows]
    assert sorted(exported) == exported
    assert set(exported) == Store(data_dir).known_ids()
    assert len(exported) == len(set(exported)) == 8


def test_export_without_out_writes_the_csv_to_stdout(eutils_fixtures: Path, data_dir: Path) -> None:
    run("import", str(eutils_fixtures / "pubmed7.xml"), "--data-dir", str(data_dir))
    result = CliRunner().invoke(main, ["export", "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbfRecord ID,PMID,Title,Authors")
    assert b"29963580" in result.stdout_bytes


def _big_pubmed_file(fixtures: Path, path: Path, copies: int) -> None:
    """Many re-numbered copies of the real records, so the import takes a while to write."""
    articles = []
    for name in PUBMED_FILES:
        text = (fixtures / name).read_text(encoding="utf-8")
        articles += re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, flags=re.S)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0"?>\n<PubmedArticleSet>\n')
        for n in range(copies):
            template = articles[n % len(articles)]
            out.write(
                re.sub(
                    r'<PMID Version="1">\d+</PMID>',
                    f'<PMID Version="1">{10_000_000 + n}</PMID>',
                    template,
                    count=1,
                )
            )
        out.write("</PubmedArticleSet>\n")  # fmt: skip


@pytest.mark.slow
def test_sigkill_during_import_leaves_the_previous_store_readable(
    eutils_fixtures: Path, data_dir: Path, tmp_path: Path
) -> None:
    run("import", str(eutils_fixtures / "pubmed1.xml"), "--data-dir", str(data_dir))
    before = (data_dir / "records.parquet").read_bytes()
    big = tmp_path / "big.xml"
    _big_pubmed_file(eutils_fixtures, big, 20_000)
    tracker = Path(sys.executable).with_name("tracker")
    outcomes = set()
    for delay in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
        child = subprocess.Popen([str(tracker), "import", str(big), "--data-dir", str(data_dir)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        store = Store(data_dir)
        pmids = store.known_ids()  # readable, whatever the moment of the kill
        outcomes.add(len(pmids))
        assert len(pmids) in (2, 20_002)
        if len(pmids) == 2:
            assert (data_dir / "records.parquet").read_bytes() == before
    assert 2 in outcomes, "at least one kill must land before the new file replaced the old"
    statuses = set(Store(data_dir).runs()["status"])
    assert statuses <= {"succeeded", "failed"}, "killed runs read as failed, not running"


@pytest.mark.parametrize(("fmt", "marker"), [("ris", b"TY  - JOUR"), ("bibtex", b"@article{")])
def test_export_writes_ris_and_bibtex_with_one_entry_per_record(
    eutils_fixtures: Path, data_dir: Path, fmt: str, marker: bytes
) -> None:
    files = [str(eutils_fixtures / name) for name in PUBMED_FILES]
    run("import", *files, "--data-dir", str(data_dir))
    result = CliRunner().invoke(main, ["export", "--format", fmt, "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    assert result.stdout_bytes.count(marker) == 8


def _exported_pmids(data_dir: Path, fmt: str, *filters: str) -> list[int]:
    """The PMIDs one export writes, read back by each format's own reader."""
    result = CliRunner().invoke(main, ["export", "--format", fmt, *filters,
                                       "--data-dir", str(data_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.stdout_bytes.decode("utf-8-sig")
    if fmt == "csv":
        return [int(row["PMID"]) for row in csv.DictReader(io.StringIO(text, newline=""))]
    if fmt == "ris":
        return [int(entry["accession_number"]) for entry in rispy.loads(text)]
    return [int(entry["pmid"]) for entry in parse_string(text).entries]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ((), [9997, 11700088, 11748933, 12091962, 27797938, 28775130, 29963580, 30108519]),
        (("--year", "2017-2018"), [27797938, 28775130, 29963580, 30108519]),
        (("--year", "2001"), [11700088, 11748933]),
        (("--decision", "include"), [9997, 27797938, 29963580]),
        (("--decision", "exclude"), [28775130]),
        (("--decision", "unscreened"), [11700088, 11748933, 12091962, 30108519]),
        (("--decision", "include", "--stage", "full-text"), [29963580]),
        (("--tag", "rct"), [9997, 27797938]),
        (("--reviewer", "bo"), [29963580]),
        (("--decision", "include", "--year", "2017-2018"), [27797938, 29963580]),
    ],
)
def test_every_filter_selects_the_same_records_in_csv_ris_and_bibtex(
    eutils_fixtures: Path, data_dir: Path, filters: tuple[str, ...], expected: list[int]
) -> None:
    run("import", *[str(eutils_fixtures / n) for n in PUBMED_FILES], "--data-dir", str(data_dir))
    where = ["--data-dir", str(data_dir)]
    for args in (
        ["screen", "9997", "27797938", "29963580", "--decision", "include", "--reviewer", "ana"],
        ["screen", "28775130", "--decision", "exclude", "--reason", "duplicate",
         "--reviewer", "ana"],
        ["screen", "29963580", "--decision", "include", "--stage", "full-text",
         "--reviewer", "bo"],
        ["tag", "9997", "--add", "rct", "--reviewer", "ana"],
        ["tag", "27797938", "--add", "rct", "--reviewer", "ana"],
    ):  # fmt: skip
        assert run(*args, *where)[0] == 0, args
    for fmt in ("csv", "ris", "bibtex"):
        assert _exported_pmids(data_dir, fmt, *filters) == expected, fmt


@pytest.mark.parametrize("bad", ["20x", "2020-2015", "2015-20"])
def test_a_bad_year_range_is_a_one_line_error(data_dir: Path, bad: str) -> None:
    code, out, err = run("export", "--year", bad, "--data-dir", str(data_dir))
    assert (code, out) == (1, "")
    assert err.startswith((f"Error: --year {bad}", f"Error: --year '{bad}'"))
    assert err.count("\n") == 1
