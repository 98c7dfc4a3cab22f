"""ClinicalTrials.gov searches land in the store as runs, like PubMed fetches: every study of
2,500 once, through 10 % faults; a failed search changes nothing and says why. Real HTTP
(tests/fake_clinicaltrials.py), the real client, a real data folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_clinicaltrials import FakeClinicalTrials, fake_ctgov_factory, nct

from tracker import Store, prisma
from tracker.cli import main
from tracker.clinicaltrials import SOURCE, ClinicalTrialsError
from tracker.config import Settings
from tracker.courtesy import Pacer, RetryPolicy
from tracker.registry_fetch import RegistryFetch, fetch_registry

__all__ = ["fake_ctgov_factory"]
Factory = Callable[..., FakeClinicalTrials]
FAST = RetryPolicy(max_tries=6, base_delay=0.01, max_delay=0.02, retry_after_cap=5)


def search(server: FakeClinicalTrials, data_dir: Path) -> RegistryFetch:
    settings = Settings(data_dir=data_dir, ctgov_url=server.base_url, email="a@b.org")
    return fetch_registry(Store(data_dir), settings, page_size=100, policy=FAST,
                          pacer=Pacer(1000.0), sleep=lambda _: None, timeout=5.0)  # fmt: skip


@pytest.mark.parametrize("faults", [0.0, 0.10])
def test_2500_studies_are_stored_once_each_as_one_registry_run(
    fake_ctgov_factory: Factory, data_dir: Path, faults: float
) -> None:
    server = fake_ctgov_factory(studies=2500)
    server.faults.fraction = faults
    server.faults.slow_seconds = 0.05
    done = search(server, data_dir)
    records = Store(data_dir).records()
    assert len(records) == 2500 and records["nct"].is_unique
    assert set(records["nct"]) == {nct(n) for n in range(1, 2501)}
    assert set(records["source"]) == {SOURCE} and set(records["kind"]) == {"trial"}
    assert (records["record_id"] >= 10**10).all(), "registrations get the tracker's own ids"
    assert sorted(server.served()) == sorted(records["nct"]), "each study asked for once"
    assert done.summary.new == 2500 and done.total == 2500
    if faults:
        assert done.retries > 0
    (run,) = Store(data_dir).runs().to_dict(orient="records")
    assert (run["kind"], run["source"], run["status"], run["retrieved"]) == (
        "fetch", SOURCE, "succeeded", 2500)  # fmt: skip
    assert prisma.counts(Store(data_dir)).identified == 2500


def test_searching_again_keeps_each_studys_id(fake_ctgov_factory: Factory, data_dir: Path) -> None:
    server = fake_ctgov_factory(studies=300)
    search(server, data_dir)
    first = Store(data_dir).records()[["record_id", "nct"]]
    again = search(server, data_dir)
    assert (again.summary.new, again.summary.unchanged) == (0, 300)
    assert Store(data_dir).records()[["record_id", "nct"]].equals(first)


def test_a_failed_search_changes_nothing_and_is_logged_with_its_reason(
    fake_ctgov_factory: Factory, data_dir: Path
) -> None:
    server = fake_ctgov_factory(studies=500)
    search(server, data_dir)
    before = (data_dir / "records.parquet").read_bytes()
    broken = fake_ctgov_factory(studies=2500)
    broken.faults.fail_after = 3
    with pytest.raises(ClinicalTrialsError, match="Nothing was fetched"):
        search(broken, data_dir)
    assert (data_dir / "records.parquet").read_bytes() == before
    runs = Store(data_dir).runs()
    assert runs["status"].tolist() == ["succeeded", "failed"]
    assert "page 4 failed 6 times" in runs["error"].iloc[-1]


def test_tracker_fetch_source_clinicaltrials(fake_ctgov_factory: Factory, data_dir: Path) -> None:
    server = fake_ctgov_factory(studies=120)
    env = {"TRACKER_CTGOV_URL": server.base_url, "NCBI_EMAIL": "a@b.org"}
    result = CliRunner(env=env).invoke(
        main,
        [
            "fetch",
            "--source",
            "clinicaltrials",
            "--query",
            "ketamine AND pain",
            "--data-dir",
            str(data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ClinicalTrials.gov: 120 studies: 120 new")
    (asked,) = {r["params"].get("query.term") for r in server.requests()}
    assert asked == "ketamine AND pain" and "query.cond" not in server.requests()[0]["params"]
    assert Store(data_dir).runs()["query"].tolist() == ["query.term=ketamine AND pain"]
