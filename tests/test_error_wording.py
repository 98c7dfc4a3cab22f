"""The library's messages are neutral; each edge words the remedy in its own terms.

The library never names a CLI flag or a ``tracker`` command (a researcher in the app has no
terminal); the CLI rewords the errors a flag fixes (``tracker.cli.remedies``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import errors
from tracker.cli import main
from tracker.cli.remedies import worded

ROOT = Path(__file__).resolve().parents[1]
FLAG_OR_COMMAND = re.compile(r"(?<![\w-])--[a-z][a-z-]+|`tracker [a-z]|\btracker (?:fetch|import|"
                             r"export|screen|runs|enrich|evidence|suggestions|reasons|annotations|"
                             r"vocabulary|undo|resolve|prisma|tag|note)\b")  # fmt: skip


def _messages(path: Path) -> list[tuple[int, str]]:
    """String constants of a module that are not documentation (docstrings, and the bare string
    statements that document attributes): what it may say to a user."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documentation = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in documentation
    ]  # fmt: skip


def test_no_library_message_names_a_cli_flag_or_command() -> None:
    library = [p for p in sorted((ROOT / "tracker").rglob("*.py")) if "cli" not in p.parts]
    assert len(library) > 20  # the scan saw the package
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}"
        for path in library
        for line, text in _messages(path)
        if FLAG_OR_COMMAND.search(text)
    ]
    assert offenders == []


def test_the_guard_recognises_what_it_forbids() -> None:
    for text in ("pass --reviewer NAME", "run `tracker enrich`", "see tracker runs for them"):
        assert FLAG_OR_COMMAND.search(text), text
    for text in ("a well-known tracker", "2020--2021", "tracker.sqlite"):
        assert not FLAG_OR_COMMAND.search(text), text


@pytest.mark.parametrize(
    ("error", "neutral", "cli"),
    [
        (errors.ReviewerRequired(), "Give a reviewer name", "Pass --reviewer NAME"),
        (errors.ReasonRequired(["duplicate", "other"]), "with one of: duplicate; other",
         "pass --reason, one of: duplicate; other"),
        (errors.UnknownReason("dull", ["duplicate"]), "add it to the list",
         "`tracker reasons add`"),
        (errors.ReasonNotAllowed("include"), "exclude decision only", "--decision exclude only"),
        (errors.NoteRequired("other"), "needs a note", "pass --note"),
        (errors.TagRequired(), "exactly one tag", "--add TAG or --remove TAG"),
        (errors.EmailRequired("NCBI"), "give yours", "pass --email you@example.org"),
        (errors.QueryRequired(), "give a query", "pass --query TEXT"),
        (errors.BatchSizeInvalid(0, low=1, high=10_000), "batch size must be", "--batch-size"),
        (errors.DataDirUnusable("/x", "Not a directory"), "Choose a folder",
         "Pass --data-dir (or set TRACKER_DATA_DIR)"),
        (errors.DestinationUnwritable("/x.csv", "No such file"), "Choose another file",
         "Choose another --out path"),
        (errors.MetricsDamaged("/d/citations.parquet", "bad"), "Fetch the citation metrics again",
         "`tracker enrich`"),
        (errors.WholeRebuildRequired("/d/citations.parquet"), "not only some PMIDs",
         "`tracker enrich` without --pmid"),
    ],
)  # fmt: skip
def test_each_edge_words_the_remedy_its_own_way(
    error: errors.TrackerError, neutral: str, cli: str
) -> None:
    assert neutral in str(error) and not FLAG_OR_COMMAND.search(str(error))
    assert cli in worded(error)


def test_the_cli_says_which_flag_a_missing_reason_needs(tmp_path: Path) -> None:
    from tracker.records import Article
    from tracker.store import Store

    Store(tmp_path).upsert([Article(pmid=5, title="t")])
    result = CliRunner().invoke(
        main,
        ["screen", "5", "--decision", "exclude", "--reviewer", "ana", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Say why it is excluded: pass --reason, one of: wrong")
    assert Store(tmp_path).events().empty
