"""Export benchmark: 100,000 records to CSV, RIS and BibTeX, tracker beside naive peers.

    .venv/bin/python bench/export_bench.py [--records 100000] [--repeat 3] [--write]

Stores synthetic records (bench/app_bench.py's generator, plus a DOI, pages and a few
annotations) in a temporary folder, reads them back as the export does, then times (median of
--repeat) in one run:
- tracker's CSV (spreadsheet-safe cells), RIS (rispy) and BibTeX (bibtexparser) writers;
- the peers, given the same columns: pandas ``DataFrame.to_csv``; ``rispy.dumps`` of entries
  built naively (title, authors, journal, year, DOI, abstract, keywords, PMID, URL); and
  bibtexparser's default writer on a Library built naively (the same fields, no escaping).
The goal is under 5 s per format at 100,000 records.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import rispy
from app_bench import synthetic
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from report import machine, write_section

from tracker import bibliography, export
from tracker.export import Annotation
from tracker.records import Article
from tracker.store import Store

GOAL_SECONDS = 5.0
PEER_COLUMNS = ("pmid", "title", "authors", "journal", "year", "doi", "abstract", "mesh_terms")


def records(count: int) -> tuple[pd.DataFrame, dict[int, Annotation]]:
    """Synthetic records as ``Store.records()`` returns them, and a decision on one in ten."""
    articles = [
        Article(**{**_fields(a), "doi": f"10.1000/bench.{a.pmid}", "pages": "113-25"})
        for a in synthetic(count)
    ]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        store.upsert(articles)
        frame = store.records()
    notes = {
        int(pmid): Annotation("include", "", ("rct",), ("50% responders",))
        for pmid in frame["pmid"][::10]
    }
    return frame, notes


def _fields(article: Article) -> dict[str, Any]:
    return {name: getattr(article, name) for name in Article.__dataclass_fields__}


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def naive_ris(frame: pd.DataFrame) -> str:
    entries = [
        {"type_of_reference": "JOUR", "title": r["title"], "authors": list(r["authors"]),
         "secondary_title": r["journal"], "year": str(r["year"]), "doi": r["doi"],
         "abstract": r["abstract"], "keywords": list(r["mesh_terms"]),
         "accession_number": str(r["pmid"]), "urls": [f"https://pubmed.ncbi.nlm.nih.gov/{r['pmid']}/"]}
        for r in frame[list(PEER_COLUMNS)].to_dict(orient="records")
    ]  # fmt: skip
    return str(rispy.dumps(entries))


def naive_bibtex(frame: pd.DataFrame) -> str:
    library = Library()
    for r in frame[list(PEER_COLUMNS)].to_dict(orient="records"):
        fields = [Field("title", r["title"]), Field("author", " and ".join(r["authors"])),
                  Field("journal", r["journal"]), Field("year", str(r["year"])),
                  Field("doi", r["doi"]), Field("abstract", r["abstract"]),
                  Field("keywords", ", ".join(r["mesh_terms"])),
                  Field("pmid", str(r["pmid"]))]  # fmt: skip
        library.add(Entry("article", f"pmid{r['pmid']}", fields))
    return str(write_string(library))


def run(count: int, repeat: int) -> list[tuple[str, str, float, float]]:
    """(format, peer, tracker seconds, peer seconds) per format."""
    frame, notes = records(count)
    peers = frame[list(PEER_COLUMNS)]
    pairs: list[tuple[str, str, Callable[[], object], Callable[[], object]]] = [
        ("CSV", "pandas DataFrame.to_csv", lambda: export.to_csv_bytes(frame, notes),
         lambda: peers.to_csv(index=False)),
        ("RIS", "rispy.dumps, naive entries", lambda: bibliography.to_ris(frame, notes),
         lambda: naive_ris(frame)),
        ("BibTeX", "bibtexparser default writer, naive Library",
         lambda: bibliography.to_bibtex(frame, notes), lambda: naive_bibtex(frame)),
    ]  # fmt: skip
    return [
        (name, peer, median_seconds(ours, repeat), median_seconds(theirs, repeat))
        for name, peer, ours, theirs in pairs
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = run(args.records, args.repeat)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    table = "\n".join(
        [
            "| format | tracker (s) | goal | met? | peer | peer (s) | tracker ÷ peer |",
            "|---|---:|---:|---|---|---:|---:|",
            *(
                f"| {name} | {ours:.2f} | < {GOAL_SECONDS:g} s | "
                f"{'yes' if ours < GOAL_SECONDS else '**no**'} | {peer} | {theirs:.2f} | "
                f"{ours / theirs:.2f} |"
                for name, peer, ours, theirs in rows
            ),
        ]
    )
    text = (
        f"Run on {stamp}: `python bench/export_bench.py --records {args.records} "
        f"--repeat {args.repeat}` (median of {args.repeat}; {args.records:,} records, one in "
        "ten annotated)\n\n"
        f"Machine: {machine('pandas', 'rispy', 'bibtexparser')}\n\n{table}\n"
    )
    print(text)
    if args.write:
        write_section("Export", text)


if __name__ == "__main__":
    main()
