"""Citation metrics from NIH iCite, kept in ``citations.parquet`` beside the records.

The seam is one HTTP endpoint, ``GET {Settings.icite_url}pubs`` (TRACKER_ICITE_URL; tests point
it at tests/fake_icite.py), spoken through a ``requests.Session``. Nothing else here touches
the network, and the NCBI API key is never sent: iCite is not NCBI.

What we rely on about iCite, and where it is written down:

- ``/api/pubs?pmids=1,2,3`` answers JSON ``{"meta": {...}, "links": {"self": ...}, "data":
  [{...}, ...]}``, one object per PMID it knows; a PMID it does not know is simply left out
  (icite.od.nih.gov/api; the envelope as shown for ``/api/pubs?pmids=...`` in the openicite
  README on PyPI). We count those PMIDs and store nothing for them, rather than zeros.
- ``pmids`` takes "up to 1000 at a time" (icite.od.nih.gov/api), lowered to 200 on iCite's
  support page "Bulk Data and API" (support.icite.nih.gov); we send 200 per request. The
  commas go percent-encoded (``%2C``), as in the ``links.self`` iCite itself answers with.
- ``fl`` limits the fields (comma-separated, no spaces); ``format=csv`` would switch to CSV,
  so we leave ``format`` out and get the default JSON (same pages).
- Field names (legacy names, the default): ``pmid``, ``year``, ``citation_count``,
  ``relative_citation_ratio``, ``nih_percentile``, ``is_clinical``, ``provisional``, also
  ``expected_citations_per_year`` and ``field_citation_rate`` (same pages).
- ``relative_citation_ratio`` (and so ``nih_percentile``) is null for papers too recent or too
  little cited to have one, and ``provisional`` marks recent years' values (iCite support's
  "Descriptions of Influence Module data fields", as summarised in the icite_api_summary.md of
  LeviMelo/needle_in_a_haysack). We keep the null as NaN.
- ``is_clinical`` and ``provisional`` are ``"Yes"``/``"No"`` in the documented legacy example
  and JSON booleans in current answers (the support page's example): both are accepted.
- iCite publishes no rate limit and no error body for an over-long ``pmids``; we pace at
  3 requests/s, retry 429/5xx/resets/cut-off bodies with back-off (honouring a capped
  Retry-After: the courtesy every outside service gets, tracker/courtesy.py), and stop at once
  on any other 4xx with the server's own words in the message.

None of this was checked against the live service (no network where it was written): the
fake in tests/fake_icite.py follows these documents, so a change at iCite shows up as a clear
"answered in an unknown shape" error rather than wrong numbers.

A run is all or nothing: metrics are written only after every batch arrived and passed
validation, atomically under the store's lock; a failed run leaves the file byte-identical.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
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
from tracker.defaults import ICITE_BATCH_SIZE, ICITE_RATE_PER_S, ICITE_TIMEOUT_S
from tracker.errors import (
    CitationError,
    DataDirUnusable,
    MetricsDamaged,
    StoreError,
    TransientError,
    WholeRebuildRequired,
)
from tracker.fetch import Progress, ProgressCallback
from tracker.store import Store

TABLE = "citations"
FIELDS = ("pmid", "year", "citation_count", "relative_citation_ratio", "nih_percentile",
          "is_clinical", "provisional")  # fmt: skip

CITATION_SCHEMA = pa.schema(
    [
        pa.field("pmid", pa.int64(), nullable=False),
        ("citation_count", pa.int64()),
        ("relative_citation_ratio", pa.float64()),
        ("nih_percentile", pa.float64()),
        ("year", pa.int64()),
        ("is_clinical", pa.bool_()),
        ("provisional", pa.bool_()),
        ("fetched_at", pa.string()),
    ]
)
DTYPES: dict[str, str] = {
    "pmid": "int64",
    "citation_count": "Int64",
    "relative_citation_ratio": "float64",
    "nih_percentile": "float64",
    "year": "Int64",
    "is_clinical": "boolean",
    "provisional": "boolean",
    "fetched_at": "string",
}
JOINED_NAMES = {"year": "icite_year", "fetched_at": "citations_fetched_at"}
"""Renamed in :func:`with_metrics`: records have a PubMed ``year`` of their own."""


@dataclass(frozen=True, slots=True)
class EnrichSummary:
    """What one ``enrich`` run asked, found and cost."""

    asked: int
    found: int
    unknown_pmids: tuple[int, ...]
    requests: int
    retries: int
    seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def unknown(self) -> int:
        return len(self.unknown_pmids)

    def line(self) -> str:
        return (
            f"{self.asked:,} PMIDs: {self.found:,} with citation metrics, {self.unknown:,} "
            f"unknown to iCite; {self.requests:,} requests, {self.retries:,} retries, "
            f"{self.seconds:.1f} s"
        )


class _RefusedError(Exception):
    """Not worth another try: iCite refused the request or answered in an unknown shape."""


@dataclass
class _Client:
    """One run's requests to iCite, through the polite caller that paces, retries and counts."""

    settings: Settings
    caller: PoliteCaller
    session: requests.Session = field(default_factory=requests.Session)
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.session.headers.update({"User-Agent": user_agent(self.settings.email),
                                     "Accept": "application/json"})  # fmt: skip
        self.url = self.settings.icite_url.rstrip("/") + "/pubs"

    def metrics(self, batch: Sequence[int], label: str) -> list[dict[str, Any]]:
        """The validated rows iCite has for one batch, retried while failures are transient."""
        try:
            return self.caller.call(label, lambda: _rows(self._get(batch), set(batch)))
        except RetriesExhaustedError as exc:
            raise _failed(str(exc), "iCite may be busy or down, or the network unstable: "
                          "try again later") from None  # fmt: skip
        except _RefusedError as exc:
            raise _failed(f"{label} was refused: {exc}",
                          "Check TRACKER_ICITE_URL and iCite's API page "
                          "(icite.od.nih.gov/api), then try again") from None  # fmt: skip

    def _get(self, batch: Sequence[int]) -> Any:
        params = {"pmids": ",".join(map(str, batch)), "fl": ",".join(FIELDS)}
        try:
            response = self.session.get(self.url, params=params, timeout=ICITE_TIMEOUT_S)
            body = response.content
        except requests.Timeout:
            raise TransientError(f"no answer within {ICITE_TIMEOUT_S:g} s") from None
        except requests.RequestException as exc:
            raise TransientError(f"connection failed ({type(exc).__name__})") from None
        status = response.status_code
        if status in TRANSIENT_STATUSES:
            wait = retry_after(response.headers.get("Retry-After"))
            raise TransientError(f"HTTP {status}{body_excerpt(body)}", retry_after=wait)
        if status != 200:
            raise _RefusedError(f"HTTP {status}{body_excerpt(body)}")
        try:
            return response.json()
        except ValueError:
            # A proxy's HTML error page or a body cut off mid-way: the next try usually works.
            raise TransientError(f"HTTP 200 but not JSON{body_excerpt(body)}") from None


def enrich(
    store: Store,
    settings: Settings,
    *,
    pmids: Iterable[int] | None = None,
    progress: ProgressCallback | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> EnrichSummary:
    """Fetch iCite's metrics for every stored PMID (or ``pmids``) and store them, all or nothing.

    The PMIDs fetched replace their earlier metrics (a PMID iCite no longer knows loses its
    old row, since keeping it would show stale numbers as current); all others are kept.
    """
    started = time.monotonic()
    wanted = sorted(set(store.known_pmids() if pmids is None else _valid(pmids)))
    caller = PoliteCaller(Pacer.shared("icite", ICITE_RATE_PER_S), policy or RetryPolicy(), sleep)
    client = _Client(settings, caller)
    batches = [wanted[i : i + ICITE_BATCH_SIZE] for i in range(0, len(wanted), ICITE_BATCH_SIZE)]
    report = progress or (lambda _: None)
    rows: list[dict[str, Any]] = []
    with client.session:
        for number, batch in enumerate(batches, start=1):
            label = f"batch {number} of {len(batches)} (PMIDs {batch[0]}–{batch[-1]})"
            rows += client.metrics(batch, label)
            report(Progress("citations", records=min(number * ICITE_BATCH_SIZE, len(wanted)),
                            total=len(wanted), batches=number, batches_total=len(batches),
                            requests=caller.requests, retries=caller.retries,
                            elapsed=time.monotonic() - started))  # fmt: skip
    warnings = _save(store, wanted, rows, full=pmids is None) if wanted else []
    found = {row["pmid"] for row in rows}
    return EnrichSummary(len(wanted), len(found), tuple(p for p in wanted if p not in found),
                         caller.requests, caller.retries, time.monotonic() - started,
                         tuple(warnings))  # fmt: skip


def load(store: Store) -> pd.DataFrame:
    """The stored metrics, one row per PMID, typed as :data:`DTYPES`; empty when none yet."""
    try:
        table = store.read_side_table(TABLE)
        if table is None:
            return _frame(CITATION_SCHEMA.empty_table())
        return _frame(table.select(CITATION_SCHEMA.names).cast(CITATION_SCHEMA))
    except (StoreError, KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ else exc
        raise MetricsDamaged(store.describe_side_table(TABLE), reason) from exc


def with_metrics(records: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """``records`` with the metrics columns added by PMID: every record kept, in its order.

    Records iCite has no metrics for get missing values (NA or NaN), never zeros. iCite's
    ``year`` and ``fetched_at`` arrive as ``icite_year`` and ``citations_fetched_at``.
    """
    extra = metrics.rename(columns=JOINED_NAMES)
    added = [name for name in extra.columns if name != "pmid"]
    base = records.drop(columns=[name for name in added if name in records.columns])
    joined = base.merge(extra, on="pmid", how="left", validate="many_to_one", sort=False)
    joined.index = records.index
    return joined


def _save(store: Store, wanted: Sequence[int], rows: list[dict[str, Any]], *,
          full: bool) -> list[str]:  # fmt: skip
    """Merge this run's rows over the stored ones and replace the file under the lock."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    fresh = pa.Table.from_pylist([row | {"fetched_at": stamp} for row in rows],
                                 schema=CITATION_SCHEMA)  # fmt: skip
    warnings: list[str] = []
    try:
        with store.locked():
            try:
                old = load(store)
            except StoreError as exc:
                if not full:
                    raise WholeRebuildRequired(store.describe_side_table(TABLE)) from exc
                warnings.append(f"the unreadable {TABLE}.parquet was rebuilt from scratch")
                old = _frame(CITATION_SCHEMA.empty_table())
            kept = old[~old["pmid"].isin(wanted)]
            kept_table = pa.Table.from_pandas(kept, schema=CITATION_SCHEMA, preserve_index=False)
            merged = pa.concat_tables([kept_table, fresh])
            store.write_side_table(TABLE, merged.sort_by("pmid").combine_chunks())
    except OSError as exc:
        raise DataDirUnusable(
            store.location, str(exc.strerror or exc), doing="write the citation metrics in"
        ) from exc
    return warnings


def _frame(table: pa.Table) -> pd.DataFrame:
    mapper = {pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}
    frame: pd.DataFrame = table.to_pandas(types_mapper=mapper.get)
    return frame.astype(DTYPES)


def _rows(answer: Any, asked: set[int]) -> list[dict[str, Any]]:
    """iCite's ``data`` checked field by field; rows for PMIDs not asked for are dropped."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("data"), list):
        raise _RefusedError(f"the JSON has no `data` list (keys: {answer_keys(answer)})")
    rows: dict[int, dict[str, Any]] = {}
    for item in answer["data"]:
        if not isinstance(item, Mapping):
            raise _RefusedError(f"`data` holds a {type(item).__name__}, not an object")
        row = _row(item)
        if row["pmid"] in asked:
            rows[row["pmid"]] = row
    return list(rows.values())


def _row(item: Mapping[str, Any]) -> dict[str, Any]:
    pmid = _whole(item, "pmid")
    if pmid is None:
        raise _RefusedError(f"an entry has no PMID (keys: {answer_keys(item)})")
    try:
        return {
            "pmid": pmid,
            "citation_count": _whole(item, "citation_count"),
            "relative_citation_ratio": _number(item, "relative_citation_ratio"),
            "nih_percentile": _number(item, "nih_percentile"),
            "year": _whole(item, "year"),
            "is_clinical": _flag(item, "is_clinical"),
            "provisional": _flag(item, "provisional"),
        }
    except _RefusedError as exc:
        raise _RefusedError(f"PMID {pmid}: {exc}") from None


def _whole(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _RefusedError(f"{name} is {value!r}, not a whole number")


def _number(item: Mapping[str, Any], name: str) -> float:
    value = item.get(name)
    if value is None:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise _RefusedError(f"{name} is {value!r}, not a number")


def _flag(item: Mapping[str, Any], name: str) -> bool | None:
    value = item.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return value.strip().lower() == "yes"
    raise _RefusedError(f"{name} is {value!r}, not Yes/No or true/false")


def _valid(pmids: Iterable[int]) -> list[int]:
    chosen = list(pmids)
    bad = [p for p in chosen if isinstance(p, bool) or not isinstance(p, int) or p <= 0]
    if bad:
        raise CitationError(f"Not PMIDs: {bad[:5]}. A PMID is a positive whole number.")
    return chosen


def _failed(what: str, advice: str) -> CitationError:
    return CitationError(
        f"iCite {what}. Nothing was changed: the stored citation metrics are as they"
        f" were. {advice}."
    )
