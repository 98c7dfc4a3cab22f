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
- One process-wide pacer keeps requests under 3/s (10/s with an API key), and transient faults
  (429, 5xx, resets, time-outs, HTML pages, cut-off XML, ``<ERROR>`` in a 200) are retried with
  exponential back-off and full jitter, honouring a capped Retry-After: the courtesy every
  outside service gets (tracker/courtesy.py). A query NCBI rejects stops the run at once with a
  message saying what to change.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from tracker.config import Settings

# Pacer and RetryPolicy are re-exported: fetch() takes a policy, and callers build one from here.
from tracker.courtesy import Pacer as Pacer
from tracker.courtesy import PoliteCaller, RetriesExhaustedError
from tracker.courtesy import RetryPolicy as RetryPolicy
from tracker.defaults import EFETCH_BATCH_MAX, EFETCH_BATCH_SIZE, ESEARCH_CAP, NCBI_TIMEOUT_S
from tracker.entrez import Client, SearchResult
from tracker.errors import (
    BatchSizeInvalid,
    FetchError,
    NCBIQueryError,
    NCBIUnavailableError,
    ParseError,
    QueryRequired,
    TransientError,
)
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

OLDEST_DAY = date(1781, 1, 1)  # the oldest PubMed citations
DENSITY_START = date(1950, 1, 1)  # before this PubMed is sparse: ignore it when sizing slices
SLICE_FILL = 0.6


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
    """One run's requests to NCBI, through the polite caller that paces, retries and counts."""

    client: Client
    caller: PoliteCaller
    progress: ProgressCallback
    started: float = field(default_factory=time.monotonic)

    @property
    def requests(self) -> int:
        return self.caller.requests

    @property
    def retries(self) -> int:
        return self.caller.retries

    def call(self, what: str, action: Callable[[], T]) -> T:
        try:
            return self.caller.call(what, action)
        except RetriesExhaustedError as exc:
            raise NCBIUnavailableError(
                f"{exc}. NCBI may be busy or down, or the network unstable: try again later. "
                "Nothing was changed."
            ) from None

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
    batch_size: int = EFETCH_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = NCBI_TIMEOUT_S,
) -> FetchSummary:
    """Run ``query`` on PubMed, fetch every record and store them as one run."""
    query = query.strip()
    if not query:
        raise QueryRequired()
    if not 1 <= batch_size <= EFETCH_BATCH_MAX:
        raise BatchSizeInvalid(batch_size, low=1, high=EFETCH_BATCH_MAX)
    client = Client(settings, timeout=timeout)
    caller = PoliteCaller(Pacer.shared("ncbi", settings.rate_limit), policy or RetryPolicy(),
                          sleep)  # fmt: skip
    session = _Session(client, caller, progress or (lambda _: None))
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
    root = session.search(query, retmax=ESEARCH_CAP)
    session.report("searching", total=root.count)
    warnings: list[str] = []
    if root.count <= ESEARCH_CAP:
        return root, list(dict.fromkeys(root.ids)), warnings
    ids: dict[int, None] = {}
    for result in _slices(session, query, root.count):
        ids.update(dict.fromkeys(result))
        session.report("searching", records=len(ids), total=root.count)
    return root, list(ids), warnings


def _slices(session: _Session, query: str, total: int) -> Iterator[Sequence[int]]:
    """Ids slice by slice, newest creation dates first, each slice under the cap."""
    newest = date.today() + timedelta(days=1)
    days = max((newest - DENSITY_START).days, 1) * SLICE_FILL * ESEARCH_CAP / total
    collected = 0
    while newest >= OLDEST_DAY:
        span = (newest - OLDEST_DAY).days + 1
        if total - collected <= ESEARCH_CAP * 0.9 or days >= span:
            last = session.search(query, **_dates(OLDEST_DAY, newest), retmax=ESEARCH_CAP)
            if last.count <= ESEARCH_CAP:
                yield last.ids
                return
            total = collected + last.count  # the corpus grew while we searched
            days = min(days, span) * ESEARCH_CAP * SLICE_FILL / last.count
            continue
        oldest = newest - timedelta(days=max(int(days), 1) - 1)
        part = session.search(query, **_dates(oldest, newest), retmax=ESEARCH_CAP)
        if part.count > ESEARCH_CAP:
            if oldest == newest:
                raise _crowded_day(oldest, part.count)
            days = max(days * ESEARCH_CAP * SLICE_FILL / part.count, 1)
            continue
        yield part.ids
        collected += part.count
        # Size the next slice from the density just seen; an empty slice doubles the window.
        density = part.count / ((newest - oldest).days + 1)
        days = ESEARCH_CAP * SLICE_FILL / density if density else days * 2
        newest = oldest - timedelta(days=1)


def _dates(oldest: date, newest: date) -> dict[str, str]:
    return {"mindate": oldest.strftime("%Y/%m/%d"), "maxdate": newest.strftime("%Y/%m/%d"),
            "datetype": "crdt"}  # fmt: skip


def _crowded_day(day: date, count: int) -> FetchError:
    """NCBI lists at most 9,999 ids per search, history server included: no way around it."""
    return NCBIQueryError(
        f"{count:,} matching records were created on {day:%Y-%m-%d}, more than the "
        f"{ESEARCH_CAP:,} ids NCBI will list for one search, and creation dates cannot be split "
        "finer than a day. "
        "Narrow the query (for example by publication type or language), or fetch that day with "
        "NCBI's EDirect tools and import the XML. Nothing was changed."
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
            try:
                return list(read_articles(session.client.efetch(batch)).articles)
            except ParseError as exc:  # XML cut off mid-record: the next try usually arrives whole
                raise TransientError(str(exc)) from None

        got = session.call(f"batch {number} of {len(batches)}", attempt)
        for article in got:
            if article.pmid in wanted:
                articles[article.pmid] = article
        session.report("fetching", records=len(articles), total=len(ordered), batches=number,
                       batches_total=len(batches))  # fmt: skip
    if not batches:
        session.report("fetching", total=0)
    return articles


def minimum_requests(count: int, batch_size: int = EFETCH_BATCH_SIZE) -> int:
    """NCBI's floor for fetching ``count`` records: searches plus efetch batches."""
    return max(math.ceil(count / 10_000), 1) + math.ceil(count / batch_size)
