"""Fetch every PubMed record for a query: search → plan → batches → retries → one run.

A run is all or nothing. Records reach the store only after every batch arrived and parsed;
any failure (after its retries), Ctrl-C or a kill leaves ``records.parquet`` as it was and the
run logged as failed with its reason.

NCBI's rules, and how they are kept:

- esearch returns at most 9,999 ids per query, so a larger result set is cut into creation-date
  slices (``datetype=crdt``). Slices are taken from the newest day backwards, each sized from
  the record density seen so far, so the number of searches stays close to the minimum; once
  the remaining count fits under the cap, one last search takes all older records. A single day
  holding more than the cap is paged through the history server instead (with a warning).
- efetch runs in batches (500 ids by default, POSTed, as NCBI asks for long id lists).
- One process-wide :class:`Pacer` keeps requests under 3/s (10/s with an API key).
- Transient faults (429, 5xx, resets, time-outs, HTML pages, cut-off XML, ``<ERROR>`` in a
  200) are retried with exponential back-off and full jitter, honouring Retry-After; a query
  NCBI rejects stops the run at once with a message saying what to change.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import ClassVar, TypeVar

from tracker.config import Settings
from tracker.entrez import Client, SearchResult, TransientError
from tracker.errors import ConfigError, FetchError, NCBIQueryError, NCBIUnavailableError, ParseError
from tracker.parse import read_articles
from tracker.records import Article
from tracker.store import RunSummary, Store

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_QUERY = (
    '("Ketamine"[MeSH Terms] OR ketamine[Title/Abstract] OR esketamine[Title/Abstract] OR '
    '"S-ketamine"[Title/Abstract] OR "s ketamine"[Title/Abstract] OR arketamine[Title/Abstract] OR '
    "Spravato[Title/Abstract] OR Ketalar[Title/Abstract]) AND "
    '("Chronic Pain"[MeSH Terms] OR "Neuralgia"[MeSH Terms] OR "Complex Regional Pain '
    'Syndromes"[MeSH Terms] OR "Fibromyalgia"[MeSH Terms] OR "Cancer Pain"[MeSH Terms] OR '
    '"Pain, Intractable"[MeSH Terms] OR "Pain, Postoperative"[MeSH Terms] OR '
    '"chronic pain"[Title/Abstract] OR "persistent pain"[Title/Abstract] OR '
    'neuropathic[Title/Abstract] OR "complex regional pain"[Title/Abstract] OR '
    'CRPS[Title/Abstract] OR fibromyalgia[Title/Abstract] OR "cancer pain"[Title/Abstract] OR '
    '"phantom limb"[Title/Abstract] OR "low back pain"[Title/Abstract] OR '
    'migraine[Title/Abstract] OR "refractory pain"[Title/Abstract] OR '
    '"chronic postsurgical pain"[Title/Abstract] OR "persistent postsurgical pain"[Title/Abstract])'
)
"""Esketamine/ketamine (MeSH, which covers both, plus text words and brand names, for records not
yet indexed) AND chronic pain (MeSH for the chronic pain conditions plus their text words). No
date limit: a living review re-runs the whole query and compares PMIDs."""

SEARCH_CAP = 9_999
OLDEST_DAY = date(1781, 1, 1)  # the oldest PubMed citations
DENSITY_START = date(1950, 1, 1)  # before this PubMed is sparse: ignore it when sizing slices
SLICE_FILL = 0.6


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with full jitter, honouring Retry-After."""

    max_tries: int = 6
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return max(backoff, retry_after or 0.0)


class Pacer:
    """At most ``rate`` requests per second across the whole process (all threads)."""

    _shared: ClassVar[dict[float, Pacer]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        # A little slower than the limit: NCBI counts arrivals, and networks bunch requests.
        self.interval = 1.0 / rate * 1.1
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def for_rate(cls, rate: float) -> Pacer:
        with cls._shared_lock:
            return cls._shared.setdefault(rate, cls(rate))

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a fetch stands, for progress bars."""

    stage: str
    records: int = 0
    total: int = 0
    batches: int = 0
    batches_total: int = 0
    requests: int = 0
    retries: int = 0
    elapsed: float = 0.0

    @property
    def eta(self) -> float | None:
        if not self.records or self.records >= self.total:
            return None
        return self.elapsed / self.records * (self.total - self.records)


@dataclass(frozen=True, slots=True)
class FetchSummary:
    """A finished run: the store's view of it plus what it cost."""

    run: RunSummary
    count: int
    query_translation: str
    requests: int
    retries: int
    seconds: float
    warnings: tuple[str, ...] = ()

    def line(self) -> str:
        r = self.run
        return (
            f"{r.retrieved:,} records: {r.new:,} new, {r.known:,} already known, "
            f"{r.gone:,} no longer returned; {self.requests:,} requests, "
            f"{self.retries:,} retries, {self.seconds:.1f} s"
        )


ProgressCallback = Callable[[Progress], None]


@dataclass
class _Session:
    """One run's requests: pacing, retries and counting."""

    client: Client
    pacer: Pacer
    policy: RetryPolicy
    sleep: Callable[[float], None]
    progress: ProgressCallback
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    retries: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def call(self, what: str, action: Callable[[], T]) -> T:
        for attempt in range(1, self.policy.max_tries + 1):
            self.pacer.wait()
            self.requests += 1
            try:
                return action()
            except (TransientError, ParseError) as exc:
                if attempt == self.policy.max_tries:
                    raise NCBIUnavailableError(
                        f"{what} failed {attempt} times; the last answer: {exc}. NCBI may be "
                        "busy or down, or the network unstable: try again later. Nothing "
                        "was changed."
                    ) from None
                self.retries += 1
                pause = self.policy.delay(attempt, getattr(exc, "retry_after", None), self.rng)
                log.info("%s: %s; retry %d in %.1f s", what, exc, attempt, pause)
                self.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def search(self, query: str, **params: str | int) -> SearchResult:
        label = f"search {params.get('mindate', '')}–{params.get('maxdate', '')}".strip()
        result = self.call(label, lambda: self.client.esearch(query, usehistory="y", **params))
        log.info("%s: %d records", label, result.count)
        return result

    def report(self, stage: str, **counts: int) -> None:
        elapsed = time.monotonic() - self.started
        self.progress(Progress(stage, requests=self.requests, retries=self.retries,
                               elapsed=elapsed, **counts))  # fmt: skip


def fetch(
    settings: Settings,
    *,
    store: Store,
    query: str = DEFAULT_QUERY,
    batch_size: int = 500,
    progress: ProgressCallback | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 60.0,
) -> FetchSummary:
    """Run ``query`` on PubMed, fetch every record and store them as one run."""
    query = query.strip()
    if not query:
        raise ConfigError("The query is empty: pass --query TEXT, or leave it out for the default.")
    if not 1 <= batch_size <= 10_000:
        raise ConfigError(f"--batch-size must be between 1 and 10,000, not {batch_size}.")
    client = Client(settings, timeout=timeout)
    session = _Session(client, Pacer.for_rate(settings.rate_limit), policy or RetryPolicy(),
                       sleep, progress or (lambda _: None))  # fmt: skip
    run_id = store.begin_run(kind="fetch", query=query, api_key_used=bool(settings.api_key))
    try:
        root, ids, warnings = _plan(session, query)
        articles = _download(session, ids, batch_size)
        warnings += _shortfall(root.count, ids, articles.keys())
        run = store.complete_run(run_id, articles.values(), count=root.count,
                                 query_translation=root.query_translation,
                                 requests=session.requests, retries=session.retries,
                                 warnings=warnings)  # fmt: skip
    except FetchError as exc:
        store.fail_run(run_id, str(exc), requests=session.requests, retries=session.retries)
        raise
    except KeyboardInterrupt:
        store.fail_run(run_id, "interrupted (Ctrl-C)", requests=session.requests,
                       retries=session.retries)  # fmt: skip
        raise
    except Exception as exc:
        store.fail_run(run_id, f"{type(exc).__name__}: {exc}", requests=session.requests,
                       retries=session.retries)  # fmt: skip
        raise
    elapsed = time.monotonic() - session.started
    return FetchSummary(run, root.count, root.query_translation, session.requests,
                        session.retries, elapsed, tuple(warnings))  # fmt: skip


def _shortfall(count: int, ids: Sequence[int], received: Iterable[int]) -> list[str]:
    """Warnings for the few records that vanish mid-run; a failure when many are missing."""
    missing = sorted(set(ids) - set(received))
    unlisted = max(count - len(ids), 0)
    tolerance = max(5, count // 1000)  # withdrawals between search and fetch happen
    if len(missing) + unlisted > tolerance:
        raise NCBIUnavailableError(
            f"NCBI counted {count:,} records but returned only {count - unlisted - len(missing):,}."
            " Its answers were incomplete: try again later. Nothing was changed."
        )
    notes = [f"PMID {pmid} was found by the search but not returned by efetch" for pmid in missing]
    if unlisted:
        notes.append(f"NCBI counted {count:,} records but listed {len(ids):,}")
    return notes


# -- planning: which ids --------------------------------------------------------------------


def _plan(session: _Session, query: str) -> tuple[SearchResult, list[int], list[str]]:
    """Every PMID the query matches, in as few searches as the 9,999 cap allows."""
    root = session.search(query, retmax=SEARCH_CAP)
    session.report("searching", total=root.count)
    warnings: list[str] = []
    if root.count <= SEARCH_CAP:
        return root, list(dict.fromkeys(root.ids)), warnings
    ids: dict[int, None] = {}
    for result in _slices(session, query, root.count):
        ids.update(dict.fromkeys(result))
        session.report("searching", records=len(ids), total=root.count)
    return root, list(ids), warnings


def _slices(session: _Session, query: str, total: int) -> Iterator[Sequence[int]]:
    """Ids slice by slice, newest creation dates first, each slice under the cap."""
    newest = date.today() + timedelta(days=1)
    days = max((newest - DENSITY_START).days, 1) * SLICE_FILL * SEARCH_CAP / total
    collected = 0
    while newest >= OLDEST_DAY:
        span = (newest - OLDEST_DAY).days + 1
        if total - collected <= SEARCH_CAP * 0.9 or days >= span:
            last = session.search(query, **_dates(OLDEST_DAY, newest), retmax=SEARCH_CAP)
            if last.count <= SEARCH_CAP:
                yield last.ids
                return
            total = collected + last.count  # the corpus grew while we searched
            days = min(days, span) * SEARCH_CAP * SLICE_FILL / last.count
            continue
        oldest = newest - timedelta(days=max(int(days), 1) - 1)
        part = session.search(query, **_dates(oldest, newest), retmax=SEARCH_CAP)
        if part.count > SEARCH_CAP:
            if oldest == newest:
                raise _crowded_day(oldest, part.count)
            days = max(days * SEARCH_CAP * SLICE_FILL / part.count, 1)
            continue
        yield part.ids
        collected += part.count
        # Size the next slice from the density just seen; an empty slice doubles the window.
        density = part.count / ((newest - oldest).days + 1)
        days = SEARCH_CAP * SLICE_FILL / density if density else days * 2
        newest = oldest - timedelta(days=1)


def _dates(oldest: date, newest: date) -> dict[str, str]:
    return {"mindate": oldest.strftime("%Y/%m/%d"), "maxdate": newest.strftime("%Y/%m/%d"),
            "datetype": "crdt"}  # fmt: skip


def _crowded_day(day: date, count: int) -> FetchError:
    """NCBI lists at most 9,999 ids per search, history server included: no way around it."""
    return NCBIQueryError(
        f"{count:,} matching records were created on {day:%Y-%m-%d}, more than the {SEARCH_CAP:,} "
        "ids NCBI will list for one search, and creation dates cannot be split finer than a day. "
        "Narrow the query (for example by publication type or language), or fetch that day with "
        "NCBI's EDirect tools and import the XML with `tracker import`. Nothing was changed."
    )


# -- downloading: the records ---------------------------------------------------------------


def _download(session: _Session, ids: Sequence[int], batch_size: int) -> dict[int, Article]:
    """Fetch and parse every batch; any batch that fails after its retries fails the run."""
    ordered = sorted(ids)
    batches = [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]
    articles: dict[int, Article] = {}
    for number, batch in enumerate(batches, start=1):
        wanted = set(batch)

        def attempt(batch: list[int] = batch) -> list[Article]:
            return list(read_articles(session.client.efetch(batch)).articles)

        got = session.call(f"batch {number} of {len(batches)}", attempt)
        for article in got:
            if article.pmid in wanted:
                articles[article.pmid] = article
        session.report("fetching", records=len(articles), total=len(ordered), batches=number,
                       batches_total=len(batches))  # fmt: skip
    if not batches:
        session.report("fetching", total=0)
    return articles


def minimum_requests(count: int, batch_size: int = 500) -> int:
    """NCBI's floor for fetching ``count`` records: searches plus efetch batches."""
    return max(math.ceil(count / 10_000), 1) + math.ceil(count / batch_size)
