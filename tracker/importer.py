"""Import PubMed XML files into the store as one run, all or nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tracker.errors import ConfigError, TrackerError
from tracker.parse import read_articles
from tracker.records import Article
from tracker.store import RunSummary, Store


def import_files(
    store: Store, paths: Sequence[str | os.PathLike[str]]
) -> tuple[RunSummary, list[int]]:
    """Parse every file, then store them together; a bad file leaves the store untouched.

    Returns the run summary and the PMIDs that the files list as deleted (MEDLINE update files),
    which are reported, never removed: a deleted record may carry screening decisions.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ConfigError("No file given: name one or more PubMed XML files (.xml or .xml.gz).")
    for path in files:
        if not path.is_file():
            raise ConfigError(f"{path} does not exist or is not a file: check the path.")
    run_id = store.begin_run(
        kind="import", query="import " + ", ".join(p.name for p in files), api_key_used=False
    )
    try:
        articles, deleted = _read_all(files)
        warnings = [f"{len(deleted)} PMIDs listed as deleted by NCBI: kept"] if deleted else []
        summary = store.complete_run(run_id, articles, count=len(articles), warnings=warnings)
    except TrackerError as exc:
        store.fail_run(run_id, str(exc))
        raise
    except BaseException as exc:
        store.fail_run(run_id, f"stopped: {type(exc).__name__}")
        raise
    return summary, sorted(set(deleted))


def _read_all(files: Sequence[Path]) -> tuple[list[Article], list[int]]:
    articles: list[Article] = []
    deleted: list[int] = []
    for path in files:
        result = read_articles(path)
        articles.extend(result.articles)
        deleted.extend(result.deleted)
    return articles, deleted
