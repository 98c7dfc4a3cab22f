"""Matching benchmark: precision and recall of automatic merges, and the time for 100,000.

    .venv/bin/python bench/matching_bench.py [--records 100000] [--write]

Three measures, each from data read in place (../shared/screening-datasets/, never copied):

1. Kitchenham_2010.csv: 1,704 records a review team screened, with ``duplicate_record_id``
   naming the record each duplicate repeats (title, abstract and year only: no ids, no
   authors). Every pair the matcher reports is scored against those labels.
2. Two vendors' exports of the same real records: the 8,759 distinct PMIDs of the eight
   Cohen_2006 sets (real titles, authors, years) written by this script as a PubMed MEDLINE
   file and an Embase-on-Ovid RIS file, read back through ``tracker.formats.read_file`` and
   matched together. See :func:`synthetic_exports` for every perturbation and hard negative.
3. The time to match 100,000 records (:func:`large_table`), best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from report import machine, write_section

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching_exports import cohen_papers, large_table, synthetic_exports

from tracker.formats import read_file
from tracker.match_keys import fold
from tracker.matching import Confidence, Relation, find_matches, match_table
from tracker.source_record import SourceRecord

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "screening-datasets"
Pair = frozenset[str]
NOTES = (
    "No automatic merge was false on either labelled set: the bar is met. Kitchenham carries no "
    "ids and no authors, so nothing there may merge without a person; its review pairs find all 6 "
    "labelled duplicates, and the 3 pairs the labels do not name have identical abstracts (titles "
    "differing in case, a leading article or a cut ending; same year): duplicates the labels "
    "missed, counted as false here all the same. In the two-vendor set the false review pairs are "
    "the planted hard negatives (conference abstracts, errata, replies) and real Cohen records "
    "sharing a title. Automatic merging misses, besides every pair whose DOI was dropped *and* "
    "whose year, first author or title was perturbed, the titles of under five words; the pairs "
    "never found at all are Embase titles cut before their subtitle with no DOI left. The Cohen "
    "files hold no journal, pages or DOI: those are stand-ins (bench/matching_exports.py), so the "
    "title rule's recall there says how perturbations are survived, not how often real databases "
    "agree on pages."
)


def score(found: pd.DataFrame, truth: set[Pair]) -> list[tuple[str, str]]:
    """Precision and recall of automatic duplicate pairs, and of automatic + review pairs."""
    duplicates = found[found["relation"] == Relation.DUPLICATE]
    rows = []
    for label, chosen in (
        ("automatic", duplicates[duplicates["confidence"] == Confidence.AUTOMATIC]),
        ("automatic + review", duplicates),
    ):
        pairs = {frozenset(p) for p in zip(chosen["left"], chosen["right"], strict=True)}
        hits = len(pairs & truth)
        false = len(pairs - truth)
        precision = f"{hits / len(pairs):.3f}" if pairs else "n/a (none)"
        rows.append((f"{label}: pairs found, true, **false**", f"{len(pairs):,}, {hits:,}, "
                     f"**{false:,}**"))  # fmt: skip
        rows.append((f"{label}: precision, recall",
                     f"{precision}, {hits / len(truth):.3f} of {len(truth):,}"))  # fmt: skip
    return rows


def by_rule(found: pd.DataFrame, truth: set[Pair]) -> str:
    """Pairs, and false pairs, per rule: the evidence for each rule's confidence class."""
    counts: dict[tuple[str, str], list[int]] = {}
    for left, right, rule, confidence in zip(found["left"], found["right"], found["rule"],
                                             found["confidence"], strict=True):  # fmt: skip
        entry = counts.setdefault((rule, confidence), [0, 0])
        entry[0] += 1
        entry[1] += frozenset((left, right)) not in truth
    lines = [f"{rule} ({confidence}): {n:,} ({false:,} false)"
             for (rule, confidence), (n, false) in sorted(counts.items())]  # fmt: skip
    return "; ".join(lines)


def kitchenham() -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = pd.read_csv(DATASETS / "Kitchenham_2010.csv")
    records = [
        SourceRecord(source="Kitchenham", format="CSV", origin="Kitchenham_2010.csv",
                     title=str(t) if isinstance(t, str) else "",
                     abstract=str(a) if isinstance(a, str) else "",
                     year=int(y) if pd.notna(y) else None)
        for t, a, y in zip(frame["title"], frame["abstract"], frame["year"], strict=True)
    ]  # fmt: skip
    ids = [str(i) for i in frame["record_id"]]
    labelled = frame.dropna(subset=["duplicate_record_id"])
    truth = {frozenset((str(a), str(int(b)))) for a, b in
             zip(labelled["record_id"], labelled["duplicate_record_id"], strict=True)}  # fmt: skip
    found = find_matches(match_table(records, ids))
    rows = [("records; labelled duplicate pairs", f"{len(records):,}; {len(truth)}")]
    rows += score(found, truth)
    rows.append(("pairs by rule", by_rule(found, truth)))
    extra = _unlabelled(found, truth, frame)
    rows.append(("pairs found that the labels do not name; of them with the same abstract",
                 f"{len(extra)}; {int(extra['same_abstract'].sum())}"))  # fmt: skip
    return rows, extra


def _unlabelled(found: pd.DataFrame, truth: set[Pair], frame: pd.DataFrame) -> pd.DataFrame:
    titles = dict(zip(frame["record_id"].astype(str), frame["title"], strict=True))
    extra = found[[frozenset(p) not in truth for p in zip(found["left"], found["right"],
                                                           strict=True)]].copy()  # fmt: skip
    extra["left_title"] = extra["left"].map(titles)
    extra["right_title"] = extra["right"].map(titles)
    abstracts = {k: fold(str(v))[:300] for k, v in
                 zip(frame["record_id"].astype(str), frame["abstract"], strict=True)}  # fmt: skip
    extra["same_abstract"] = [
        abstracts[a] == abstracts[b] and len(abstracts[a]) > 100
        for a, b in zip(extra["left"], extra["right"], strict=True)
    ]
    return extra


def overlap(folder: Path) -> list[tuple[str, str]]:
    papers = cohen_papers(DATASETS)
    medline, ris, truth, counts = synthetic_exports(papers, folder, random.Random(15))
    records: list[SourceRecord] = []
    ids: list[str] = []
    for path in (medline, ris):
        result = read_file(path)
        records += result.records
        ids += [f"{path.name}:{record.line}" for record in result.records]
    found = find_matches(match_table(records, ids))
    rows = [("distinct PMIDs; records in the two files", f"{len(papers):,}; {len(records):,}"),
            ("hard negatives in the RIS file", counts)]  # fmt: skip
    rows += score(found, truth)
    rows.append(("pairs by rule", by_rule(found, truth)))
    return rows


def timing(count: int, repeat: int) -> list[tuple[str, str]]:
    table, truth = large_table(cohen_papers(DATASETS), count, random.Random(100))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        found = find_matches(table)
        times.append(time.perf_counter() - started)
    rows = [("records; true duplicate pairs", f"{len(table):,}; {len(truth):,}"),
            (f"match them, best of {repeat}", f"**{min(times):.1f} s**")]  # fmt: skip
    return rows + score(found, truth)


def stock_titles(count: int) -> list[tuple[str, str]]:
    """The duplicates check the app runs (:func:`tracker.duplicates.candidates`) on a library of
    stock titles: bench/app_bench.py's synthetic records ("Intranasal esketamine for migraine:
    a study of 123 patients", first author "Author0"), whose similar-title blocks hold millions
    of pairs. Once as one database (PubMed alone), once with every third record from another."""
    from app_bench import synthetic

    from tracker import Store, duplicates

    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        store.upsert(synthetic(count))
        records = store.records()
    rows = []
    for label, sources in (
        ("one database", None),
        ("two databases (every third record from Embase)", ["Embase", "PubMed", "PubMed"]),
    ):
        if sources is not None:
            records = records.assign(source=[sources[n % 3] for n in range(len(records))])
        started = time.perf_counter()
        found = duplicates.candidates(records)
        elapsed = time.perf_counter() - started
        rows.append(
            (f"{count:,} stock titles, {label}", f"**{elapsed:.1f} s**, {len(found):,} pairs")
        )
    return rows


def table(rows: Iterable[tuple[str, str]]) -> str:
    return "\n".join(["| measure | value |", "|---|---|", *(f"| {m} | {v} |" for m, v in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    if not (DATASETS / "MANIFEST.md").is_file():
        sys.exit(f"the labelled datasets are not at {DATASETS}")
    first, extra = kitchenham()
    with tempfile.TemporaryDirectory() as folder:
        second = overlap(Path(folder))
    third = timing(args.records, args.repeat)
    fourth = stock_titles(args.records)
    day = datetime.now(UTC).date().isoformat()
    text = "\n\n".join([
        f"Run on {day}: `python bench/matching_bench.py --records {args.records}`",
        f"Machine: {machine('pandas')}",
        "Kitchenham_2010.csv against its `duplicate_record_id` labels:\n\n" + table(first),
        "Cohen_2006 records exported as MEDLINE and as Embase-on-Ovid RIS, perturbed "
        "(bench/matching_exports.py):\n\n" + table(second),
        f"Time for {args.records:,} records (bench/matching_exports.py `large_table`):\n\n"
        + table(third),
        "The app's duplicates check on a library of stock titles (the similar-title rule scores "
        "each block in C++ with RapidFuzz and sends only the pairs that can reach 0.9 to "
        "difflib; before that change the one-database case took 282 s on 100,000, for the "
        "same pairs):\n\n"
        + table(fourth),
        NOTES + f" Load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
    ])  # fmt: skip
    print(text)
    print("\nKitchenham pairs the labels do not name:\n")
    print(extra[["left", "right", "rule", "same_abstract", "left_title", "right_title"]]
          .to_string(max_colwidth=60))  # fmt: skip
    if args.write:
        write_section("Matching: duplicates across sources", text)


if __name__ == "__main__":
    main()
