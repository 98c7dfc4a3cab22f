"""Shared fixtures: where the real NCBI files are, and a fresh data directory per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
