"""A file that is not an accepted export, or is damaged, is refused whole, naming file and line.

The reader returns a whole file or raises, so nothing of a refused file can reach the store;
the last test checks that through ``tracker import`` into a real store.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import Store
from tracker.cli import main
from tracker.formats import FileTooLargeError, ImportRefusedError, read_file
from tracker.formats.reader import MAX_IMPORT_BYTES

IMPORTS = Path(__file__).resolve().parent / "imports"
Maker = Callable[[Path], Path]


def _write(name: str, data: bytes) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _from(name: str, change: Callable[[bytes], bytes], new_name: str | None = None) -> Maker:
    return lambda folder: _write(new_name or name, change((IMPORTS / name).read_bytes()))(folder)


def _huge(folder: Path) -> Path:
    """A sparse 200 MB file: refused by its size, so its (absent) content is never read."""
    path = folder / "huge.ris"
    with path.open("wb") as handle:
        handle.write(b"TY  - JOUR\n")
        handle.truncate(200 * 10**6)
    return path


def _drop_last_er(data: bytes) -> bytes:
    return data[: data.rstrip().rindex(b"ER  -")]


def _drop_first_er(data: bytes) -> bytes:
    return data.replace(b"ER  - \n", b"", 1)


CASES: dict[str, tuple[Maker, int | None, str]] = {
    "binary": (
        _write("export.ris", b"TY  - JOUR\n\x00\x01\x02\x03" + bytes(range(256))),
        2,
        "binary data",
    ),
    "pdf": (_write("export.ris", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), 1, "PDF"),
    "xlsx": (_write("scopus.csv", b"PK\x03\x04\x14\x00\x06\x00"), 1, "ZIP archive"),
    "truncated RIS": (_from("embase_ovid.ris", _drop_last_er), 37, "cut off (no ER line)"),
    "RIS missing an ER between records": (
        _from("embase_ovid.ris", _drop_first_er),
        23,
        "no ER line before the next record",
    ),
    "RIS with an ER alone": (
        _write("x.ris", b"TY  - JOUR\nER  - \nER  - \n"),
        3,
        "closes no record",
    ),
    "CSV without a title column": (
        _from("scopus.csv", lambda d: d.replace(b'"Title"', b'"T"')),
        1,
        "no title column (Title)",
    ),
    "Rayyan CSV without a title column": (
        _from("rayyan_articles.csv", lambda d: d.replace(b"key,title,", b"key,name,")),
        1,
        "no title column (title)",
    ),
    "CSV of no accepted tool": (
        _write("list.csv", b"name,year\nketamine,2020\n"),
        1,
        "none of the accepted formats",
    ),
    "CSV cut off inside a quote": (
        _from("scopus.csv", lambda d: d[: d.index(b"Background") + 20]),
        2,
        "damaged",
    ),
    "Scopus row with too few cells": (
        _from("scopus.csv", lambda d: d + b'"Okafor C.","","","Cut row","2020"\n'),
        4,
        "cut off or a quote is unbalanced",
    ),
    "MEDLINE cut off before SO": (
        _from("pubmed.nbib", lambda d: d[: d.rindex(b"PMC - ")]),
        61,
        "stops before its SO line",
    ),
    "MEDLINE with a stray line": (
        _from("pubmed.nbib", lambda d: d.replace(b"OWN - NLM", b"<html>", 1)),
        2,
        "neither a tag nor a continuation",
    ),
    "empty": (_write("empty.ris", b"\n\n  \n"), 1, "empty"),
    "HTML error page": (
        _write("export.ris", b"<!DOCTYPE html><html><body>Session expired"),
        1,
        "XML file that is not PubMed XML",
    ),
    "PubMed XML cut off": (
        _write(
            "pubmed.xml",
            b"<?xml version='1.0'?>\n<PubmedArticleSet>\n"
            b"<PubmedArticle><MedlineCitation><PMID>1</PMID>",
        ),
        3,
        "PubMed XML",
    ),
    "200 MB file": (_huge, None, "more than the 100 MiB"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_naming_the_file_the_line_and_the_format_expected(
    case: str, tmp_path: Path
) -> None:
    make, line, words = CASES[case]
    path = make(tmp_path)
    with pytest.raises(ImportRefusedError) as caught:
        read_file(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert caught.value.line == line, message
    assert words in message, message
    assert "expected " in message and "Nothing was imported" in message
    assert "--" not in message and "tracker " not in message


def test_a_file_over_the_cap_is_refused_without_being_read(tmp_path: Path) -> None:
    path = _huge(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(FileTooLargeError) as caught:
            read_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.size == 200 * 10**6 and caught.value.cap == MAX_IMPORT_BYTES
    assert peak < 2**20  # reading 200 MB would have taken 200 MB


def test_the_cap_is_a_setting_of_the_call(tmp_path: Path) -> None:
    path = IMPORTS / "scopus.csv"
    assert read_file(path, max_bytes=path.stat().st_size).records
    with pytest.raises(FileTooLargeError):
        read_file(path, max_bytes=path.stat().st_size - 1)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRefusedError, match="no such file"):
        read_file(tmp_path / "absent.ris")


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_file_among_good_ones_stores_nothing_from_any_of_them(
    case: str, tmp_path: Path
) -> None:
    """``tracker import good.ris bad`` into a library that has records: the library is byte
    for byte as it was, the failed run is in the log with the reason, the message names the
    bad file."""
    data = tmp_path / "data"
    good = IMPORTS / "embase_ovid.ris"
    first = CliRunner().invoke(main, ["import", str(IMPORTS / "wos.ris"), "--data-dir", str(data)])
    assert first.exit_code == 0, first.output
    before = (data / "records.parquet").read_bytes()
    bad = CASES[case][0](tmp_path)
    result = CliRunner().invoke(main, ["import", str(good), str(bad), "--data-dir", str(data)])
    assert result.exit_code == 1 and bad.name in result.stderr, result.output
    assert (data / "records.parquet").read_bytes() == before
    runs = Store(data).runs()
    assert runs["status"].tolist() == ["succeeded", "failed"]
    assert bad.name in runs["error"].iloc[-1]
