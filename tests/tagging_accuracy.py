"""How well the evidence tags agree with hand labels, on three labelled sets.

- the real draw: 1,800 screening-dataset abstracts (tests/real_abstracts.py), labelled in
  tests/expected/tagging_real_labels.json by the rules of tagging_real_rules.md: a tuning split
  and one test split per batch (earlier, fresh, fourth, fifth, sixth, seventh, eighth); the
  sixth to eighth are all test records, each read by two readers; only the eighth is held out;
- the adverse-effect set: 900 abstracts that name an effect, labelled for adverse effects only,
  in a tuning part, an earlier test part and a new (held-out) test part;
- the fixture records: the 8 real PubMed records of ../shared/fixtures/eutils, same file;
- the crafted set: the hand-written abstracts of tests/expected/tagging_labels.json.

Used by tests/test_tagging_real.py (which holds the floors) and bench/tagging_bench.py (which
records the table in bench/RESULTS.md). The measures, as issue #17 defines them:
- design precision over tags; design coverage: records with at least one correct design tag,
  among the records whose design a reader can name;
- adverse-effect and route precision and recall over tags;
- sample size exact: the tagger's number is one the label accepts, over the records that state
  a sample; "false n": a number on a record that states none;
- studies pooled: the same, for reviews and models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from real_abstracts import (
    BATCHES,
    READ_TWICE,
    Drawn,
    draw,
    draw_effects,
    held_out,
    title_hash,
)

from tracker.parse import iter_articles
from tracker.schema import article_row

EXPECTED = Path(__file__).resolve().parent / "expected"
REAL_LABELS: dict[str, Any] = json.loads(
    (EXPECTED / "tagging_real_labels.json").read_text(encoding="utf-8")
)
CRAFTED_LABELS: dict[str, Any] = json.loads(
    (EXPECTED / "tagging_labels.json").read_text(encoding="utf-8")
)


@dataclass(frozen=True)
class Labelled:
    """One record with its text, its indexing and what a reader labelled it."""

    id: str
    title: str = field(repr=False)
    abstract: str = field(repr=False)
    labels: dict[str, Any] = field(repr=False)
    """Not shown in a repr: a failing test prints its arguments, and a held-out record's text
    and labels must not be read there."""
    publication_types: tuple[str, ...] = ()
    mesh_terms: tuple[str, ...] = ()
    mesh_qualified: tuple[str, ...] = ()


@dataclass
class Scores:
    """Counts for one labelled set; the ratios are derived from them."""

    records: int = 0
    design: list[int] = field(default_factory=lambda: [0, 0, 0])
    """true positives, false positives, false negatives"""
    nameable: int = 0
    covered: int = 0
    adverse: list[int] = field(default_factory=lambda: [0, 0, 0])
    route: list[int] = field(default_factory=lambda: [0, 0, 0])
    stated: int = 0
    exact: int = 0
    false_n: int = 0
    pooled_stated: int = 0
    pooled_exact: int = 0
    false_pooled: int = 0
    misses: list[str] = field(default_factory=list)

    def measures(self) -> dict[str, float]:
        """The ratios the issue asks for (1.0 where there is nothing to count)."""
        return {
            "design_precision": _ratio(self.design[0], self.design[0] + self.design[1]),
            "design_coverage": _ratio(self.covered, self.nameable),
            "adverse_precision": _ratio(self.adverse[0], self.adverse[0] + self.adverse[1]),
            "adverse_recall": _ratio(self.adverse[0], self.adverse[0] + self.adverse[2]),
            "route_precision": _ratio(self.route[0], self.route[0] + self.route[1]),
            "route_recall": _ratio(self.route[0], self.route[0] + self.route[2]),
            "sample_size_exact": _ratio(self.exact, self.stated),
            "studies_pooled_exact": _ratio(self.pooled_exact, self.pooled_stated),
        }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 1.0


def drawn_records(folder: Path) -> list[tuple[Drawn, Labelled]]:
    """The drawn records, each with its labels, in draw order."""
    labels = {row["record"]: row for row in REAL_LABELS["records"]}
    return [
        (record, Labelled(record.key, record.title, record.abstract, labels[record.key]["labels"]))
        for record in draw(folder, seed=REAL_LABELS["draw"]["seed"], count=len(labels))
    ]


HELD_OUT = (
    "eighth test split",
    "effect set, new test",
    "held-out tests",
    "held-out effects",
)
"""The sets no rule or model is tuned on, and their pools: their misses are never printed, only
their totals. From issue #17's eighth round every earlier test split is on the fitted side
(tests/expected/tagging_real_rules.md, "Eighth batch")."""


def labelled_sets(screening: Path | None, fixtures: Path | None) -> dict[str, list[Labelled]]:
    """Every labelled set, by name; the real ones only where their folders are given."""
    sets: dict[str, list[Labelled]] = {}
    if screening is not None:
        drawn = drawn_records(screening)
        tests = [(d, r) for d, r in drawn if d.split == "test"]
        for batch in reversed(BATCHES):
            sets[f"{batch.name} test split"] = [r for d, r in tests if d.batch == batch.name]
        sets["tuning split"] = [r for d, r in drawn if d.split == "tune"]
        effects = effect_records(screening)
        sets["effect set, new test"] = [r for d, r in effects if held_out(d, effects=True)]
        sets["effect set, earlier test"] = [
            r for d, r in effects if d.split == "test" and not held_out(d, effects=True)
        ]
        sets["effect set, tuning"] = [r for d, r in effects if d.split == "tune"]
    sets["crafted set"] = crafted_records()
    if fixtures is not None:
        sets["fixture records"] = fixture_records(fixtures)
    return sets


def scored_sets(
    screening: Path | None, fixtures: Path | None, tagger: Callable[[pd.DataFrame], pd.DataFrame]
) -> dict[str, Scores]:
    """Every labelled set tagged by ``tagger`` and scored, with the pools: "held-out tests" (the
    eighth test split, every family), "held-out effects" (it with the adverse-effect set's new
    test records, adverse effects only, so that precision rests on enough suggestions) and
    "fitted side" (every other main record: the tuning split and the earlier test splits).
    The held-out sets keep their counts but not their misses: pytest prints a failing test's
    arguments, and a miss read there is a miss that can be tuned on."""
    sets = labelled_sets(screening, fixtures)
    scores = {name: score(records, tagger(frame(records))) for name, records in sets.items()}
    if screening is not None:
        tests = scores["eighth test split"]
        scores["held-out tests"] = tests
        scores["held-out effects"] = effects_only(pooled(tests, scores["effect set, new test"]))
        scores["fitted side"] = pooled(
            scores["tuning split"],
            *(scores[f"{batch.name} test split"] for batch in BATCHES[:-1]),
        )
    for name in HELD_OUT:
        if name in scores:
            scores[name].misses = []  # never shown, not even in a failing test's arguments
    return scores


def reader_agreement(screening: Path) -> dict[str, Scores]:
    """How far two readers agree, scored as if the second reading were a tagger and the first
    the labels, for each batch read twice (real_abstracts.READ_TWICE): its main records (every
    family) and, pooled with them, its adverse-effect records (adverse effects only). The
    issue's targets are read against labels; this says how closely a second careful reading
    reproduces them, so what a target above it would mean."""
    rows = {row["record"]: row for row in REAL_LABELS["records"]}
    rows |= {row["record"]: row for row in REAL_LABELS["effects"]["records"]}
    drawn, effects = drawn_records(screening), effect_records(screening)
    agreement: dict[str, Scores] = {}
    for at, batch in enumerate(READ_TWICE):
        after = READ_TWICE[at + 1].effects_before if at + 1 < len(READ_TWICE) else len(effects)
        main = [pair for pair in drawn if pair[0].batch == batch.name]
        if not main:
            continue
        effect = [pair for pair in effects if batch.effects_before <= pair[0].place < after]
        parts = [_second_reading(main, rows), _second_reading(effect, rows)]
        agreement[f"second reader, {batch.name} test split"] = parts[0]
        agreement[f"second reader, {batch.name} batch's effects"] = effects_only(pooled(*parts))
    return agreement


def _second_reading(
    records: Sequence[tuple[Drawn, Labelled]], rows: dict[str, dict[str, Any]]
) -> Scores:
    """The second reading of ``records`` scored against the first."""
    first, second = [], []
    for drawn, labelled in records:
        readings = rows[drawn.key]["readings"]
        first.append(Labelled(labelled.id, labelled.title, labelled.abstract,
                              readings[0]["labels"]))  # fmt: skip
        second.append(readings[1]["labels"])
    return score(first, _as_tags(second))


def _as_tags(readings: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A reading in the shape :func:`score` reads a tagger's output in: the first number a
    reader accepts is the one it "gives"."""

    def first(value: Any) -> int | None:
        return value[0] if isinstance(value, list) and value else None

    return pd.DataFrame(
        {
            "design": [r.get("design", []) for r in readings],
            "route": [r.get("route", []) for r in readings],
            "adverse_effects": [r["adverse_effects"] for r in readings],
            "sample_size": [first(r.get("sample_size")) for r in readings],
            "studies_pooled": [r.get("studies_pooled") for r in readings],
        },
        index=range(1, len(readings) + 1),
    )


def effect_records(folder: Path) -> list[tuple[Drawn, Labelled]]:
    """The adverse-effect set, each record with its labels (adverse effects only), in draw
    order."""
    rows = REAL_LABELS["effects"]["records"]
    labels = {row["record"]: row for row in rows}
    drawn = draw_effects(
        folder,
        seed=REAL_LABELS["effects"]["draw"]["seed"],
        count=len(rows),
        main=len(REAL_LABELS["records"]),
    )
    return [
        (record, Labelled(record.key, record.title, record.abstract, labels[record.key]["labels"]))
        for record in drawn
    ]


def label_mismatches(
    drawn: Iterable[Drawn], rows: Sequence[dict[str, Any]] | None = None
) -> list[str]:
    """Where the label file does not name what the seed draws (a changed source file)."""
    rows = REAL_LABELS["records"] if rows is None else rows
    found = [(r.key, r.pmid, title_hash(r.title), r.split) for r in drawn]
    stored = [(r["record"], r["pmid"], r["title_hash"], r["split"]) for r in rows]
    return [f"drawn {a}, labelled {b}" for a, b in zip(found, stored, strict=True) if a != b]


def fixture_records(fixtures: Path) -> list[Labelled]:
    """The real PubMed records, parsed from the NCBI files."""
    records = []
    for entry in REAL_LABELS["fixtures"]:
        article = next(
            a for a in iter_articles(fixtures / entry["file"]) if a.pmid == entry["pmid"]
        )
        row = article_row(article)
        records.append(
            Labelled(
                f"{entry['file']}#{entry['pmid']}",
                row["title"] or "",
                row["abstract"] or "",
                entry["labels"],
                tuple(row["publication_types"]),
                tuple(row["mesh_terms"]),
                tuple(row["mesh_qualified"]),
            )
        )
    return records


def crafted_records() -> list[Labelled]:
    """The crafted set, its labels read in the real set's terms."""
    records = []
    for case in CRAFTED_LABELS["crafted"]:
        old = case["labels"]
        size, pooled = old["sample_size"], old.get("studies_pooled")
        labels = {
            "design": old["design"], "nameable": bool(old["design"]),
            "sample_size": None if size is None else [size], "studies_pooled": pooled,
            "route": old["route"], "adverse_effects": old["adverse_effects"],
        }  # fmt: skip
        records.append(
            Labelled(
                case["id"],
                case["title"],
                case["abstract"],
                labels,
                tuple(case["publication_types"]),
                tuple(case["mesh_terms"]),
                tuple(case.get("mesh_qualified", ())),
            )
        )
    return records


def frame(records: Sequence[Labelled]) -> pd.DataFrame:
    """The records as the store holds them, numbered from 1."""
    return pd.DataFrame({
        "record_id": range(1, len(records) + 1),
        "title": [r.title for r in records],
        "abstract": [r.abstract for r in records],
        "publication_types": [list(r.publication_types) for r in records],
        "mesh_terms": [list(r.mesh_terms) for r in records],
        "mesh_qualified": [list(r.mesh_qualified) for r in records],
    })  # fmt: skip


def score(records: Sequence[Labelled], tags: pd.DataFrame) -> Scores:
    """Every measure over ``records``, tagged in ``tags`` (indexed 1, 2, … in their order).

    A family a record is not labelled for is not scored on it: the adverse-effect set is
    labelled for adverse effects only."""
    scores = Scores(records=len(records))
    for number, record in enumerate(records, start=1):
        found, labels = tags.loc[number], record.labels
        _count_set(scores, scores.adverse, record, "adverse_effects", found["adverse_effects"])
        if "design" not in labels:
            continue
        _count_set(scores, scores.design, record, "design", found["design"])
        _count_set(scores, scores.route, record, "route", found["route"])
        if labels["nameable"]:
            scores.nameable += 1
            scores.covered += bool(set(labels["design"]) & set(found["design"]))
        _count_number(scores, record, "sample_size", _number(found["sample_size"]))
        _count_number(scores, record, "studies_pooled", _number(found.get("studies_pooled")))
    return scores


def pooled(*parts: Scores) -> Scores:
    """Several sets' counts added up, as if they were one set."""
    total = Scores()
    for part in parts:
        for name in ("design", "adverse", "route"):
            mine, theirs = getattr(total, name), getattr(part, name)
            setattr(total, name, [a + b for a, b in zip(mine, theirs, strict=True)])
        for name in ("records", "nameable", "covered", "stated", "exact", "false_n",
                     "pooled_stated", "pooled_exact", "false_pooled"):  # fmt: skip
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.misses += part.misses
    return total


def effects_only(scores: Scores) -> Scores:
    """A set's adverse-effect counts alone. A column that pools sets for their adverse effects
    (the held-out effects) would otherwise repeat another column's designs and sample sizes, as
    if they had been measured twice."""
    return Scores(records=scores.records, adverse=list(scores.adverse), misses=scores.misses)


def _count_set(
    scores: Scores, counts: list[int], record: Labelled, family: str, found: Iterable[str]
) -> None:
    want, got = set(record.labels[family]), set(found)
    counts[0] += len(want & got)
    counts[1] += len(got - want)
    counts[2] += len(want - got)
    if want != got:
        scores.misses.append(
            f"{record.id} {family}: missed {sorted(want - got)} extra {sorted(got - want)}"
        )


def _count_number(scores: Scores, record: Labelled, family: str, got: int | None) -> None:
    label = record.labels.get(family)
    numbers = label if isinstance(label, list) else [label]
    accepted = {int(n) for n in numbers if n is not None}
    if family == "sample_size":
        scores.stated += bool(accepted)
        scores.exact += bool(accepted) and got in accepted
        scores.false_n += not accepted and got is not None
    else:
        scores.pooled_stated += bool(accepted)
        scores.pooled_exact += bool(accepted) and got in accepted
        scores.false_pooled += not accepted and got is not None
    if (got in accepted) != bool(accepted) or (not accepted and got is not None):
        scores.misses.append(f"{record.id} {family}: labelled {sorted(accepted)} got {got}")


def _number(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


MEASURES = (
    ("design precision", "design_precision"),
    ("design coverage", "design_coverage"),
    ("adverse-effect precision", "adverse_precision"),
    ("adverse-effect recall", "adverse_recall"),
    ("route precision", "route_precision"),
    ("route recall", "route_recall"),
    ("sample size exact", "sample_size_exact"),
    ("studies pooled exact", "studies_pooled_exact"),
)


def table(sets: dict[str, Scores]) -> str:
    """A Markdown table: one column per labelled set, one row per measure, with the counts."""
    names = list(sets)
    lines = ["| measure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines.append("| records | " + " | ".join(str(s.records) for s in sets.values()) + " |")
    details = {
        "design_precision": lambda s: f"{s.design[0]}/{s.design[0] + s.design[1]}",
        "design_coverage": lambda s: f"{s.covered}/{s.nameable}",
        "adverse_precision": lambda s: f"{s.adverse[0]}/{s.adverse[0] + s.adverse[1]}",
        "adverse_recall": lambda s: f"{s.adverse[0]}/{s.adverse[0] + s.adverse[2]}",
        "route_precision": lambda s: f"{s.route[0]}/{s.route[0] + s.route[1]}",
        "route_recall": lambda s: f"{s.route[0]}/{s.route[0] + s.route[2]}",
        "sample_size_exact": lambda s: f"{s.exact}/{s.stated}, {s.false_n} false",
        "studies_pooled_exact": lambda s: (
            f"{s.pooled_exact}/{s.pooled_stated}, {s.false_pooled} false"
        ),
    }
    for title, key in MEASURES:
        cells = [_cell(s, key, details[key](s)) for s in sets.values()]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(scores: Scores, key: str, counts: str) -> str:
    """A measure with its counts, or a dash where there was nothing to count."""
    if counts in ("0/0", "0/0, 0 false"):
        return "—"
    return f"{scores.measures()[key]:.3f} ({counts})"
