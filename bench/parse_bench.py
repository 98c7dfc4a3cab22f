"""Parser benchmark: tracker's streaming parser against its peers on the same PubMed XML.

    .venv/bin/python bench/parse_bench.py [--sizes 10000,100000] [--repeat 3] [--write]

Builds efetch-shaped corpora from the real fixtures in ../shared/fixtures/eutils (each copy of a
record gets a fresh PMID), gzipped like MEDLINE baseline files (pubmed_parser reads only
those), generated into a temporary folder and never committed. Every parser reads the same
file, each in its own subprocess, so peak RSS (ru_maxrss) belongs to that parser alone; each
timing is the median of ``--repeat`` runs. ``--write`` puts the table into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from report import machine, write_section

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent / "shared" / "fixtures" / "eutils"
PARSERS = ("tracker", "pubmed_parser", "Bio.Entrez.read", "lxml walk")
HEADER = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    '1st January 2018//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_180101.dtd">\n'
    "<PubmedArticleSet>\n"
)
ENTREZ_MAX = 10_000
"""Entrez.read builds the whole document in memory (about 150 MiB per 1,000 records here), so
it is measured only up to this size."""
_OWN_PMID = re.compile(r'(<MedlineCitation[^>]*>\s*<PMID Version="\d+">)\d+(</PMID>)')


def build_corpus(path: Path, size: int) -> None:
    """Cycle through the real records, giving each copy its own PMID."""
    templates = []
    for name in (
        "pubmed1.xml",
        "pubmed2.xml",
        "pubmed4.xml",
        "pubmed5.xml",
        "pubmed6.xml",
        "pubmed7.xml",
    ):
        text = (FIXTURES / name).read_text(encoding="utf-8")
        templates += re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, flags=re.S)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write(HEADER)
        for n in range(size):
            record = _OWN_PMID.sub(rf"\g<1>{40_000_000 + n}\g<2>", templates[n % len(templates)], 1)
            out.write(record + "\n")
        out.write("</PubmedArticleSet>\n")


def prepare(name: str) -> Callable[[Path], int]:
    """Import one parser (outside the timing) and return a function that counts records."""
    if name == "tracker":
        from tracker.parse import iter_articles

        return lambda path: sum(1 for _ in iter_articles(path))
    if name == "pubmed_parser":
        import pubmed_parser

        return lambda path: sum(1 for _ in pubmed_parser.parse_medline_xml(str(path)))
    if name == "Bio.Entrez.read":
        from Bio import Entrez

        def entrez(path: Path) -> int:
            with gzip.open(path, "rb") as handle:
                return len(Entrez.read(handle, validate=False)["PubmedArticle"])  # type: ignore[no-untyped-call]

        return entrez
    if name == "lxml walk":
        return _lxml_walk
    raise SystemExit(f"unknown parser {name}")


def _lxml_walk(path: Path) -> int:
    """The floor: visit every element once, keep nothing."""
    from lxml import etree

    records = 0
    with gzip.open(path) as stream:
        events = etree.iterparse(
            stream, events=("end",), tag="PubmedArticle", load_dtd=False, no_network=True
        )
        for _, element in events:
            for _node in element.iter():
                pass
            records += 1
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    return records


def worker(name: str, path: Path) -> None:
    parse = prepare(name)
    start = time.perf_counter()
    count = parse(path)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"records": count, "seconds": seconds, "peak_mib": peak_kib / 1024}))


def measure(name: str, path: Path, repeat: int, timeout: float) -> dict[str, float] | None:
    runs = []
    for _ in range(repeat):
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--worker", name, str(path)],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            return None
        except subprocess.CalledProcessError as exc:
            print(f"{name} failed: {exc.stderr[-500:]}", file=sys.stderr)
            return None
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        "records": runs[0]["records"],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mib": max(r["peak_mib"] for r in runs),
    }


def table(results: dict[int, dict[str, dict[str, float] | None]], timeout: float) -> str:
    lines = [
        "| records | parser | records/s | seconds | peak RSS (MiB) | tracker is × faster |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for size, by_parser in results.items():
        ours = by_parser["tracker"]
        for name in PARSERS:
            got = by_parser[name]
            if got is None:
                why = "not streaming: skipped" if name == "Bio.Entrez.read" else "timed out"
                lines.append(f"| {size:,} | {name} | — | {why} | — | — |")
                continue
            rate = got["records"] / got["seconds"]
            ratio = got["seconds"] / ours["seconds"] if ours else float("nan")
            lines.append(
                f"| {size:,} | {name} | {rate:,.0f} | {got['seconds']:.2f} | "
                f"{got['peak_mib']:.0f} | {ratio:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="per run, seconds")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--worker", nargs=2, metavar=("PARSER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    if not FIXTURES.is_dir():
        raise SystemExit(f"The real fixtures are needed to build the corpus: {FIXTURES}")
    results: dict[int, dict[str, dict[str, float] | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"corpus-{size}.xml.gz"
            build_corpus(path, size)
            print(f"{size:,} records, {path.stat().st_size / 2**20:.0f} MiB", file=sys.stderr)
            results[size] = {}
            for name in PARSERS:
                if name == "Bio.Entrez.read" and size > ENTREZ_MAX:
                    results[size][name] = None
                    continue
                results[size][name] = measure(name, path, args.repeat, args.timeout)
                print(f"  {name}: {results[size][name]}", file=sys.stderr)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    text = (
        f"Run on {stamp}: `python bench/parse_bench.py --sizes {args.sizes} --repeat "
        f"{args.repeat}`\n\nMachine: {machine()}\n\n{table(results, args.timeout)}\n"
    )
    print(text)
    if args.write:
        write_section("Parser", text)


if __name__ == "__main__":
    main()
