"""PRISMA 2020 flow counts from the run log and the screening events, and the diagram.

Two templates. A *new review* counts every stored record. An *updated review* (``since_run``:
the last run of the previous version) counts only the records first found after that run, and
adds the studies the previous version included.

How records fall into boxes (their final decision per stage, see :mod:`tracker.screening`):

- identified: records in scope, one per stored row, so a study found in PubMed and in Embase
  counts twice, as the template's "records identified" does; split by the ``source`` of each
  row into databases and registers (trial registries, :data:`REGISTERS`), each listed with its
  n; per run, what each search retrieved.
- duplicates removed: records a reviewer confirmed as duplicates; screened = the rest.
- excluded at screening: title/abstract "exclude", unless the record went on to full text.
- reports sought: title/abstract "include", or any full-text decision at all.
- awaiting screening: the rest (unscreened, maybe, unresolved conflict).
- not retrieved: full-text "exclude" with reason "not retrievable"; assessed: the other sought.
- excluded reports, per reason; included: full-text "include"; awaiting assessment: the rest.

So every box is the sum of its parts (databases + registers = identified, and included +
excluded + pending = screened); :meth:`PrismaCounts.problems` checks it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import pandas as pd

from tracker import duplicates, screening
from tracker.errors import ScreeningError
from tracker.records import PUBMED, Decision, ExclusionReason
from tracker.store import Store

NOT_RETRIEVED = ExclusionReason.NOT_RETRIEVABLE.value
INCLUDE, EXCLUDE = Decision.INCLUDE.value, Decision.EXCLUDE.value

REGISTERS = frozenset(
    {"ClinicalTrials.gov", "WHO ICTRP", "EU CTR", "EU Clinical Trials Register", "CTIS",
     "ISRCTN"}
)  # fmt: skip
"""The trial registries: PRISMA 2020 counts records from them apart from the databases'."""
UNNAMED_SOURCE = "source not recorded"


@dataclass(frozen=True, slots=True)
class SearchCount:
    """One finished search or import run: what it retrieved and how many were new."""

    run_id: int
    started_at: str
    kind: str
    retrieved: int
    new: int
    source: str = PUBMED


@dataclass(frozen=True, slots=True)
class PrismaCounts:
    """The numbers in the boxes of the PRISMA 2020 flow diagram."""

    template: str
    searches: tuple[SearchCount, ...]
    identified: int
    duplicates_removed: int
    screened: int
    excluded_screening: int
    screening_pending: int
    sought: int
    not_retrieved: int
    assessed: int
    excluded_reports: dict[str, int] = field(default_factory=dict)
    assessment_pending: int = 0
    included: int = 0
    previous_included: int = 0
    databases: dict[str, int] = field(default_factory=dict)
    registers: dict[str, int] = field(default_factory=dict)

    @property
    def identified_databases(self) -> int:
        return sum(self.databases.values())

    @property
    def identified_registers(self) -> int:
        return sum(self.registers.values())

    @property
    def total_included(self) -> int:
        return self.previous_included + self.included

    @property
    def excluded_assessment(self) -> int:
        return sum(self.excluded_reports.values())

    def problems(self) -> list[str]:
        """The boxes whose parts do not add up (empty when the diagram is consistent)."""
        checks = {
            "identified = databases + registers": self.identified
            == self.identified_databases + self.identified_registers,
            "identified = duplicates removed + screened": self.identified
            == self.duplicates_removed + self.screened,
            "screened = excluded + sought + awaiting screening": self.screened
            == self.excluded_screening + self.sought + self.screening_pending,
            "sought = not retrieved + assessed": self.sought == self.not_retrieved + self.assessed,
            "assessed = excluded + included + awaiting assessment": self.assessed
            == self.excluded_assessment + self.included + self.assessment_pending,
        }
        return [name for name, ok in checks.items() if not ok]

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["identified_databases"] = self.identified_databases
        data["identified_registers"] = self.identified_registers
        data["excluded_assessment"] = self.excluded_assessment
        data["total_included"] = self.total_included
        return data


def counts(store: Store, *, since_run: int | None = None) -> PrismaCounts:
    """Count every PRISMA box from the store's runs and events."""
    runs = store.runs()
    done = runs[runs["status"] == "succeeded"]
    previous = _previous_pmids(store, done, since_run)
    state = screening.summary(store)
    in_scope = state[~state.index.isin(previous)]
    removed = duplicates.confirmed(store) & set(in_scope.index.tolist())
    screened = in_scope[~in_scope.index.isin(removed)]
    ta, ft = screened["ta_decision"], screened["ft_decision"]
    reached = (ta == INCLUDE) | (ft != Decision.UNSCREENED.value)
    excluded = ~reached & (ta == EXCLUDE)
    at_full_text = screened[reached]
    reasons = at_full_text.loc[at_full_text["ft_decision"] == EXCLUDE, "exclusion_reason"]
    not_retrieved = int((reasons == NOT_RETRIEVED).sum())
    by_reason = reasons[reasons != NOT_RETRIEVED].value_counts().sort_index()
    decided = at_full_text["ft_decision"].isin([INCLUDE, EXCLUDE])
    old = state[state.index.isin(previous)]
    databases, registers = _identified_by_source(store, in_scope.index)
    return PrismaCounts(
        template="updated" if since_run is not None else "new",
        searches=_searches(done, since_run),
        identified=len(in_scope),
        duplicates_removed=len(removed),
        screened=len(screened),
        excluded_screening=int(excluded.sum()),
        screening_pending=int((~reached & ~excluded).sum()),
        sought=len(at_full_text),
        not_retrieved=not_retrieved,
        assessed=len(at_full_text) - not_retrieved,
        excluded_reports={str(k): int(v) for k, v in by_reason.items()},
        assessment_pending=int((~decided).sum()),
        included=int((at_full_text["ft_decision"] == INCLUDE).sum()),
        previous_included=int((old["ft_decision"] == INCLUDE).sum()),
        databases=databases,
        registers=registers,
    )


def _identified_by_source(
    store: Store, in_scope: pd.Index
) -> tuple[dict[str, int], dict[str, int]]:
    """How many of the records in scope each database and each register gave, most first.

    Every stored row counts once for the source that gave it, duplicates included: they were
    identified, and "duplicates removed" takes them out again.
    """
    records = store.records(["record_id", "source"])
    chosen = records[records["record_id"].isin(in_scope).to_numpy(dtype=bool)]
    names = chosen["source"].fillna("").astype(str).replace("", UNNAMED_SOURCE)
    found = sorted(names.value_counts().items(), key=lambda pair: (-pair[1], pair[0]))
    databases = {str(n): int(c) for n, c in found if n not in REGISTERS}
    registers = {str(n): int(c) for n, c in found if n in REGISTERS}
    return databases, registers


def _previous_pmids(store: Store, done: pd.DataFrame, since_run: int | None) -> set[int]:
    """Every PMID the previous version's runs returned (empty for a new review)."""
    if since_run is None:
        return set()
    ids = [int(i) for i in done["id"]]
    if since_run not in ids:
        raise ScreeningError(
            f"No finished run {since_run}: an updated review counts from the last run of the "
            "previous version; the search log lists the run numbers."
        )
    previous: set[int] = set()
    for run_id in (i for i in ids if i <= since_run):
        previous |= store.run_records(run_id)
    return previous


def _searches(done: pd.DataFrame, since_run: int | None) -> tuple[SearchCount, ...]:
    return tuple(
        SearchCount(int(r["id"]), str(r["started_at"]), str(r["kind"]), int(r["retrieved"] or 0),
                    int(r["new"] or 0), str(r.get("source") or PUBMED))
        for r in done.to_dict(orient="records")
        if since_run is None or int(r["id"]) > since_run
    )  # fmt: skip


# -- rendering ---------------------------------------------------------------------------------


def to_text(c: PrismaCounts) -> str:
    """The flow as plain lines, for a terminal or a methods section."""
    lines = [f"PRISMA 2020 flow ({c.template} review)", "Identification",
             f"  Records identified: {c.identified:,} ({_runs(c)}), from:"]  # fmt: skip
    lines += [f"    {line}" for line in _identified_lines(c)]
    lines += [f"    run {s.run_id} ({s.started_at[:10]}, {s.source} {s.kind}): "
              f"{s.retrieved:,} retrieved, {s.new:,} new" for s in c.searches]  # fmt: skip
    lines += [f"  Duplicate records removed: {c.duplicates_removed:,}", "Screening",
              f"  Records screened: {c.screened:,}",
              f"    excluded: {c.excluded_screening:,}",
              f"    awaiting screening: {c.screening_pending:,}",
              f"  Reports sought for retrieval: {c.sought:,}",
              f"    not retrieved: {c.not_retrieved:,}",
              f"  Reports assessed for eligibility: {c.assessed:,}",
              f"    excluded: {c.excluded_assessment:,}"]  # fmt: skip
    lines += [f"      {reason}: {n:,}" for reason, n in c.excluded_reports.items()]
    lines += [f"    awaiting assessment: {c.assessment_pending:,}", "Included"]
    if c.template == "updated":
        lines += [f"  Studies included in previous version: {c.previous_included:,}",
                  f"  New studies included: {c.included:,}"]  # fmt: skip
    lines += [f"  Total studies included in review: {c.total_included:,}"]
    return "\n".join(lines)


def _identified_lines(c: PrismaCounts) -> list[str]:
    """The template's "Records identified from" list: databases, then registers, each with
    its n and then each source with its own."""
    lines = [f"Databases (n = {c.identified_databases:,})"]
    lines += [f"  {name} (n = {n:,})" for name, n in c.databases.items()]
    lines += [f"Registers (n = {c.identified_registers:,})"]
    lines += [f"  {name} (n = {n:,})" for name, n in c.registers.items()]
    return lines


def _runs(c: PrismaCounts) -> str:
    return f"{len(c.searches)} search run{'' if len(c.searches) == 1 else 's'}"


def to_json(c: PrismaCounts) -> str:
    return json.dumps(c.as_dict(), indent=2, ensure_ascii=False)


def _label(*lines: str, left: bool = False) -> str:
    """A DOT label: each line escaped, joined by DOT's centred (\\n) or left (\\l) break."""
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return ("\\l".join(escaped) + "\\l") if left else "\\n".join(escaped)


def _boxes(c: PrismaCounts) -> dict[str, str]:
    reasons = [f"  {r} (n = {n:,})" for r, n in c.excluded_reports.items()]
    boxes = {
        "identified": _label(
            f"Records identified (n = {c.identified:,}; {_runs(c)}) from:",
            *_identified_lines(c),
            left=True,
        ),
        "duplicates": _label(
            "Records removed before screening:", f"duplicate records (n = {c.duplicates_removed:,})"
        ),
        "screened": _label("Records screened", f"(n = {c.screened:,})"),
        "excluded": _label(
            f"Records excluded (n = {c.excluded_screening:,})",
            f"Awaiting screening (n = {c.screening_pending:,})",
        ),
        "sought": _label("Reports sought for retrieval", f"(n = {c.sought:,})"),
        "not_retrieved": _label("Reports not retrieved", f"(n = {c.not_retrieved:,})"),
        "assessed": _label("Reports assessed for eligibility", f"(n = {c.assessed:,})"),
        "reports_excluded": _label(
            f"Reports excluded (n = {c.excluded_assessment:,}):",
            *reasons,
            f"Awaiting assessment (n = {c.assessment_pending:,})",
            left=True,
        ),
        "included": _label("New studies included in review", f"(n = {c.included:,})"),
    }
    if c.template == "updated":
        boxes["previous"] = _label("Studies included in previous version of review",
                                   f"(n = {c.previous_included:,})")  # fmt: skip
        boxes["total"] = _label("Total studies included in review", f"(n = {c.total_included:,})")
    return boxes


def to_dot(c: PrismaCounts) -> str:
    """The PRISMA 2020 flow diagram as Graphviz DOT (st.graphviz_chart draws it)."""
    edges = ["identified -> duplicates", "identified -> screened", "screened -> excluded",
             "screened -> sought", "sought -> not_retrieved", "sought -> assessed",
             "assessed -> reports_excluded", "assessed -> included"]  # fmt: skip
    if c.template == "updated":
        edges += ["previous -> total", "included -> total"]
    lines = [
        "digraph PRISMA {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];',
        *(f'  {name} [label="{label}"];' for name, label in _boxes(c).items()),
        *(f"  {edge};" for edge in edges),
        *(f"  {{rank=same; {a}; {b}}}" for a, b in _SIDE_BY_SIDE),
        "}",
    ]
    return "\n".join(lines) + "\n"


_SIDE_BY_SIDE = (
    ("identified", "duplicates"),
    ("screened", "excluded"),
    ("sought", "not_retrieved"),
    ("assessed", "reports_excluded"),
)
