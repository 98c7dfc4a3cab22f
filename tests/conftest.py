"""Shared fixtures: where the real NCBI files are, and a fresh data directory per test."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_eutils
import fake_icite
from fake_eutils import FakeNCBI
from fake_icite import FakeICite
from fake_service import started

from tracker import Store, import_files

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = Path(__file__).resolve().parent / "expected"


def _fixtures_dir() -> Path:
    """../shared/fixtures/eutils next to the checkout, or TRACKER_FIXTURES_DIR."""
    override = os.environ.get("TRACKER_FIXTURES_DIR")
    if override:
        return Path(override)
    return ROOT.parent / "shared" / "fixtures" / "eutils"


FIXTURES = _fixtures_dir()


@pytest.fixture
def eutils_fixtures() -> Path:
    """The folder of real E-utilities responses; skips (with the reason) when it is absent."""
    if not (FIXTURES / "MANIFEST.md").is_file():
        pytest.skip(f"real NCBI fixtures not found at {FIXTURES} (set TRACKER_FIXTURES_DIR)")
    return FIXTURES


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory for one test's store."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def filled(eutils_fixtures: Path, data_dir: Path) -> Path:
    """A data directory holding the real PubMed records of the fixtures (8 records)."""
    import_files(Store(data_dir), sorted(eutils_fixtures.glob("pubmed*.xml")))
    return data_dir


@pytest.fixture
def fake_ncbi_factory() -> Iterator[Callable[..., FakeNCBI]]:
    """Start fake NCBI servers (tests/fake_eutils.py) on free ports; all stop at teardown."""
    yield from started(fake_eutils.start)


@pytest.fixture
def fake_ncbi(fake_ncbi_factory: Callable[..., FakeNCBI]) -> FakeNCBI:
    """A running fake NCBI holding 2,000 matching records."""
    return fake_ncbi_factory(records=2000)


@pytest.fixture
def icite_factory() -> Iterator[Callable[..., FakeICite]]:
    """Start fake iCite servers (tests/fake_icite.py) on free ports; all stop at teardown."""
    yield from started(fake_icite.start)


@pytest.fixture
def icite(icite_factory: Callable[..., FakeICite]) -> FakeICite:
    """A running fake iCite that knows 49 of every 50 PMIDs."""
    return icite_factory()
