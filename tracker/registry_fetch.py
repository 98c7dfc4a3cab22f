"""A search of ClinicalTrials.gov as one run of the store, all or nothing, like a PubMed fetch.

:mod:`tracker.clinicaltrials` speaks to the registry and returns every study or raises; this
module logs the search as a run whose source is the registry (so PRISMA counts it under
"registers" and the search log gives it its own row), stores the studies with it, and merges
registrations another database also holds (a CENTRAL copy of a ClinicalTrials.gov record). A
trial's results article is only *related* to its registration, never merged with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.clinicaltrials import SOURCE, TrialQuery, fetch_trials
from tracker.config import Settings
from tracker.errors import QueryRequired
from tracker.merging import MergeSummary, merge_automatic
from tracker.store import RunSummary, Store


@dataclass(frozen=True, slots=True)
class RegistryFetch:
    """A finished registry search: the run's summary, the registry's own count, the cost, and
    what merging across databases did."""

    summary: RunSummary
    total: int | None
    pages: int
    requests: int
    retries: int
    seconds: float
    merges: MergeSummary


def describe(query: TrialQuery) -> str:
    """The search as the run log and the search log show it (the API's own parameter names,
    so it can be re-run as written)."""
    return "; ".join(f"{name}={value}" for name, value in query.params().items())


def fetch_registry(
    store: Store, settings: Settings, *, query: TrialQuery | None = None, **options: Any
) -> RegistryFetch:
    """Search ClinicalTrials.gov and store every study as one run, or nothing.

    ``options`` pass to :func:`tracker.clinicaltrials.fetch_trials` (page size, retry policy,
    pacing; tests make them fast). A search that fails is logged as a failed run with the
    registry's words, and no record changes.
    """
    chosen = query or TrialQuery()
    if not chosen.params():
        raise QueryRequired()  # an empty search would ask for every study the registry holds
    run_id = store.begin_run(kind="fetch", query=describe(chosen), api_key_used=False,
                             source=SOURCE)  # fmt: skip
    with store.failing_run(run_id):
        found = fetch_trials(settings, query=chosen, **options)
        summary = store.complete_run(run_id, [], records=found.studies, count=found.total,
                                     requests=found.requests, retries=found.retries)  # fmt: skip
    merges = merge_automatic(store)
    return RegistryFetch(summary, found.total, found.pages, found.requests, found.retries,
                         found.seconds, merges)  # fmt: skip
