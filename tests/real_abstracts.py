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
  is the test split, the others the tuning split.

Run ``python tests/real_abstracts.py [--seed 17] [--count 240] [--from 0]`` to print the drawn
records for reading (to the terminal only).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SEED = 17
"""The issue's number, fixed before anything was drawn."""
COUNT = 240
"""180 in the first batch, 60 more in the second (tests/expected/tagging_real_rules.md)."""
POPULATION = "Cohen_2006_*.csv"


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
    title: str
    abstract: str
    split: str

    @property
    def key(self) -> str:
        """How the label file names the record."""
        return f"{self.file}#{self.record_id}"


def title_hash(title: str) -> str:
    """A short fingerprint of a title: it tells a changed source file from the one labelled."""
    return hashlib.sha256(" ".join(title.split()).encode("utf-8")).hexdigest()[:10]


def draw(folder: Path, *, seed: int = SEED, count: int = COUNT) -> list[Drawn]:
    """The ``count`` records the seed picks from the population, in draw order."""
    candidates: list[tuple[str, str, pd.Series]] = []
    for path in sorted(folder.glob(POPULATION)):
        frame = pd.read_csv(path, dtype={"record_id": "int64"}, keep_default_na=False)
        for _, row in frame.iterrows():
            if str(row["abstract"]).strip():
                key = hashlib.sha256(f"{seed}|{path.name}|{row['record_id']}".encode()).hexdigest()
                candidates.append((key, path.name, row))
    candidates.sort(key=lambda item: item[0])
    drawn: list[tuple[str, pd.Series]] = []
    seen: set[str] = set()
    for _, name, row in candidates:
        pmid = str(row.get("pubmedID", "")).strip() or f"{name}#{row['record_id']}"
        if pmid not in seen:
            seen.add(pmid)
            drawn.append((name, row))
    return [
        Drawn(
            file=name,
            record_id=int(row["record_id"]),
            pmid=int(row["pubmedID"]) if str(row.get("pubmedID", "")).strip() else None,
            title=str(row["title"]).strip(),
            abstract=str(row["abstract"]).strip(),
            split="test" if place % 3 == 2 else "tune",
        )
        for place, (name, row) in enumerate(drawn[:count])
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the drawn records, for labelling.")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--from", dest="start", type=int, default=0)
    parser.add_argument("--to", dest="stop", type=int, default=None)
    args = parser.parse_args()
    for place, record in enumerate(draw(screening_dir(), seed=args.seed, count=args.count)):
        if place < args.start or (args.stop is not None and place >= args.stop):
            continue
        print(f"=== {place} {record.key} pmid={record.pmid} {record.split} "
              f"hash={title_hash(record.title)}")  # fmt: skip
        print(f"TITLE: {record.title}\nABSTRACT: {record.abstract}\n")


if __name__ == "__main__":
    main()
