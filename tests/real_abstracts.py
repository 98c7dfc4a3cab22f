"""Real abstracts for measuring the evidence tags: drawn at random, read in place.

The records come from the screening datasets next to the checkout
(``../shared/screening-datasets/``, or ``TRACKER_SCREENING_DIR``), which must never be copied
into the project. The label file (tests/expected/tagging_real_labels.json) stores only which
records were drawn (file, record_id, PMID, a short hash of the title) and what a reader labelled
them; this module draws the same records again and loads their text at test time.

The draw is a pure function of the seed, so anyone can repeat it:

- the population is every record of the ``Cohen_2006_*.csv`` files (drug-class reviews) with a
  non-empty abstract. ``Kitchenham_2010.csv`` is left out: it is software engineering, whose
  designs (mapping studies, surveys, experiments with students) the clinical vocabulary does not
  name, so labelling them would measure nothing the tracker is for;
- each record is keyed by ``sha256("<seed>|<file name>|<record_id>")`` and the records with the
  smallest keys are drawn, in key order; a record whose PMID was drawn already (the same
  article screened in two reviews) is passed over, so that no text is in both splits;
- the drawn records are split by their place in that order: every third one (places 2, 5, 8, …)
  is the test split, the others the tuning split. Places from :data:`FRESH_FROM` on are the
  third batch, whose test records are the fresh test split (tests/expected/tagging_real_rules.md);
  from :data:`SIXTH_FROM` on (and the adverse-effect set's from :data:`EFFECTS_THIRD`) every
  record is a test record.

The adverse-effect set (:func:`draw_effects`) is drawn the same way from a narrower population:
the records whose text matches one of the frozen patterns of
tests/expected/tagging_effects_selection.txt (RE2, case ignored, as the tagger runs them),
passing over every PMID of the main draw. Every adverse effect the tagger can suggest from text
lies in that population, so its suggestions are a fair sample of the tagger's suggestions, at
about six times the density of a plain draw.

Run ``python tests/real_abstracts.py [--seed 17] [--count 600] [--from 0] [--effects]`` to print
the drawn records for reading (to the terminal only).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
SEED = 17
"""The issue's number, fixed before anything was drawn."""
COUNT = 1800
"""180, then 60, then 360, then 180, then 240, then 180, then 300, then 300 more
(tests/expected/tagging_real_rules.md, "The draw")."""
FRESH_FROM = 240
"""The third batch's first place: its test records are the fresh test split."""
FOURTH_FROM = 600
"""The fourth batch's first place: its test records are the fourth test split."""
FIFTH_FROM = 780
"""The fifth batch's first place: its test records are the fifth test split."""
SIXTH_FROM = 1020
"""The sixth batch's first place: every record from here on is a test record (the sixth test
split, then the seventh), read by two readers."""
SEVENTH_FROM = 1200
"""The seventh batch's first place: its records are the seventh test split."""
EIGHTH_FROM = 1500
"""The eighth batch's first place: its records are the eighth test split."""
EFFECTS_COUNT = 840
"""The adverse-effect set's size: 150, then 90, then 270, then 90, then 150, then 90 more: every
record its population holds that the main draw has not taken."""
EFFECTS_FIRST = 150
"""The adverse-effect set's first part, drawn before the fourth batch and passed over by it."""
EFFECTS_SECOND = 240
"""The adverse-effect set's first two parts, drawn before the fifth batch and passed over by
it."""
EFFECTS_THIRD = 510
"""The adverse-effect set's first three parts, drawn before the sixth batch and passed over by
it; every record from here on is a test record."""
EFFECTS_FOURTH = 600
"""The adverse-effect set's first four parts, drawn before the seventh batch and passed over by
it."""
EFFECTS_FIFTH = 750
"""The adverse-effect set's first five parts, drawn before the eighth batch and passed over by
it."""


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of the main draw, as issue #17's rounds added them (tagging_real_rules.md)."""

    name: str
    """Its test records are the "<name> test split"."""
    start: int
    """Its first place in the main draw."""
    effects_before: int
    """How many places of the adverse-effect set were drawn before it (it passes over them);
    the effect records drawn with it begin there. 0: none were."""


BATCHES = (
    Batch("earlier", 0, 0),  # rounds one and two
    Batch("fresh", FRESH_FROM, 0),  # round three
    Batch("fourth", FOURTH_FROM, EFFECTS_FIRST),  # labelled before the learned opinions
    Batch("fifth", FIFTH_FROM, EFFECTS_SECOND),
    Batch("sixth", SIXTH_FROM, EFFECTS_THIRD),  # from here: all test records, read twice
    Batch("seventh", SEVENTH_FROM, EFFECTS_FOURTH),
    Batch("eighth", EIGHTH_FROM, EFFECTS_FIFTH),  # the last is the held-out one
)
"""Every batch, in draw order. A new round adds one here (and its constants above)."""
READ_TWICE = tuple(batch for batch in BATCHES if batch.start >= SIXTH_FROM)
"""The batches whose every record two readers labelled."""
POPULATION = "Cohen_2006_*.csv"
SELECTION = ROOT / "tests" / "expected" / "tagging_effects_selection.txt"


def screening_dir() -> Path:
    """../shared/screening-datasets next to the checkout, or TRACKER_SCREENING_DIR."""
    override = os.environ.get("TRACKER_SCREENING_DIR")
    if override:
        return Path(override)
    return ROOT.parent / "shared" / "screening-datasets"


@dataclass(frozen=True, slots=True)
class Drawn:
    """One drawn record: where it is, its text, and which split it belongs to."""

    file: str
    record_id: int
    pmid: int | None
    title: str = field(repr=False)
    abstract: str = field(repr=False)
    """Neither is shown in a repr: a failing test prints its arguments, and a held-out
    record's text must not be read."""
    split: str
    place: int = 0

    @property
    def key(self) -> str:
        """How the label file names the record."""
        return f"{self.file}#{self.record_id}"

    @property
    def batch(self) -> str:
        """The name of the main draw's batch the record was drawn in (:data:`BATCHES`); for a
        record of the adverse-effect set, whose places count apart, it means nothing."""
        return next(batch.name for batch in reversed(BATCHES) if self.place >= batch.start)

    @property
    def identity(self) -> str:
        """What a draw passes over when it meets it again: the PMID, else the key."""
        return str(self.pmid) if self.pmid else self.key


def held_out(record: Drawn, *, effects: bool = False) -> bool:
    """Whether nothing may be fitted to or decided from this record: the last batch of
    :data:`BATCHES` (main draw, every record) and the adverse-effect records drawn with it.
    Every other labelled record is on the fitted side."""
    last = BATCHES[-1]
    first = last.effects_before if effects else last.start
    return record.split == "test" and record.place >= first


def title_hash(title: str) -> str:
    """A short fingerprint of a title: it tells a changed source file from the one labelled."""
    return hashlib.sha256(" ".join(title.split()).encode("utf-8")).hexdigest()[:10]


def draw(folder: Path, *, seed: int = SEED, count: int = COUNT) -> list[Drawn]:
    """The ``count`` records the seed picks from the population, in draw order.

    A batch's places pass over the adverse-effect records drawn before it
    (:attr:`Batch.effects_before`). Each part of that set was drawn clear of the main draw's
    places before it, so passing over it leaves those places as they were, whatever the count
    (a record passed over was never among them)."""
    keyed = _keyed(folder, str(seed))
    passing = [batch for batch in BATCHES if batch.effects_before and batch.start < count]
    if not passing:
        return _drawn(keyed, count, set())
    last = passing[-1]
    earlier = draw_effects(folder, seed=seed, count=last.effects_before, main=last.start)
    return _drawn(keyed, count, {record.identity for record in earlier}, SIXTH_FROM)


def draw_effects(
    folder: Path, *, seed: int = SEED, count: int = EFFECTS_COUNT, main: int = COUNT
) -> list[Drawn]:
    """The adverse-effect set: ``count`` records of the narrower population, none of them in
    the first ``main`` records of :func:`draw`."""
    taken = {record.identity for record in draw(folder, seed=seed, count=main)}
    keyed = _keyed(folder, f"{seed}|effects")
    texts = pa.array([f"{row['title']} {row['abstract']}" for _, _, row in keyed])
    selected = pc.match_substring_regex(texts, "|".join(selection_patterns()), ignore_case=True)
    chosen = [item for item, hit in zip(keyed, selected.to_pylist(), strict=True) if hit]
    return _drawn(chosen, count, taken, EFFECTS_THIRD)


def selection_patterns() -> list[str]:
    """The adverse-effect set's frozen patterns (comment lines start with #)."""
    lines = SELECTION.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _keyed(folder: Path, seed: str) -> list[tuple[str, str, pd.Series]]:
    """Every record of the population with its key, smallest key first."""
    candidates = [
        (hashlib.sha256(f"{seed}|{name}|{row['record_id']}".encode()).hexdigest(), name, row)
        for name, row in _population(folder)
    ]
    candidates.sort(key=lambda item: item[0])
    return candidates


@cache
def _population(folder: Path) -> tuple[tuple[str, pd.Series], ...]:
    """The population's records (file name, row), read once per folder: the main draw and the
    adverse-effect set both need them."""
    rows: list[tuple[str, pd.Series]] = []
    for path in sorted(folder.glob(POPULATION)):
        frame = pd.read_csv(path, dtype={"record_id": "int64"}, keep_default_na=False)
        rows += [(path.name, row) for _, row in frame.iterrows() if str(row["abstract"]).strip()]
    return tuple(rows)


def _drawn(
    keyed: list[tuple[str, str, pd.Series]], count: int, seen: set[str], all_test: int = 0
) -> list[Drawn]:
    """The first ``count`` records in key order, passing over a PMID already seen. Every third
    place is a test record; from place ``all_test`` on (the sixth batch), every place is."""
    drawn: list[tuple[str, pd.Series]] = []
    for _, name, row in keyed:
        pmid = str(row.get("pubmedID", "")).strip() or f"{name}#{row['record_id']}"
        if pmid not in seen:
            seen.add(pmid)
            drawn.append((name, row))
        if len(drawn) == count:
            break
    return [
        Drawn(
            file=name,
            record_id=int(row["record_id"]),
            pmid=int(row["pubmedID"]) if str(row.get("pubmedID", "")).strip() else None,
            title=str(row["title"]).strip(),
            abstract=str(row["abstract"]).strip(),
            split="test" if place % 3 == 2 or place >= all_test > 0 else "tune",
            place=place,
        )
        for place, (name, row) in enumerate(drawn)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the drawn records, for labelling.")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--from", dest="start", type=int, default=0)
    parser.add_argument("--to", dest="stop", type=int, default=None)
    parser.add_argument("--effects", action="store_true", help="the adverse-effect set")
    args = parser.parse_args()
    if args.effects:
        records = draw_effects(screening_dir(), seed=args.seed, main=args.count)
    else:
        records = draw(screening_dir(), seed=args.seed, count=args.count)
    for place, record in enumerate(records):
        if place < args.start or (args.stop is not None and place >= args.stop):
            continue
        print(f"=== {place} {record.key} pmid={record.pmid} {record.split} "
              f"hash={title_hash(record.title)}")  # fmt: skip
        print(f"TITLE: {record.title}\nABSTRACT: {record.abstract}\n")


if __name__ == "__main__":
    main()
