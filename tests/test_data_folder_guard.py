"""Nothing outside the store's modules opens or stats a file in the data folder.

Only :mod:`tracker.data_folder` and :mod:`tracker.sqlite_log` (the embedded backend) know
that the store is files; everything else asks :class:`tracker.store.Store`, so a server backend
leaves no cache stale and no file half-read. Two checks: a static one over the code (no module
reaches for the store's paths or stats files), and a live one that watches every file Python
opens while a whole review runs, and names the module that asked.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tracker import claims, dashboard, prisma, screening, search_log, suggestions
from tracker.citations import load as load_metrics
from tracker.export import to_csv_bytes
from tracker.importer import import_files
from tracker.store import Store
from tracker.vocabulary import load_vocabulary, write_default

ROOT = Path(__file__).resolve().parents[1]
STORE_MODULES = {"store.py", "data_folder.py", "sqlite_log.py", "memory_store.py"}
PATH_ATTRIBUTES = {"data_dir", "records_path", "db_path", "side_table_path"}
FILE_PROBES = {"stat", "exists", "is_file", "is_dir", "glob", "st_mtime_ns", "st_mtime"}


def _shells_and_library() -> list[Path]:
    library = [p for p in sorted((ROOT / "tracker").rglob("*.py")) if p.name not in STORE_MODULES]
    views = sorted((ROOT / "views").rglob("*.py")) if (ROOT / "views").is_dir() else []
    return [*library, ROOT / "app.py", *views]


def test_no_module_reaches_for_the_stores_paths() -> None:
    """``settings.data_dir`` (where to open the store) is fine; a store's paths are not."""
    offenders = []
    checked = _shells_and_library()
    assert len(checked) > 25
    for path in checked:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute) or node.attr not in PATH_ATTRIBUTES:
                continue
            owner = ast.unparse(node.value)
            if not owner.lower().endswith("settings") and "Settings.from_env" not in owner:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []


def test_no_module_outside_the_store_stats_files_of_the_store() -> None:
    """File probes outside the store are only on files the user names (imports, exports)."""
    allowed = {  # each reads or writes a file a person chose, never the data folder
        "importer.py", "parse.py", "export.py", "annotation_files.py", "vocabulary.py",
        "suggestions.py", "tagging.py", "labelled_dataset.py", "simulation_report.py",
    }  # fmt: skip
    offenders = []
    for path in _shells_and_library():
        if path.name in allowed or "cli" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in FILE_PROBES:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []


class _Watch:
    """Every ``open`` of a file under ``folder``, with the tracker module that asked for it."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder.resolve())
        self.active = False
        self.seen: list[tuple[str, str]] = []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in {"open", "sqlite3.connect"} or not args:
            return
        target = args[0]
        if not isinstance(target, str | Path) or not str(target).startswith(self.folder):
            return
        self.seen.append((Path(str(target)).name, _asking_module(sys._getframe(1))))


def _asking_module(frame: FrameType | None) -> str:
    """The innermost frame in tracker's own code (the library, app.py or the views)."""
    while frame is not None:
        name = Path(frame.f_code.co_filename)
        if ROOT in name.parents and "tests" not in name.parts and ".venv" not in name.parts:
            return name.name
        frame = frame.f_back
    return "(outside tracker)"


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[_Watch]:
    watcher = _Watch(tmp_path / "data")
    sys.addaudithook(watcher)  # hooks cannot be removed: this one goes quiet after the test
    watcher.active = True
    yield watcher
    watcher.active = False


def test_a_whole_review_opens_data_files_only_through_the_store(
    watch: _Watch, tmp_path: Path, eutils_fixtures: Path
) -> None:
    store = Store(tmp_path / "data")
    import_files(store, [eutils_fixtures / "pubmed1.xml"])
    pmid = int(store.records()["record_id"].iloc[0])
    screening.decide(store, [pmid], decision="include", reviewer="ana")
    screening.tag(store, [pmid], reviewer="ana", add="dose")
    write_default(store)
    vocabulary = load_vocabulary(store)
    suggestions.review_state(store, vocabulary=vocabulary)
    claims.claims_view(store, "all")
    dashboard.load_library(store)
    load_metrics(store)
    to_csv_bytes(store.records(), screening.current_annotations(store))
    prisma.counts(store)
    search_log.search_log(store.runs())
    store.stamp()
    opened = {name for name, _ in watch.seen}
    assert {"tracker.sqlite", "vocabulary.toml"} <= opened, "the watch saw the store at work"
    outside = [(name, who) for name, who in watch.seen if who not in STORE_MODULES]
    assert outside == []
