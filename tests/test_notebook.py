"""The analysis notebook runs top to bottom on a real store, through the public API only."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tracker import Store, import_files

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "review_overview.ipynb"


@pytest.mark.slow
def test_the_notebook_executes_and_reports_the_store(
    eutils_fixtures: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_files(Store(data_dir), sorted(eutils_fixtures.glob("pubmed*.xml")))
    monkeypatch.setenv("TRACKER_DATA_DIR", str(data_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert f"8 records in {data_dir}" in printed
    assert "PRISMA 2020 flow (new review)" in printed
    assert "Records identified from PubMed: 8" in printed
    html = "".join(
        output.get("data", {}).get("text/html", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "Journal Article" in html
    assert "succeeded" in html
