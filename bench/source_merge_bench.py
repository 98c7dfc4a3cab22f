"""Records from two databases in one store, de-duplicated on import: how long it takes.

bench/matching_bench.py times the matcher alone on a table. This times what a review waits
for when it imports a second database into a large library: the store merging the new
records in (:meth:`tracker.store.Store.complete_run`) and the cross-source merge that follows
(:func:`tracker.merging.merge_automatic`), on a real data folder.

The library: ``--records`` in all, 70 % PubMed records (the fake E-utilities corpus: made-up
titles and abstracts, one author, a DOI each) and 30 % Embase copies of some of them, as
Embase on Ovid gives them (its accession, its own journal name, no PMID; one in three without
its DOI, so those must match on title, year, first author, journal and pages or wait for a
person). Every merge is checked against the copy's true original: the count of false merges
is printed and must be 0.

    python bench/source_merge_bench.py --records 100000
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fake_eutils

from tracker import Store
from tracker.merging import merge_automatic
from tracker.records import Action, Article, Author
from tracker.source_record import AccessionKind, SourceRecord

JOURNAL = "Pain medicine (Malden, Mass.)"


def library(count: int, seed: int = 3) -> tuple[list[Article], list[SourceRecord], dict[str, int]]:
    """PubMed articles, Embase copies of 30 % of them, and each copy's true original PMID."""
    rng = random.Random(seed)
    pubmed = int(count * 0.7)
    corpus = fake_eutils.build_corpus(pubmed, seed=seed)
    articles = [
        Article(
            pmid=pmid,
            title=r.title,
            abstract=r.abstract,
            year=r.created.year,
            authors=(Author("Rivera", "Ana", "A"),),
            journal=JOURNAL,
            pages=f"{pmid % 900}-9",
            doi=f"10.1093/pm/pnz{pmid}",
            pub_date=str(r.created.year),
        )
        for pmid, r in corpus.items()
    ]
    copies, truth = [], {}
    for n, article in enumerate(rng.sample(articles, count - pubmed)):
        accession = str(2_000_000_000 + n)
        copies.append(
            SourceRecord(
                source="Embase",
                format="RIS",
                origin="embase.ris",
                title=article.title,
                abstract=article.abstract,
                authors=article.authors,
                year=article.year,
                journal="Pain Medicine",
                pages=article.pages,
                doi=article.doi if n % 3 else "",
                accessions={AccessionKind.EMBASE: accession},
            )
        )
        truth[accession] = article.pmid
    return articles, copies, truth


def run(count: int) -> dict[str, float | int]:
    articles, copies, truth = library(count)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "data")
        first = store.begin_run(kind="fetch", query="bench", api_key_used=False)
        store.complete_run(first, articles)
        started = time.perf_counter()
        second = store.begin_run(
            kind="import", query="import embase.ris", api_key_used=False, source="Embase"
        )
        store.complete_run(second, [], records=copies)
        stored = time.perf_counter()
        merges = merge_automatic(store)
        merged = time.perf_counter()
        events = store.events_of([Action.DUPLICATE_CONFIRM])
        frame = store.records(columns=["record_id", "source_ids"])
        own_ids = dict(zip(frame["record_id"], frame["source_ids"], strict=True))
        false = 0
        for record_id, original in zip(events["record_id"], events["value"], strict=True):
            accession = str(own_ids[record_id][0]).split(": ", 1)[1]
            false += truth[accession] != int(original)
    return {
        "records": count,
        "copies": len(copies),
        "merged": merges.merged,
        "waiting": merges.waiting,
        "false": false,
        "store_s": stored - started,
        "merge_s": merged - stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    result = run(args.records)
    print(f"Run on {date.today()}: python bench/source_merge_bench.py --records {args.records}")
    machine = platform.processor() or platform.machine()
    print(f"Machine: {machine}, {os.cpu_count()} cores; Python {platform.python_version()}")
    merged = f"{result['merged']:,}; {result['waiting']:,}; **{result['false']}**"
    rows = {
        "records in the store; Embase copies among them": f"{result['records']:,}; "
        f"{result['copies']:,}",
        "storing the Embase import (merge into the records table)": f"{result['store_s']:.1f} s",
        "cross-source merge over the whole library": f"{result['merge_s']:.1f} s",
        "merged automatically; waiting for a person; **false merges**": merged,
    }
    print("| measure | value |\n|---|---|")
    for measure, value in rows.items():
        print(f"| {measure} | {value} |")


if __name__ == "__main__":
    main()
