"""``tracker migrate``: a data folder into a PostgreSQL server and back loses nothing.

The review copied is a real one: tests/stores/pmid-keyed (14 records, 21 events by two
reviewers with a resolution, tags, a note, an undo and a confirmed duplicate, 2 runs), opened
by today's store, with citation metrics and the library's own vocabulary added, so every part
of a store is in it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pytest
from click.testing import CliRunner
from postgres_server import Server

from tracker import Store, screening
from tracker.cli import main
from tracker.store_transfer import compare
from tracker.vocabulary import DEFAULT_PATH

OLD = Path(__file__).parent / "stores" / "pmid-keyed"


@pytest.fixture
def review(tmp_path: Path) -> Path:
    """A copy of a real review's data folder with every part a store can have."""
    data = tmp_path / "data"
    shutil.copytree(OLD / "data", data)
    store = Store(data)
    with store.locked():
        store.write_side_table("citations", pa.table({"pmid": [1, 2], "citations": [5, 0]}))
    store.create_vocabulary(DEFAULT_PATH.read_bytes() + b"\n# ours\n")
    return data


def url_of(server: Server, schema: str) -> str:
    return f"{server.url}?options={quote(f'-csearch_path={schema}')}"


def migrate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["migrate", *args])
    return result.exit_code, result.output


def test_a_review_goes_to_the_server_and_back_with_every_row_equal(
    postgres: Server, review: Path, tmp_path: Path
) -> None:
    url = url_of(postgres, "round_trip")
    code, out = migrate("--to", url, "--data-dir", str(review))
    assert code == 0, out
    assert out.startswith("Copied 14 records, 2 runs and 21 events from ")
    assert "side tables: citations, suggestions; the library's own vocabulary" in out
    assert "tracker@127.0.0.1" in out and "every part was read back and is equal" in out
    back = tmp_path / "back"
    code, out = migrate("--from", url, "--data-dir", str(back))
    assert code == 0, out
    original, server, returned = Store(review), Store.on_server(url), Store(back)
    assert compare(original, server) == [] and compare(original, returned) == []
    assert returned.events().equals(original.events())
    assert returned.records().equals(original.records())
    assert len(original.events()) == 21 and len(original.records()) == 14
    assert screening.summary(returned).equals(screening.summary(original))


def test_screening_goes_on_on_the_server_after_the_copy(postgres: Server, review: Path) -> None:
    url = url_of(postgres, "goes_on")
    assert migrate("--to", url, "--data-dir", str(review))[0] == 0
    server = Store.on_server(url)
    before = server.events()["id"].max()
    record = int(server.records()["record_id"].iloc[0])
    [new] = screening.decide(server, [record], decision="maybe", reviewer="cleo")
    assert new == before + 1, "the server's ids go on from the copied ones"
    assert screening.reviewer_decisions(server, "cleo", "title-abstract") == {record: "maybe"}


def test_a_target_that_holds_a_review_is_refused_and_left_as_it_was(
    postgres: Server, review: Path, tmp_path: Path
) -> None:
    url = url_of(postgres, "taken")
    assert migrate("--to", url, "--data-dir", str(review))[0] == 0
    server = Store.on_server(url)
    stamp = server.stamp()
    code, out = migrate("--to", url, "--data-dir", str(review))
    assert code == 1 and "already holds a review" in out and "empty" in out
    assert server.stamp() == stamp
    code, out = migrate("--from", url, "--data-dir", str(review))
    assert code == 1 and "already holds a review" in out


def test_migrate_needs_exactly_one_direction(tmp_path: Path) -> None:
    code, out = migrate("--data-dir", str(tmp_path))
    assert code == 2 and "give --to URL" in out
