"""The seed claims: the side effects of esketamine that the patient information the project
started from lists (DESIGN.md, "Evidence tags"), set against what the studies report.

Per claim, the studies whose suggested adverse-effect tags match it, each with the field and
the span that triggered the tag, so every count can be checked against the text; then the
effects studies report that the leaflet does not list (dissociation, urinary symptoms, ...).

What counts as a study reporting an effect is the live suggestions (:mod:`tracker.suggestions`):
a tag a reviewer rejected does not count, one a reviewer accepted does, and negated mentions
("no hallucinations occurred") were never tagged. The scope is the included studies (final
decision include at the latest stage reached) or every record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from tracker import screening, suggestions
from tracker.errors import TrackerError
from tracker.export import table_to_csv
from tracker.records import Decision
from tracker.store import Store
from tracker.vocabulary import Vocabulary, load_vocabulary

Scope = Literal["included", "all"]
SCOPES: tuple[Scope, ...] = ("included", "all")
ROW_COLUMNS = ("Claim", "Frequency", "Listed in leaflet", "Effect tag", "PMID", "Year", "Title",
               "Field", "Evidence")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Claim:
    """One side effect as the leaflet words it, how often it says it happens, and the
    adverse-effect tag values that report it."""

    text: str
    frequency: str
    effects: tuple[str, ...]


SEED_CLAIMS: tuple[Claim, ...] = (
    Claim("dizziness or lightheadedness", "common", ("dizziness or lightheadedness",)),
    Claim("headache", "common", ("headache",)),
    Claim("nausea or vomiting", "common", ("nausea or vomiting",)),
    Claim("drowsiness", "common", ("drowsiness",)),
    Claim("confusion, disorientation or altered perception", "less common",
          ("confusion", "disorientation", "altered perception")),
    Claim("hallucinations", "less common", ("hallucinations",)),
    Claim("increased heart rate and blood pressure", "less common",
          ("raised heart rate or blood pressure",)),
    Claim("changes in appetite or sleep", "less common", ("changes in appetite or sleep",)),
)  # fmt: skip
"""The leaflet's claims in its own words and order."""


@dataclass(frozen=True, slots=True)
class ClaimsView:
    """The claims against the studies in scope.

    ``rows`` has one row per claim x effect tag x study (columns :data:`ROW_COLUMNS`), claims
    first in the leaflet's order, then the unlisted effects by name; a claim no study reports
    has one row without a study, so it still shows.
    """

    scope: Scope
    records: int
    in_scope: int
    reporting: int
    rows: pd.DataFrame

    def studies(self, claim: str) -> list[int]:
        """The PMIDs of the studies reporting a claim (or an unlisted effect), sorted."""
        found = self.rows.loc[self.rows["Claim"] == claim, "PMID"]
        return sorted({int(p) for p in found if p != ""})

    def unlisted(self) -> list[str]:
        """The effects studies in scope report that no claim covers."""
        shown = self.rows.loc[self.rows["Listed in leaflet"] == "no", "Claim"]
        return list(dict.fromkeys(shown))


def claims_view(
    store: Store,
    scope: str = "included",
    *,
    state: pd.DataFrame | None = None,
    evidence: pd.DataFrame | None = None,
) -> ClaimsView:
    """Which studies in ``scope`` report each seed claim, and what they report beyond them.

    "Included" reads ``state`` (the screening state as the reader may see it: a blinded
    reviewer's hides partners' calls on records they have not decided) or, by default, the
    review's whole state. ``evidence`` is the library's evidence frame when the caller holds
    it already (the app's library does), so the tags are not read again.
    """
    if scope not in SCOPES:
        raise TrackerError(f"Unknown scope {scope!r}: use one of {', '.join(SCOPES)}.")
    records = store.records(columns=["record_id", "year", "title"]).set_index("record_id")
    chosen = records.index
    if scope == "included":
        state = screening.summary(store) if state is None else state
        chosen = state.index[(state["decision"] == Decision.INCLUDE.value).to_numpy(bool)]
    vocabulary = load_vocabulary(store)  # read once: the suggestions use it too
    effects = _reported_effects(store, chosen, vocabulary, evidence)
    listed = claimed_effects(vocabulary)
    parts = [_claim_rows(claim, effects, listed) for claim in SEED_CLAIMS]
    others = sorted(set(effects["value"]) - set(listed))
    parts += [_rows(effects[effects["value"] == e], e, "", "no") for e in others]
    rows = pd.concat(parts, ignore_index=True)
    with_study = (rows["PMID"] != "").to_numpy(bool)
    pmids = pd.Index(rows.loc[with_study, "PMID"].astype("int64"))
    years = records["year"].reindex(pmids)
    rows.loc[with_study, "Year"] = years.astype("Int64").astype(str).replace("<NA>", "").to_numpy()
    rows.loc[with_study, "Title"] = records["title"].reindex(pmids).astype(str).to_numpy()
    return ClaimsView(
        scope=scope,
        records=len(records),
        in_scope=len(chosen),
        reporting=int(effects["record_id"].nunique()),
        rows=rows[list(ROW_COLUMNS)],
    )


def claimed_effects(vocabulary: Vocabulary) -> dict[str, str]:
    """Each adverse-effect value of ``vocabulary`` that a claim covers → the claim's text.

    A value the vocabulary no longer has is left out, and an effect a library's own vocabulary
    adds counts as unlisted: what the leaflet says does not change when the vocabulary does.
    """
    known = set(vocabulary.facet_values().get("adverse_effects", ()))
    return {e: claim.text for claim in SEED_CLAIMS for e in claim.effects if e in known}


def _reported_effects(
    store: Store, chosen: pd.Index, vocabulary: Vocabulary, evidence: pd.DataFrame | None
) -> pd.DataFrame:
    """The live adverse-effect suggestions of the chosen records."""
    state = suggestions.live(store, vocabulary=vocabulary, evidence=evidence)
    keep = (state["facet"] == "adverse_effects") & state["record_id"].isin(chosen)
    return state[keep.to_numpy(bool)]


def _claim_rows(claim: Claim, effects: pd.DataFrame, listed: dict[str, str]) -> pd.DataFrame:
    values = [v for v, text in listed.items() if text == claim.text]
    found = effects[effects["value"].isin(values).to_numpy(bool)]
    return _rows(found, claim.text, claim.frequency, "yes")


def _rows(found: pd.DataFrame, claim: str, frequency: str, listed: str) -> pd.DataFrame:
    """A claim's rows: one per (effect tag, study), or one empty row when no study reports it."""
    found = found.sort_values(["record_id", "value"])  # a study's tags together, for the text
    size = max(len(found), 1)
    return pd.DataFrame(
        {
            "Claim": [claim] * size,
            "Frequency": [frequency] * size,
            "Listed in leaflet": [listed] * size,
            "Effect tag": found["value"].tolist() or [""],
            "PMID": found["record_id"].astype(str).tolist() or [""],
            "Year": [""] * size,
            "Title": [""] * size,
            "Field": found["field"].tolist() or [""],
            "Evidence": found["span"].tolist() or [""],
        }
    )


# -- rendering ---------------------------------------------------------------------------------


def to_csv(view: ClaimsView) -> bytes:
    """One row per claim x effect tag x study, spreadsheet-safe (BOM, inert cells)."""
    return table_to_csv(view.rows)


def to_text(view: ClaimsView) -> str:
    """A readable report for a terminal: one block per claim, evidence spans quoted."""
    lines = [
        "Side effects in the patient information, and the studies that report them",
        _scope_line(view),
    ]
    if view.in_scope == 0:
        return "\n".join([*lines, _nothing_in_scope(view)]) + "\n"
    rows = view.rows
    counts = rows[rows["PMID"] != ""].groupby("Claim", sort=False)["PMID"].nunique()
    heading = claim = pmid = ""
    for row in rows.itertuples(index=False, name=None):
        if row[0] != claim:
            claim, pmid = row[0], ""
            section = _section(row[1], row[2])
            if section != heading:
                lines += ["", section]
                heading = section
            count = int(counts.get(claim, 0))
            lines.append(f"  {claim}: {count} {'study' if count == 1 else 'studies'}")
        if row[4] and row[4] != pmid:
            pmid = row[4]
            year = f" ({row[5]})" if row[5] else ""
            lines.append(f"    PMID {pmid}{year} {_short(row[6])}")
        if row[4]:
            tag = f" [{row[3]}]" if row[3] != claim else ""
            lines.append(f'      {row[7]}: "{row[8]}"{tag}')
    return "\n".join(lines) + "\n"


def _scope_line(view: ClaimsView) -> str:
    what = "included studies" if view.scope == "included" else "all records"
    return (
        f"Scope: {what}, {view.in_scope:,} of {view.records:,} records;"
        f" with at least one adverse effect tagged: {view.reporting:,}."
    )


def _nothing_in_scope(view: ClaimsView) -> str:
    if view.scope == "all":
        return "The library is empty: fetch or import records first."
    return (
        "No study is included yet (no record's final decision is include), so no claim can be"
        " checked. Widen the scope to all records to see what every record reports."
    )


def _section(frequency: str, listed: str) -> str:
    if listed == "no":
        return "Reported by studies but not listed in the patient information"
    return f"Listed as {frequency}"


def _short(title: str, width: int = 90) -> str:
    return title if len(title) <= width else title[: width - 1].rstrip() + "…"
