"""Shared fixtures: where the real NCBI files are, and a fresh data directory per test."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import backend_choice
import fake_eutils
import fake_icite
import postgres_server
from fake_eutils import FakeNCBI
from fake_icite import FakeICite
from fake_service import started

import tracker.store
from tracker import Store, import_files
from tracker.data_folder import ParquetRecords
from tracker.defaults import LOCK_WAIT_S
from tracker.store import Backend

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


# -- the same tests on both backends: the data folder, and a real PostgreSQL server -------------

BOTH_BACKENDS = ("data folder", "postgresql")
"""The store backends every test of a module marked ``both_backends`` runs on."""


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.Server]:
    """One throwaway PostgreSQL server for the session (Debian's package, see
    tests/postgres_server.py); each test that uses it gets its own schema."""
    if postgres_server.binaries() is None:
        message = "PostgreSQL is not installed: run `make test` (it installs it) or apt-get"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run the server backend's tests, not skip them")
        pytest.skip(message)
    server = postgres_server.start()
    yield server
    server.stop("immediate")
    shutil.rmtree(server.folder, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: run every test of the module on the data folder and PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "folder_only(why): a test of the data folder's own files, not of the store"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of a ``both_backends`` module runs once per backend; one marked ``folder_only``
    (it reads the data folder's files, which a server does not have) on the folder alone."""
    if metafunc.definition.get_closest_marker("both_backends") is None:
        return
    only_folder = metafunc.definition.get_closest_marker("folder_only") is not None
    metafunc.parametrize(
        "store_backend", BOTH_BACKENDS[:1] if only_folder else BOTH_BACKENDS, indirect=True
    )


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The backend of this test's stores; autouse, so it is chosen before any fixture opens a
    store. On "postgresql", every store a test opens by its data folder (``Store(path)``, the CLI's
    ``--data-dir``, the app's settings) is kept in a schema of the session's PostgreSQL server
    instead, one schema per folder: the test itself is unchanged."""
    backend = str(getattr(request, "param", BOTH_BACKENDS[0]))
    if backend == "data folder":
        return backend
    server: postgres_server.Server = request.getfixturevalue("postgres")

    def on_server(data_dir: Path, *, lock_wait: float = LOCK_WAIT_S) -> Backend:
        return backend_choice.server_for(server.url, data_dir, lock_wait=lock_wait)

    monkeypatch.setattr(tracker.store, "folder_backend", on_server)
    monkeypatch.setenv(backend_choice.SERVER_URL_ENV, server.url)
    return backend


def records_state(store: Store) -> object:
    """What must not change when a write fails: the records file's bytes on the data folder,
    the stored records and their change count on a server."""
    if isinstance(store.backend.records, ParquetRecords):
        return store.records_path.read_bytes() if store.records_path.exists() else None
    return store.stamp().records, store.records().to_json()
