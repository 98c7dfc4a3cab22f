"""Fetching against the fake NCBI: every record exactly once, politely, all or nothing.

The real Bio.Entrez code runs here: only its base URL points at tests/fake_eutils.py.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from backend_choice import child_env, stored_bytes
from click.testing import CliRunner
from conftest import records_state
from fake_eutils import FakeNCBI

from tracker.cli import main
from tracker.config import Settings
from tracker.errors import ConfigError, NCBIQueryError, NCBIUnavailableError
from tracker.fetch import Pacer, Progress, RetryPolicy, fetch, minimum_requests
from tracker.store import Store

pytestmark = pytest.mark.both_backends

KEY = "zz-SECRET-api-key-0123456789"


def settings(fake: FakeNCBI, data_dir: Path, *, api_key: str = "") -> Settings:
    return Settings(data_dir=data_dir, email="reviewer@example.org", eutils_url=fake.base_url,
                    api_key=api_key)  # fmt: skip


def stored_pmids(data_dir: Path) -> list[int]:
    return Store(data_dir).records(["pmid"])["pmid"].tolist()


@pytest.mark.slow
def test_25000_records_arrive_exactly_once_politely_near_ncbi_s_minimum(
    fake_ncbi_factory: Callable[..., FakeNCBI], data_dir: Path
) -> None:
    fake = fake_ncbi_factory(records=25_000)
    seen: list[Progress] = []
    summary = fetch(settings(fake, data_dir), store=Store(data_dir), progress=seen.append)
    pmids = stored_pmids(data_dir)
    assert len(pmids) == len(set(pmids)) == 25_000
    assert set(pmids) == set(fake.corpus)
    statuses = fake.statuses()
    assert statuses.count(429) == 0
    assert len(statuses) <= 1.1 * minimum_requests(25_000), (len(statuses), summary.line())
    assert summary.requests == len(statuses)
    assert all(r["method"] == "POST" for r in fake.requests("efetch"))
    assert seen[-1].records == 25_000 and seen[-1].batches == 50
    assert summary.line().startswith("25,000 records: 25,000 new, 0 already known, 0 no longer")


@pytest.mark.slow
def test_with_one_request_in_ten_faulted_every_record_still_arrives_once(
    fake_ncbi_factory: Callable[..., FakeNCBI], data_dir: Path
) -> None:
    fake = fake_ncbi_factory(records=25_000)
    fake.faults.fraction = 0.10
    fake.faults.slow_seconds = 1.5
    fake.faults.rng = random.Random(2026)
    summary = fetch(settings(fake, data_dir, api_key=KEY), store=Store(data_dir), timeout=1.0)
    pmids = stored_pmids(data_dir)
    faulted = [r["fault"] for r in fake.requests() if r["fault"]]
    assert len(pmids) == len(set(pmids)) == 25_000
    assert len(faulted) >= 3, "the run must actually have met faults"
    assert len(set(faulted)) >= 3, f"mixed kinds of fault: {faulted}"
    assert summary.retries >= len([f for f in faulted if f != "slow"])


@pytest.mark.slow
def test_a_second_run_reports_new_and_withdrawn_records(
    fake_ncbi: FakeNCBI, data_dir: Path
) -> None:
    store = Store(data_dir)
    fetch(settings(fake_ncbi, data_dir), store=store, query="ketamine")
    added = fake_ncbi.add_records(100)
    withdrawn = fake_ncbi.withdraw(3)
    second = fetch(settings(fake_ncbi, data_dir), store=store, query="ketamine")
    assert (second.run.new, second.run.gone) == (100, 3)
    assert set(second.run.new_ids) == set(added)
    assert set(second.run.gone_ids) == set(withdrawn)
    assert second.line().startswith("2,097 records: 100 new, 1,997 already known, 3 no longer")
    assert set(withdrawn) <= store.known_pmids(), "withdrawn records stay in the store"


def test_a_query_ncbi_rejects_stops_at_once_and_is_logged(
    fake_ncbi: FakeNCBI, data_dir: Path
) -> None:
    with pytest.raises(NCBIQueryError, match="Check its brackets"):
        fetch(settings(fake_ncbi, data_dir), store=Store(data_dir), query="(ketamine AND pain")
    assert len(fake_ncbi.requests()) == 1, "a permanent error is not retried"
    run = Store(data_dir).runs().iloc[-1]
    assert run["status"] == "failed" and "NCBI rejected the query" in run["error"]


def test_a_query_without_hits_is_a_successful_empty_run(
    fake_ncbi: FakeNCBI, data_dir: Path
) -> None:
    summary = fetch(settings(fake_ncbi, data_dir), store=Store(data_dir), query="nohits xyz")
    assert (summary.count, summary.run.retrieved) == (0, 0)
    assert Store(data_dir).runs().iloc[-1]["status"] == "succeeded"


def test_transient_faults_are_retried_and_retry_after_is_honoured(
    fake_ncbi: FakeNCBI, data_dir: Path
) -> None:
    fake_ncbi.faults.queue.extend(["429", "503", "truncated"])
    pauses: list[float] = []
    summary = fetch(settings(fake_ncbi, data_dir), store=Store(data_dir), sleep=pauses.append)
    assert summary.retries == 3
    assert pauses[0] >= 1.0, "Retry-After: 1 is honoured"
    assert len(stored_pmids(data_dir)) == 2000


def test_an_empty_query_and_a_bad_batch_size_are_refused(
    fake_ncbi: FakeNCBI, data_dir: Path
) -> None:
    with pytest.raises(ConfigError, match="The query is empty"):
        fetch(settings(fake_ncbi, data_dir), store=Store(data_dir), query="   ")
    with pytest.raises(ConfigError, match="The batch size must be between 1 and 10,000"):
        fetch(settings(fake_ncbi, data_dir), store=Store(data_dir), batch_size=0)
    assert fake_ncbi.requests() == []


def test_the_pacer_never_allows_more_than_the_rate_in_any_second() -> None:
    now = [0.0]
    stamps: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(3, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        pacer.wait()
        stamps.append(now[0])
    assert len(stamps) == 30
    assert all(sum(1 for t in stamps if s <= t < s + 1.0) <= 3 for s in stamps)


def test_back_off_grows_and_never_undercuts_retry_after() -> None:
    policy, rng = RetryPolicy(base_delay=1, max_delay=30), random.Random(1)
    assert all(policy.delay(1, 7.0, rng) >= 7.0 for _ in range(20))
    assert max(policy.delay(5, None, rng) for _ in range(200)) > 4
    assert all(policy.delay(9, None, rng) <= 30 for _ in range(200))


# -- the command line, as a user meets it ---------------------------------------------------


def cli(fake: FakeNCBI, data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {"TRACKER_EUTILS_URL": fake.base_url, "NCBI_EMAIL": "", "NCBI_API_KEY": ""}
    result = CliRunner(env=env).invoke(main, ["fetch", "--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_fetch_refuses_to_start_without_an_email(fake_ncbi: FakeNCBI, data_dir: Path) -> None:
    code, _, err = cli(fake_ncbi, data_dir)
    assert code == 1
    assert err == (
        "Error: NCBI asks for a contact email with every request: pass --email you@example.org "
        "or set NCBI_EMAIL.\n"
    )
    assert fake_ncbi.requests() == []


def test_fetch_prints_the_closing_summary(fake_ncbi: FakeNCBI, data_dir: Path) -> None:
    code, out, err = cli(fake_ncbi, data_dir, "--email", "a@b.org", "--query", "ketamine")
    assert code == 0, err
    assert out.startswith("2,000 records: 2,000 new, 0 already known, 0 no longer returned; ")
    assert out.rstrip().endswith(" s") and "requests" in out and "retries" in out


def test_fetch_help_shows_the_default_query() -> None:
    result = CliRunner().invoke(main, ["fetch", "--help"])
    assert '"Ketamine"[MeSH Terms]' in result.stdout
    assert '"Chronic Pain"[MeSH Terms]' in result.stdout


def test_a_run_that_keeps_failing_changes_nothing_and_says_why(
    fake_ncbi: FakeNCBI, data_dir: Path
) -> None:
    code, _, _ = cli(fake_ncbi, data_dir, "--email", "a@b.org", "--query", "ketamine")
    assert code == 0
    before = records_state(Store(data_dir))
    Store(data_dir).append_events([])  # the screening log exists and stays as it is
    fake_ncbi.add_records(5)
    fake_ncbi.faults.fail_after = len(fake_ncbi.requests()) + 1  # the search passes
    code, out, err = cli(fake_ncbi, data_dir, "--email", "a@b.org", "--query", "ketamine",
                         "--max-tries", "2")  # fmt: skip
    assert code == 1 and out == ""
    assert err.startswith(
        "Error: batch 1 of 5 failed 2 times; the last answer: NCBI answered HTTP 503"
    )
    assert "Nothing was changed" in err and "Traceback" not in err
    assert records_state(Store(data_dir)) == before
    run = Store(data_dir).runs().iloc[-1]
    assert run["status"] == "failed" and "HTTP 503" in run["error"]
    assert Store(data_dir).events().empty


@pytest.mark.slow
def test_a_fetch_killed_mid_run_leaves_the_records_as_they_were(
    fake_ncbi_factory: Callable[..., FakeNCBI], data_dir: Path
) -> None:
    fake = fake_ncbi_factory(records=5000)
    code, _, _ = cli(fake, data_dir, "--email", "a@b.org", "--query", "old")
    assert code == 0
    before = records_state(Store(data_dir))
    fake.add_records(3000)
    env = {**os.environ, "TRACKER_EUTILS_URL": fake.base_url, "NCBI_EMAIL": "a@b.org",
           **child_env(data_dir)}  # fmt: skip
    tracker = Path(sys.executable).with_name("tracker")
    child = subprocess.Popen([str(tracker), "fetch", "--data-dir", str(data_dir), "--query", "old"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 30
    while len(fake.requests("efetch")) < 10 + 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert records_state(Store(data_dir)) == before
    run = Store(data_dir).runs().iloc[-1]
    assert run["status"] == "failed" and run["error"].startswith("interrupted")


def test_the_api_key_never_reaches_disk_logs_or_output(
    fake_ncbi: FakeNCBI, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_ncbi.faults.queue.extend(["503", "reset"])
    code, out, err = cli(
        fake_ncbi, data_dir, "--email", "a@b.org", "--api-key", KEY, "--query", "q"
    )
    assert code == 0, err
    fake_ncbi.faults.fail_after = len(fake_ncbi.requests())
    code, out2, err2 = cli(fake_ncbi, data_dir, "--email", "a@b.org", "--api-key", KEY,
                           "--query", "q", "--max-tries", "2")  # fmt: skip
    assert code == 1
    runs = Store(data_dir).runs()
    assert runs["api_key_used"].tolist() == [True, True]
    written = stored_bytes(Store(data_dir), data_dir)
    assert written, "the store was written"
    for value in written:
        assert KEY.encode() not in value
    for text in (out, err, out2, err2, caplog.text, json.dumps(runs.to_dict(orient="records"))):
        assert KEY not in text


def test_unavailable_ncbi_is_reported_after_the_retries(data_dir: Path) -> None:
    closed = Settings(data_dir=data_dir, email="a@b.org", eutils_url="http://127.0.0.1:9/x/")
    with pytest.raises(NCBIUnavailableError, match="could not be reached"):
        fetch(closed, store=Store(data_dir), policy=RetryPolicy(max_tries=2), sleep=lambda _: None)
    assert Store(data_dir).runs().iloc[-1]["status"] == "failed"


@pytest.mark.slow
def test_a_large_result_set_with_only_old_records_is_fetched_whole(
    fake_ncbi_factory: Callable[..., FakeNCBI], data_dir: Path
) -> None:
    from datetime import date

    fake = fake_ncbi_factory(
        records=12_000, first_day=date(1990, 1, 1), last_day=date(1995, 12, 31)
    )
    summary = fetch(settings(fake, data_dir, api_key=KEY), store=Store(data_dir))
    assert summary.run.retrieved == 12_000
    assert set(stored_pmids(data_dir)) == set(fake.corpus)


@pytest.mark.slow
def test_a_day_holding_more_than_the_cap_fails_clearly_and_changes_nothing(
    fake_ncbi_factory: Callable[..., FakeNCBI], data_dir: Path
) -> None:
    from datetime import date

    fake = fake_ncbi_factory(records=10_300, crowded_day=date(2020, 3, 2), crowded=10_100)
    with pytest.raises(NCBIQueryError, match=r"10,100 matching records were created on 2020-03-02"):
        fetch(settings(fake, data_dir, api_key=KEY), store=Store(data_dir))
    assert not (data_dir / "records.parquet").exists()
    assert Store(data_dir).runs().iloc[-1]["status"] == "failed"


def test_efetch_returning_far_fewer_records_than_listed_fails_the_run(
    fake_ncbi: FakeNCBI, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search still lists 100 records that efetch no longer returns (a mass withdrawal)."""
    listed = fake_ncbi.matching({"term": "q"})
    assert isinstance(listed, list)
    for pmid in listed[:100]:
        del fake_ncbi.corpus[pmid]
    monkeypatch.setattr(fake_ncbi, "matching", lambda params: listed)
    with pytest.raises(NCBIUnavailableError, match="returned only 1,900"):
        fetch(settings(fake_ncbi, data_dir), store=Store(data_dir), query="q")
    assert not (data_dir / "records.parquet").exists()


@pytest.mark.slow
def test_a_fetch_after_screening_changes_no_decision(fake_ncbi: FakeNCBI, data_dir: Path) -> None:
    from tracker import screening

    store = Store(data_dir)
    fetch(settings(fake_ncbi, data_dir), store=store, query="ketamine")
    some = sorted(fake_ncbi.corpus)[:5]
    screening.decide(store, some[:3], decision="include", reviewer="ana")
    screening.tag(store, some[3:], reviewer="ana", add="check")
    before = screening.summary(store)
    fake_ncbi.add_records(10)
    fetch(settings(fake_ncbi, data_dir), store=store, query="ketamine")
    after = screening.summary(store)
    assert after.loc[before.index].equals(before)
    assert len(after) == len(before) + 10
