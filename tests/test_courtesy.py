"""The courtesy every outside service gets: one pacer, one retry loop, one capped Retry-After.

The last tests run the real clients (Bio.Entrez for NCBI, requests for iCite) against the fake
servers, which answer 429 with whatever Retry-After a test asks for.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import fake_service
import pytest
from fake_eutils import FakeNCBI
from fake_icite import FakeICite

from tracker.citations import enrich
from tracker.config import Settings
from tracker.courtesy import Pacer, PoliteCaller, RetriesExhaustedError, RetryPolicy, retry_after
from tracker.defaults import RETRY_AFTER_CAP_S
from tracker.errors import TrackerError, TransientError
from tracker.fetch import fetch
from tracker.records import Article
from tracker.store import Store

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
IN_90_S = NOW + timedelta(seconds=90)


# -- reading Retry-After ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("3600", RETRY_AFTER_CAP_S),
        (format_datetime(IN_90_S, usegmt=True), 90.0),  # IMF-fixdate
        ("Friday, 01-May-26 12:01:30 GMT", 90.0),  # RFC 850, obsolete but allowed
        ("Fri May  1 12:01:30 2026", 90.0),  # asctime, obsolete but allowed
        (format_datetime(NOW + timedelta(hours=2), usegmt=True), RETRY_AFTER_CAP_S),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),
        ("garbage", None),
        ("-5", None),
        ("12 s", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date_and_caps_the_wait(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after(header, now=NOW) == seconds


def test_retry_after_takes_its_cap_from_the_caller() -> None:
    assert retry_after("50", now=NOW, cap=10.0) == 10.0
    assert retry_after(format_datetime(IN_90_S, usegmt=True), now=NOW, cap=10.0) == 10.0


def test_the_back_off_never_waits_longer_than_the_policy_s_retry_after_cap() -> None:
    policy, rng = RetryPolicy(base_delay=1, max_delay=30, retry_after_cap=60), random.Random(1)
    assert all(policy.delay(1, 3600.0, rng) == 60.0 for _ in range(20))
    assert all(policy.delay(9, 3600.0, rng) <= 60.0 for _ in range(200))


# -- the one retry loop -----------------------------------------------------------------------


class Sleeps(list[float]):
    """A stand-in for time.sleep that remembers each pause instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


NO_WAIT = RetryPolicy(max_tries=3, base_delay=0, max_delay=0)


def caller(sleeps: Sleeps, policy: RetryPolicy = NO_WAIT) -> PoliteCaller:
    instant = Pacer(1.0, clock=lambda: 0.0, sleep=lambda _: None)
    return PoliteCaller(instant, policy, sleeps, random.Random(1))


def flaky(*failures: Exception) -> Callable[[], str]:
    pending = list(failures)

    def action() -> str:
        if pending:
            raise pending.pop(0)
        return "answer"

    return action


def test_transient_failures_are_retried_counted_and_paced_by_the_injected_sleep() -> None:
    sleeps = Sleeps()
    polite = caller(sleeps)
    answer = polite.call("batch 1", flaky(TransientError("HTTP 503"), TransientError("reset")))
    assert answer == "answer"
    assert (polite.requests, polite.retries) == (3, 2)
    assert sleeps == [0.0, 0.0]


def test_a_server_s_retry_after_is_waited_for_up_to_the_cap() -> None:
    sleeps = Sleeps()
    polite = caller(
        sleeps, RetryPolicy(max_tries=3, base_delay=0, max_delay=0, retry_after_cap=300)
    )
    polite.call("batch 1", flaky(TransientError("429", retry_after=7.0),
                                 TransientError("429", retry_after=3600.0)))  # fmt: skip
    assert sleeps == [7.0, 300.0]


def test_any_other_error_passes_through_at_once() -> None:
    sleeps = Sleeps()
    polite = caller(sleeps)
    with pytest.raises(TrackerError, match="refused"):
        polite.call("batch 1", flaky(TrackerError("refused")))
    assert (polite.requests, polite.retries, sleeps) == (1, 0, [])


def test_when_the_tries_run_out_the_last_answer_is_named() -> None:
    polite = caller(Sleeps(), RetryPolicy(max_tries=2, base_delay=0, max_delay=0))
    with pytest.raises(RetriesExhaustedError) as caught:
        polite.call("batch 4 of 5", flaky(TransientError("HTTP 502"), TransientError("HTTP 503")))
    assert str(caught.value) == "batch 4 of 5 failed 2 times; the last answer: HTTP 503"
    assert (caught.value.tries, polite.requests, polite.retries) == (2, 2, 1)


def test_each_service_has_one_pacer_per_rate_for_the_whole_process() -> None:
    assert Pacer.shared("ncbi", 3.0) is Pacer.shared("ncbi", 3.0)
    assert Pacer.shared("ncbi", 3.0) is not Pacer.shared("ncbi", 10.0)
    assert Pacer.shared("ncbi", 3.0) is not Pacer.shared("icite", 3.0)


# -- against the fake servers: a long Retry-After is capped, in seconds or as a date -----------


@dataclass
class Service:
    """A fake server's faults, and a real run of its client that returns the retries made."""

    faults: fake_service.Faults
    run: Callable[[Sleeps], int]


@pytest.fixture(params=["ncbi", "icite"])
def service(
    request: pytest.FixtureRequest,
    fake_ncbi_factory: Callable[..., FakeNCBI],
    icite_factory: Callable[..., FakeICite],
    data_dir: Path,
) -> Service:
    store = Store(data_dir)
    if request.param == "ncbi":
        ncbi = fake_ncbi_factory(records=200)
        settings = Settings(data_dir=data_dir, email="a@b.org", eutils_url=ncbi.base_url)
        return Service(ncbi.faults, lambda sleep: fetch(settings, store=store, sleep=sleep).retries)
    icite = icite_factory()
    store.upsert([Article(pmid=pmid, title="Ketamine") for pmid in range(30_000_000, 30_000_010)])
    settings = Settings(data_dir=data_dir, icite_url=icite.base_url)
    return Service(icite.faults, lambda sleep: enrich(store, settings, policy=NO_WAIT,
                                                      sleep=sleep).retries)  # fmt: skip


@pytest.mark.parametrize(
    ("form", "seconds", "waited"),
    [("seconds", 3600, (RETRY_AFTER_CAP_S, RETRY_AFTER_CAP_S)),
     ("http-date", 7200, (RETRY_AFTER_CAP_S, RETRY_AFTER_CAP_S)),
     ("http-date", 40, (35.0, 40.0))],
    ids=["an-hour-in-seconds", "a-date-two-hours-away", "a-date-40-s-away"],
)  # fmt: skip
def test_every_service_s_retry_after_is_waited_for_up_to_the_cap(
    service: Service, form: str, seconds: int, waited: tuple[float, float]
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)
    service.faults.retry_after = str(seconds) if form == "seconds" else later
    service.faults.queue.append("429")
    sleeps = Sleeps()
    assert service.run(sleeps) == 1
    assert len(sleeps) == 1 and waited[0] <= sleeps[0] <= waited[1]
