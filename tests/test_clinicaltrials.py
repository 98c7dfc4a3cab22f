"""ClinicalTrials.gov fetch against a real HTTP fake (tests/fake_clinicaltrials.py): whole
results over pages, each study once, through faults; nothing at all when a page never comes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fake_clinicaltrials import FakeClinicalTrials, fake_ctgov_factory, nct

from tracker.clinicaltrials import (
    DEFAULT_CONDITIONS,
    DEFAULT_INTERVENTIONS,
    ClinicalTrialsError,
    TrialFetch,
    TrialQuery,
    fetch_trials,
)
from tracker.config import Settings
from tracker.courtesy import Pacer, RetryPolicy
from tracker.source_record import RecordKind

__all__ = ["fake_ctgov_factory"]  # the fixture, imported for pytest to find
Factory = Callable[..., FakeClinicalTrials]
FAST = RetryPolicy(max_tries=6, base_delay=0.01, max_delay=0.02, retry_after_cap=5)


def fetch(server: FakeClinicalTrials, waits: list[float] | None = None, **options: object
          ) -> TrialFetch:  # fmt: skip
    settings = Settings(data_dir=Path("unused"), ctgov_url=server.base_url, email="a@b.org")
    pauses = waits if waits is not None else []
    defaults: dict[str, object] = {"page_size": 100, "policy": FAST, "pacer": Pacer(1000.0),
                                   "sleep": pauses.append, "timeout": 5.0}  # fmt: skip
    return fetch_trials(settings, **(defaults | options))  # type: ignore[arg-type]


def test_2500_studies_arrive_over_pages_each_exactly_once(fake_ctgov_factory: Factory) -> None:
    server = fake_ctgov_factory(studies=2500)
    result = fetch(server)
    ncts = [record.nct for record in result.studies]
    assert len(ncts) == 2500 and set(ncts) == {nct(n) for n in range(1, 2501)}
    assert sorted(server.served()) == sorted(ncts)  # each sent once, none asked twice
    assert (result.total, result.pages, result.requests, result.retries) == (2500, 25, 25, 0)
    first, *rest = server.requests()
    assert first["params"]["countTotal"] == "true" and "pageToken" not in first["params"]
    assert all("pageToken" in r["params"] and "countTotal" not in r["params"] for r in rest)
    assert first["params"]["query.cond"] == DEFAULT_CONDITIONS
    assert first["params"]["query.intr"] == DEFAULT_INTERVENTIONS
    assert first["params"]["pageSize"] == "100" and first["params"]["format"] == "json"
    assert first["headers"]["User-Agent"].startswith("ketamine-review-tracker/")


def test_at_10_percent_faults_every_study_still_arrives_exactly_once(
    fake_ctgov_factory: Factory,
) -> None:
    server = fake_ctgov_factory(studies=2500)
    server.faults.fraction = 0.10
    server.faults.slow_seconds = 0.2
    result = fetch(server)
    log = server.requests()
    failed = [r for r in log if r["fault"] not in (None, "slow")]
    assert len(result.studies) == len({r.nct for r in result.studies}) == 2500
    assert sorted(server.served()) == sorted(r.nct for r in result.studies)
    assert failed, "the fault rate should have hit some requests"
    assert result.retries == len(failed) and result.requests == len(log) == 25 + len(failed)


def test_a_run_that_exhausts_its_retries_raises_and_returns_nothing(
    fake_ctgov_factory: Factory,
) -> None:
    server = fake_ctgov_factory(studies=2500)
    server.faults.fail_after = 3
    with pytest.raises(ClinicalTrialsError) as caught:
        fetch(server)
    message = str(caught.value)
    assert "page 4 failed 6 times" in message and "Nothing was fetched" in message
    assert "--" not in message and len(server.requests()) == 3 + 6


def test_a_429_waits_at_least_the_retry_after_it_names(fake_ctgov_factory: Factory) -> None:
    server = fake_ctgov_factory(studies=150)
    server.faults.queue.extend(["429"])
    server.faults.retry_after = "3"
    waits: list[float] = []
    result = fetch(server, waits)
    assert len(result.studies) == 150 and result.retries == 1
    assert waits and waits[0] >= 3.0


@pytest.mark.parametrize("fault", ["500", "502", "503", "html", "truncated", "reset"])
def test_each_transient_fault_is_retried(fake_ctgov_factory: Factory, fault: str) -> None:
    server = fake_ctgov_factory(studies=150)
    server.faults.queue.extend([fault])
    result = fetch(server)
    assert (len(result.studies), result.retries, result.requests) == (150, 1, 3)


def test_an_answer_slower_than_the_timeout_is_retried(fake_ctgov_factory: Factory) -> None:
    server = fake_ctgov_factory(studies=50)
    server.faults.queue.extend(["slow"])
    server.faults.slow_seconds = 1.5
    result = fetch(server, timeout=0.5)
    assert (len(result.studies), result.retries) == (50, 1)


def test_a_refused_request_stops_at_once_with_the_registry_words(
    fake_ctgov_factory: Factory,
) -> None:
    server = fake_ctgov_factory(studies=50)
    with pytest.raises(ClinicalTrialsError, match="pageSize: invalid value"):
        fetch(server, page_size=0)
    assert len(server.requests()) == 1


def test_an_answer_in_an_unknown_shape_is_refused_not_retried(
    fake_ctgov_factory: Factory,
) -> None:
    server = fake_ctgov_factory(studies=50)
    server.mangle = lambda answer: {"trials": answer["studies"]}
    with pytest.raises(ClinicalTrialsError, match="unknown shape"):
        fetch(server)
    assert len(server.requests()) == 1


def test_pages_that_hold_fewer_studies_than_counted_fail_the_run(
    fake_ctgov_factory: Factory,
) -> None:
    server = fake_ctgov_factory(studies=250)
    server.mangle = lambda answer: answer | {"studies": answer["studies"][:-1]}
    with pytest.raises(ClinicalTrialsError, match="counted 250 studies but its pages held 247"):
        fetch(server)


def test_a_study_carries_every_trial_field(fake_ctgov_factory: Factory) -> None:
    server = fake_ctgov_factory(studies=5, first=41)
    result = fetch(server, query=TrialQuery(conditions="fibromyalgia", interventions=""))
    record = next(r for r in result.studies if r.nct == "NCT00000041")
    assert (record.source, record.kind, record.page) == ("ClinicalTrials.gov", RecordKind.TRIAL, 1)
    assert record.title == "A Randomised Trial of Esketamine in Chronic Pain 41"
    assert record.abstract == "Summary of study 41."
    assert record.conditions == ("Low Back Pain",)
    assert record.interventions == ("Esketamine", "Placebo")
    assert (record.phase, record.status, record.enrolment) == ("NA", "WITHDRAWN",
                                                               61)  # fmt: skip
    assert (record.start_date, record.completion_date, record.year) == ("2006-06", "2008-06-30",
                                                                        2006)  # fmt: skip
    assert record.linked_pmids == (30000041,)
    assert record.url == "https://clinicaltrials.gov/study/NCT00000041"
    params = server.requests()[0]["params"]
    assert params["query.cond"] == "fibromyalgia" and "query.intr" not in params


def test_the_registry_address_is_a_setting() -> None:
    assert Settings.from_env({"TRACKER_CTGOV_URL": "http://x/api/v2/"}).ctgov_url == (
        "http://x/api/v2/"
    )
    assert Settings.from_env({}).ctgov_url == "https://clinicaltrials.gov/api/v2/"
