"""PRISMA 2020 flow counts from the run log and the screening events, and the diagram.

Two templates: a new review counts every stored record; an updated review (``since_run``)
counts the records first found after that run as new, and adds the studies the previous
version included. Every box equals the sum of its parts; :meth:`PrismaCounts.problems` says
which sum fails, and the tests hold it to zero.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from tracker import duplicates, screening
from tracker.records import Decision, ExclusionReason
from tracker.store import Store

NOT_RETRIEVED = ExclusionReason.NOT_RETRIEVABLE.value


@dataclass(frozen=True, slots=True)
class SearchCount:
    run_id: int
    started_at: str
    kind: str
    retrieved: int
    new: int


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

    @property
    def total_included(self) -> int:
        return self.previous_included + self.included

    def problems(self) -> list[str]:
        """The boxes whose parts do not add up (empty when the diagram is consistent)."""
        checks = {
            "identified − duplicates = screened": self.identified - self.duplicates_removed
            == self.screened,
            "screened = excluded + sought + pending": self.screened
            == self.excluded_screening + self.sought + self.screening_pending,
            "sought = not retrieved + assessed": self.sought == self.not_retrieved + self.assessed,
            "assessed = excluded + included + pending": self.assessed
            == sum(self.excluded_reports.values()) + self.included + self.assessment_pending,
        }
        return [name for name, ok in checks.items() if not ok]

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["total_included"] = self.total_included
        return data


def counts(store: Store, *, since_run: int | None = None) -> PrismaCounts:
    """Count every PRISMA box from the store's runs and events."""
    runs = store.runs()
    done = runs[runs["status"] == "succeeded"]
    searches = tuple(
        SearchCount(int(r["id"]), str(r["started_at"]), str(r["kind"]), int(r["retrieved"] or 0),
                    int(r["new"] or 0))
        for r in done.to_dict(orient="records")
        if since_run is None or int(r["id"]) > since_run
    )  # fmt: skip
    state = screening.summary(store)
    previous: set[int] = set()
    if since_run is not None:
        for run_id in done.loc[done["id"] <= since_run, "id"]:
            previous |= store.run_pmids(int(run_id))
    in_scope = state[~state.index.isin(previous)]
    removed = duplicates.confirmed(store) & set(in_scope.index)
    screened = in_scope[~in_scope.index.isin(removed)]
    ta = screened["ta_decision"]
    sought = screened[ta == Decision.INCLUDE]
    ft_sought = sought["ft_decision"]
    reasons = sought.loc[ft_sought == Decision.EXCLUDE, "exclusion_reason"]
    not_retrieved = int((reasons == NOT_RETRIEVED).sum())
    excluded_reports = reasons[reasons != NOT_RETRIEVED].value_counts().sort_index()
    old = state[state.index.isin(previous)]
    return PrismaCounts(
        template="updated" if since_run is not None else "new",
        searches=searches,
        identified=len(in_scope),
        duplicates_removed=len(removed),
        screened=len(screened),
        excluded_screening=int((ta == Decision.EXCLUDE).sum()),
        screening_pending=int((~ta.isin([Decision.INCLUDE, Decision.EXCLUDE])).sum()),
        sought=len(sought),
        not_retrieved=not_retrieved,
        assessed=len(sought) - not_retrieved,
        excluded_reports={str(k): int(v) for k, v in excluded_reports.items()},
        assessment_pending=int((~ft_sought.isin([Decision.INCLUDE, Decision.EXCLUDE])).sum()),
        included=int((ft_sought == Decision.INCLUDE).sum()),
        previous_included=int((old["ft_decision"] == Decision.INCLUDE).sum()),
    )


def to_text(c: PrismaCounts) -> str:
    """The flow as plain lines, for a terminal or a methods section."""
    lines = [f"PRISMA 2020 flow ({c.template} review)", "Identification"]
    runs = f"{len(c.searches)} search run{'' if len(c.searches) == 1 else 's'}"
    lines += [f"  Records identified from PubMed: {c.identified:,} ({runs})"]
    lines += [f"    run {s.run_id} ({s.started_at[:10]}, {s.kind}): {s.retrieved:,} retrieved, "
              f"{s.new:,} new" for s in c.searches]  # fmt: skip
    lines += [f"  Duplicate records removed: {c.duplicates_removed:,}", "Screening",
              f"  Records screened: {c.screened:,}",
              f"    excluded: {c.excluded_screening:,}",
              f"    awaiting screening: {c.screening_pending:,}",
              f"  Reports sought for retrieval: {c.sought:,}",
              f"    not retrieved: {c.not_retrieved:,}",
              f"  Reports assessed for eligibility: {c.assessed:,}"]  # fmt: skip
    lines += [f"    excluded, {reason}: {n:,}" for reason, n in c.excluded_reports.items()]
    lines += [f"    awaiting assessment: {c.assessment_pending:,}", "Included"]
    if c.template == "updated":
        lines += [f"  Studies included in previous version: {c.previous_included:,}",
                  f"  New studies included: {c.included:,}"]  # fmt: skip
    lines += [f"  Total studies included in review: {c.total_included:,}"]
    return "\n".join(lines)


def to_json(c: PrismaCounts) -> str:
    return json.dumps(c.as_dict(), indent=2, ensure_ascii=False)


def _box(name: str, text: str, rank: str = "") -> str:
    label = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'  {name} [label="{label}"{rank}];'


def to_dot(c: PrismaCounts) -> str:
    """The PRISMA 2020 flow diagram as Graphviz DOT (st.graphviz_chart draws it)."""
    reasons = "\\l".join(f"{r} (n = {n:,})" for r, n in c.excluded_reports.items()) or "none"
    boxes = [
        _box("identified", f"Records identified from PubMed\n(n = {c.identified:,}; "
                           f"{len(c.searches)} search runs)"),
        _box("duplicates", f"Duplicate records removed\n(n = {c.duplicates_removed:,})"),
        _box("screened", f"Records screened\n(n = {c.screened:,})"),
        _box("excluded", f"Records excluded (n = {c.excluded_screening:,})\n"
                         f"Awaiting screening (n = {c.screening_pending:,})"),
        _box("sought", f"Reports sought for retrieval\n(n = {c.sought:,})"),
        _box("not_retrieved", f"Reports not retrieved\n(n = {c.not_retrieved:,})"),
        _box("assessed", f"Reports assessed for eligibility\n(n = {c.assessed:,})"),
        _box("reports_excluded", f"Reports excluded:\n{reasons}\nAwaiting assessment "
                                 f"(n = {c.assessment_pending:,})"),
        _box("included", f"New studies included\n(n = {c.included:,})"),
    ]  # fmt: skip
    edges = ["identified -> duplicates", "identified -> screened", "screened -> excluded",
             "screened -> sought", "sought -> not_retrieved", "sought -> assessed",
             "assessed -> reports_excluded", "assessed -> included"]  # fmt: skip
    if c.template == "updated":
        boxes.append(_box("previous", f"Studies included in previous version\n"
                                      f"(n = {c.previous_included:,})"))  # fmt: skip
        boxes.append(_box("total", f"Total studies included in review\n(n = {c.total_included:,})"))
        edges += ["previous -> total", "included -> total"]
    node = '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];'
    header = ["digraph PRISMA {", "  rankdir=TB;", node]
    side = "  {rank=same; identified; duplicates} {rank=same; screened; excluded} " + (
        "{rank=same; sought; not_retrieved} {rank=same; assessed; reports_excluded}"
    )
    return "\n".join([*header, *boxes, *(f"  {e};" for e in edges), side, "}"]) + "\n"
