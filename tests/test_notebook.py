"""The analysis notebook runs top to bottom on a store fetched from the fake NCBI.

The store is filled the way a reviewer fills it (two fetches, a few screening decisions), the
notebook is executed in a real kernel, and every number it shows is checked against the same
numbers computed here from the store.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from fake_eutils import FakeNCBI
from nbclient import NotebookClient

import tracker
from tracker import Store

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "review_overview.ipynb"
QUERY = "(ketamine OR esketamine) AND chronic pain"
NOT_TAGGED = "(not tagged)"
PROBE = "import json\nprint(json.dumps(chart.to_dict()))"
"""Run after the notebook, in its kernel: the chart as drawn, data included."""


def fill_from_fake_ncbi(fake: FakeNCBI, data_dir: Path) -> Store:
    """A first search, a re-run that finds new records, then some screening."""
    settings = tracker.Settings(
        data_dir=data_dir, email="reviewer@example.org", eutils_url=fake.base_url
    )
    store = Store(data_dir)
    tracker.fetch.fetch(settings, store=store, query=QUERY)
    fake.add_records(4)
    tracker.fetch.fetch(settings, store=store, query=QUERY)
    pmids = sorted(store.known_ids())
    decide = tracker.screening.decide
    decide(store, pmids[:6], decision="include", reviewer="ana")
    decide(store, pmids[6:10], decision="exclude", reviewer="ana", reason="not chronic pain")
    full_text = {"stage": "full-text", "reviewer": "ana"}
    decide(store, pmids[:3], decision="include", **full_text)
    decide(store, pmids[3:4], decision="exclude", reason="no outcome data", **full_text)
    decide(store, pmids[4:5], decision="exclude", reason="not retrievable", **full_text)
    return store


def execute(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], dict[str, Any]]:
    """The notebook's code cells after a run on ``data_dir``, and the chart's Vega-Lite spec."""
    monkeypatch.setenv("TRACKER_DATA_DIR", str(data_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))  # type: ignore[no-untyped-call]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    *cells, probe = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return cells, json.loads(probe.outputs[0]["text"])


def outputs(cells: list[Any]) -> list[Any]:
    return [output for cell in cells for output in cell.get("outputs", [])]


def shown(cells: list[Any], mimetype: str) -> str:
    return "".join(output.get("data", {}).get(mimetype, "") for output in outputs(cells))


def chart_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of data the chart draws (Altair puts them inline, in ``datasets``)."""
    (rows,) = spec["datasets"].values()
    assert isinstance(rows, list)
    return rows


def expected_year_design(store: Store) -> Counter[tuple[str, str]]:
    """Studies per (year, design label), one label per study as the notebook explains."""
    records = store.records()
    tags = tracker.tagging.evidence(records, vocabulary=tracker.load_vocabulary(store.data_dir))
    designs = tags["design"].reindex(records["record_id"]).tolist()
    return Counter(
        ("no year" if pd.isna(year) else str(int(year)), " + ".join(design) or NOT_TAGGED)
        for year, design in zip(records["year"].tolist(), designs, strict=True)
    )


def check_the_notebook_shows_the_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    cells, spec = execute(store.data_dir, monkeypatch)
    errors = [o for o in outputs(cells) if o.output_type == "error"]
    assert not errors, errors
    stderr = [o.text for o in outputs(cells) if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, "the notebook runs without warnings"
    printed = "".join(o.text for o in outputs(cells) if o.output_type == "stream")
    records = store.records()

    assert f"{len(records):,} records in {store.data_dir}\n" in printed

    drawn: Counter[tuple[str, str]] = Counter()
    for row in chart_rows(spec):
        drawn[row["year"], row["design"]] += row["studies"]
    assert drawn == expected_year_design(store)
    assert sum(drawn.values()) == len(records), "every study is in exactly one bar segment"
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["field"] == "year"
    assert spec["encoding"]["y"]["field"] == "studies"
    assert spec["encoding"]["color"]["field"] == "design"
    html = shown(cells, "text/html")
    assert "vega-embed" in html and "Studies per publication year, by design" in html
    assert "<th>design</th>" in html, "the year x design table is shown"

    log = tracker.search_log.search_log(store.runs())
    assert shown(cells, "text/markdown") == tracker.search_log.to_markdown(log)

    counts = tracker.prisma.counts(store)
    assert tracker.prisma.to_text(counts) in printed
    assert (counts.identified, counts.excluded_screening, counts.sought) == (len(records), 4, 6)
    assert (counts.not_retrieved, counts.excluded_reports, counts.included) == (
        1, {"no outcome data": 1}, 3,
    )  # fmt: skip
    assert counts.problems() == []

    assert tracker.claims.to_text(tracker.claims.claims_view(store, "all")) in printed


@pytest.mark.slow
def test_the_notebook_shows_a_store_fetched_from_the_fake_ncbi(
    fake_ncbi_factory: Callable[..., FakeNCBI], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fill_from_fake_ncbi(fake_ncbi_factory(records=60, seed=8), data_dir)
    assert len(store.records()) == 64
    runs = store.runs()
    assert runs["kind"].tolist() == ["fetch", "fetch"] and runs["new"].tolist() == [60, 4]
    check_the_notebook_shows_the_store(store, monkeypatch)


@pytest.mark.slow
def test_the_notebook_draws_the_designs_of_real_pubmed_records_too(
    fake_ncbi_factory: Callable[..., FakeNCBI],
    eutils_fixtures: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real records carry publication types and MeSH, so some bars get a design."""
    store = fill_from_fake_ncbi(fake_ncbi_factory(records=60, seed=8), data_dir)
    tracker.import_files(store, sorted(eutils_fixtures.glob("pubmed*.xml")))
    designs = {design for _, design in expected_year_design(store)}
    assert {"cohort", "review"} <= designs, designs
    check_the_notebook_shows_the_store(store, monkeypatch)


def test_the_notebook_uses_only_the_public_api() -> None:
    """``import tracker`` and names in ``tracker.__all__``: never a submodule's private parts."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), (
        "the notebook is saved without outputs, so its diffs stay readable"
    )
    tree = ast.parse("\n".join(cell.source for cell in code))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tracker")
    ]
    assert [name for name in imported if name.startswith("tracker")] == ["tracker"]
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "tracker"
    }
    assert used, "the notebook reads the store through tracker"
    assert used <= set(tracker.__all__), used - set(tracker.__all__)
    private = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr[0] == "_"]
    assert not private
