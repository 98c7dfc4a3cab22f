"""Registered trials from ClinicalTrials.gov (its Data API v2), all or nothing.

The seam is one HTTP endpoint, ``GET {Settings.ctgov_url}studies`` (TRACKER_CTGOV_URL; tests
point it at tests/fake_clinicaltrials.py), spoken through a ``requests.Session``; pacing,
back-off and Retry-After come from tracker/courtesy.py, like every outside service's.

What we rely on, and where it is written down (ClinicalTrials.gov "Data API" pages,
clinicaltrials.gov/data-api/api, and the OpenAPI document they publish, ctg-oas-v2.yaml,
API version 2.0.x):

- ``/studies`` takes ``query.cond`` (conditions), ``query.intr`` (interventions),
  ``query.term`` (other terms), in the registry's Essie syntax (``OR``, parentheses);
  ``pageSize`` (default 10, at most 1,000); ``pageToken``; ``countTotal=true`` (the total is
  sent with the first page only); ``format=json`` (the default).
- The answer is ``{"totalCount": n, "studies": [...], "nextPageToken": "…"}``; the last page
  has no ``nextPageToken``. A study is ``{"protocolSection": {...}, "derivedSection": {...},
  "hasResults": bool}``; we read from ``protocolSection``: ``identificationModule`` (nctId,
  briefTitle, officialTitle), ``descriptionModule.briefSummary``, ``conditionsModule
  .conditions``, ``armsInterventionsModule.interventions[].name`` (with ``type``: DRUG, …),
  ``designModule`` (``phases``: ["PHASE2", "PHASE3"], ``enrollmentInfo.count``),
  ``statusModule`` (``overallStatus``, ``startDateStruct.date``, ``completionDateStruct
  .date``, dates as "2021-03" or "2021-03-15") and ``referencesModule.references[]``
  (``pmid``, ``type``: BACKGROUND, RESULT or DERIVED, ``citation``).
- A malformed parameter is answered 400 with a plain-text reason; we stop at once with it.
- No request limit is published; the site's robots.txt asks crawlers for one second between
  requests and users report throttling above about 50 a minute, so we pace at
  :data:`RATE_PER_S` and retry 429/5xx, resets, cut-off JSON and HTML error pages.

None of this was checked against the live service (no network where it was written): the fake
follows these documents, so a change there shows as a clear "answered in an unknown shape".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from tracker.config import Settings
from tracker.courtesy import (
    TRANSIENT_STATUSES,
    Pacer,
    PoliteCaller,
    RetriesExhaustedError,
    RetryPolicy,
    answer_keys,
    body_excerpt,
    retry_after,
    user_agent,
)
from tracker.errors import FetchError, TransientError
from tracker.source_record import AccessionKind, RecordKind, SourceRecord, normalise_pmid, year_of

SOURCE = "ClinicalTrials.gov"
FORMAT = "ClinicalTrials.gov API v2"
DEFAULT_CONDITIONS = (
    "chronic pain OR neuropathic pain OR neuralgia OR complex regional pain syndrome OR "
    "fibromyalgia OR cancer pain OR postoperative pain OR chronic postsurgical pain OR "
    "low back pain OR phantom limb OR migraine OR headache"
)
DEFAULT_INTERVENTIONS = "esketamine OR ketamine OR arketamine"
PAGE_SIZE = 1_000
"""Studies per page: the API's maximum, so a review's few thousand trials take a few pages."""
RATE_PER_S = 1.0
"""One request a second: robots.txt's Crawl-delay; reported throttling starts near 50 a minute."""
TIMEOUT_S = 60.0
"""Per request: a page of 1,000 full studies is several megabytes."""


class ClinicalTrialsError(FetchError):
    """ClinicalTrials.gov's studies could not all be fetched; nothing was returned."""


@dataclass(frozen=True, slots=True)
class TrialQuery:
    """What to ask the registry for: conditions AND interventions (AND other terms)."""

    conditions: str = DEFAULT_CONDITIONS
    interventions: str = DEFAULT_INTERVENTIONS
    term: str = ""

    def params(self) -> dict[str, str]:
        named = {"query.cond": self.conditions, "query.intr": self.interventions,
                 "query.term": self.term}  # fmt: skip
        return {name: value for name, value in named.items() if value.strip()}


@dataclass(frozen=True, slots=True)
class TrialFetch:
    """One whole fetch: every study the query matched, and what it cost."""

    studies: tuple[SourceRecord, ...]
    total: int | None
    pages: int
    requests: int
    retries: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Page:
    studies: list[SourceRecord]
    total: int | None
    token: str | None


class _RefusedError(Exception):
    """Not worth another try: the registry refused the request or answered in an unknown shape."""


@dataclass
class _Client:
    url: str
    caller: PoliteCaller
    timeout: float
    session: requests.Session = field(default_factory=requests.Session)

    def page(self, params: dict[str, str], number: int) -> _Page:
        """One page, read whole; retried while failures are transient."""
        label = f"page {number}"
        try:
            return self.caller.call(label, lambda: _read_page(self._get(params), number))
        except RetriesExhaustedError as exc:
            raise ClinicalTrialsError(
                f"ClinicalTrials.gov {exc}. Nothing was fetched: the registry may be busy or"
                " down, or the network unstable; try again later."
            ) from None
        except _RefusedError as exc:
            raise ClinicalTrialsError(
                f"ClinicalTrials.gov refused {label}: {exc}. Nothing was fetched: check the"
                " query's terms and TRACKER_CTGOV_URL, then try again."
            ) from None

    def _get(self, params: dict[str, str]) -> Any:  # TransientError for what may pass
        try:
            response = self.session.get(self.url, params=params, timeout=self.timeout)
            body = response.content
        except requests.Timeout:
            raise TransientError(f"no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise TransientError(f"connection failed ({type(exc).__name__})") from None
        if response.status_code in TRANSIENT_STATUSES:
            wait = retry_after(response.headers.get("Retry-After"))
            raise TransientError(
                f"HTTP {response.status_code}{body_excerpt(body)}", retry_after=wait
            )
        if response.status_code != 200:
            raise _RefusedError(f"HTTP {response.status_code}{body_excerpt(body)}")
        try:
            return response.json()
        except ValueError:  # an HTML error page, or JSON cut off mid-way: the next try may work
            raise TransientError(f"HTTP 200 but not whole JSON{body_excerpt(body)}") from None


def fetch_trials(
    settings: Settings,
    *,
    query: TrialQuery | None = None,
    page_size: int = PAGE_SIZE,
    policy: RetryPolicy | None = None,
    pacer: Pacer | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = TIMEOUT_S,
) -> TrialFetch:
    """Every study matching ``query`` (the default: ketamine for chronic pain), page by page.

    All or nothing: a page that still fails after its retries raises ClinicalTrialsError and
    nothing is returned, so a caller stores a whole result or none.
    """
    started = time.monotonic()
    caller = PoliteCaller(pacer or Pacer.shared("clinicaltrials", RATE_PER_S),
                          policy or RetryPolicy(), sleep)  # fmt: skip
    client = _Client(settings.ctgov_url.rstrip("/") + "/studies", caller, timeout)
    client.session.headers.update({"User-Agent": user_agent(settings.email),
                                   "Accept": "application/json"})  # fmt: skip
    base = (query or TrialQuery()).params() | {"pageSize": str(page_size), "format": "json"}
    studies: dict[str, SourceRecord] = {}
    total: int | None = None
    token: str | None = None
    page = 0
    with client.session:
        while page == 0 or token:
            page += 1
            params = base | ({"pageToken": token} if token else {"countTotal": "true"})
            answer = client.page(params, page)
            total = answer.total if page == 1 else total
            for record in answer.studies:
                studies.setdefault(record.nct, record)
            token = answer.token
    _check_complete(len(studies), total)
    return TrialFetch(tuple(studies.values()), total, page, caller.requests, caller.retries,
                      time.monotonic() - started)  # fmt: skip


def parse_study(study: Mapping[str, Any], page: int | None = None) -> SourceRecord:
    """One study of the API's ``studies`` list as a trial SourceRecord."""
    try:
        return _study(study, page)
    except _RefusedError as exc:
        raise ClinicalTrialsError(f"ClinicalTrials.gov {exc}.") from None


def _study(study: Mapping[str, Any], page: int | None) -> SourceRecord:
    protocol = _module(study, "protocolSection")
    ident = _module(protocol, "identificationModule")
    nct = ident.get("nctId")
    if not isinstance(nct, str) or not nct.startswith("NCT"):
        raise _RefusedError(f"a study has no NCT number (keys: {answer_keys(ident)})")
    status = _module(protocol, "statusModule")
    design = _module(protocol, "designModule")
    start = _date(status, "startDateStruct")
    enrolment = _module(design, "enrollmentInfo").get("count")
    return SourceRecord(
        source=SOURCE, format=FORMAT, origin=f"{SOURCE} API", page=page, kind=RecordKind.TRIAL,
        title=str(ident.get("officialTitle") or ident.get("briefTitle") or ""),
        abstract=str(_module(protocol, "descriptionModule").get("briefSummary") or ""),
        year=year_of(start), accessions={AccessionKind.NCT.value: nct},
        url=f"https://clinicaltrials.gov/study/{nct}",
        conditions=_strings(_module(protocol, "conditionsModule").get("conditions")),
        interventions=tuple(str(i.get("name", "")) for i in _objects(
            _module(protocol, "armsInterventionsModule").get("interventions")) if i.get("name")),
        phase=", ".join(_strings(design.get("phases"))),
        status=str(status.get("overallStatus") or ""),
        enrolment=enrolment if isinstance(enrolment, int) else None,
        start_date=start, completion_date=_date(status, "completionDateStruct"),
        linked_pmids=tuple(dict.fromkeys(
            pmid for ref in _objects(_module(protocol, "referencesModule").get("references"))
            if (pmid := normalise_pmid(ref.get("pmid"))) is not None)),
    )  # fmt: skip


def _read_page(answer: Any, number: int) -> _Page:
    """A page's studies, total and next token, or _RefusedError naming what is not as documented."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("studies"), list):
        raise _RefusedError(f"answered in an unknown shape (keys: {answer_keys(answer)})")
    token = answer.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise _RefusedError(f"nextPageToken is {token!r}, not text")
    total = answer.get("totalCount")
    studies = [_study(study, number) for study in _objects(answer["studies"])]
    if len(studies) != len(answer["studies"]):
        raise _RefusedError("the studies list holds something other than studies")
    counted = total if isinstance(total, int) and not isinstance(total, bool) else None
    return _Page(studies, counted, token or None)


def _check_complete(found: int, total: int | None) -> None:
    if total is not None and found != total:
        raise ClinicalTrialsError(
            f"ClinicalTrials.gov counted {total:,} studies but its pages held {found:,}"
            " different ones (the registry may have changed during the fetch). Nothing was"
            " fetched: try again."
        )


def _module(parent: Any, name: str) -> Mapping[str, Any]:
    value = parent.get(name) if isinstance(parent, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value if v) if isinstance(value, list) else ()


def _date(status: Mapping[str, Any], name: str) -> str:
    return str(_module(status, name).get("date") or "")
