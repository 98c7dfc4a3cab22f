"""Fetch benchmark: requests and wall time to fetch N records from the fake NCBI at 3 req/s.

    .venv/bin/python bench/fetch_bench.py [--sizes 500,5000,25000] [--write]

Side by side, in the same run: tracker (measured), NCBI's minimum (ceil(N/10000) searches +
ceil(N/500) fetches), pymed (measured against the same fake, with its own base URL pointed at
it) and metapub (computed from its source: PubMedFetcher.pmids_for_query pages ids 250 at a
time and article_by_pmid sends one efetch per PMID; it could not be pointed at the fake without
patching its client internals).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import fake_eutils  # noqa: E402
from report import machine, write_section  # noqa: E402

from tracker.config import Settings  # noqa: E402
from tracker.fetch import fetch, minimum_requests  # noqa: E402
from tracker.store import Store  # noqa: E402


def run_tracker(size: int) -> dict[str, Any]:
    server = fake_eutils.start(records=size)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp), email="bench@example.org", eutils_url=server.base_url
            )
            started = time.perf_counter()
            summary = fetch(settings, store=Store(tmp), query="bench")
            seconds = time.perf_counter() - started
            stored = len(Store(tmp).known_pmids())
        statuses = server.statuses()
        return {
            "requests": len(statuses),
            "seconds": seconds,
            "records": stored,
            "429": statuses.count(429),
            "note": f"{summary.retries} retries",
        }
    finally:
        server.shutdown()


def run_pymed(size: int, *, enforce_rate: bool) -> dict[str, Any]:
    import pymed.api

    server = fake_eutils.start(records=size, enforce_rate=enforce_rate)
    pymed.api.BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.perf_counter()
    note, records = "completed", 0
    try:
        records = sum(
            1
            for _ in pymed.PubMed(tool="bench", email="bench@example.org").query(
                "bench", max_results=size
            )
        )
    except Exception as exc:  # a peer failing is a result to report, not a crash
        note = f"failed: {type(exc).__name__}: {str(exc)[:60]}"
    finally:
        server.shutdown()
    statuses = server.statuses()
    return {
        "requests": len(statuses),
        "seconds": time.perf_counter() - started,
        "records": records,
        "429": statuses.count(429),
        "note": note,
    }


def metapub_requests(size: int) -> int:
    return math.ceil(size / 250) + size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,5000,25000")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    rows = [
        "| N | client | requests | × NCBI minimum | seconds | records | HTTP 429 | note |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for size in (int(s) for s in args.sizes.split(",")):
        floor = minimum_requests(size)
        rows.append(
            f"| {size:,} | NCBI minimum | {floor} | 1.00 | {floor / 3:.1f} (at 3/s) | "
            f"{size:,} | — | ceil(N/10000) + ceil(N/500) |"
        )
        results = {
            "tracker": run_tracker(size),
            "pymed (3/s enforced)": run_pymed(size, enforce_rate=True),
            "pymed (limit off)": run_pymed(size, enforce_rate=False),
        }
        for name, got in results.items():
            rows.append(
                f"| {size:,} | {name} | {got['requests']} | {got['requests'] / floor:.2f} | "
                f"{got['seconds']:.1f} | {got['records']:,} | {got['429']} | {got['note']} |"
            )
            print(name, size, got, file=sys.stderr)
        meta = metapub_requests(size)
        rows.append(
            f"| {size:,} | metapub (computed) | {meta:,} | {meta / floor:.1f} | "
            f"{meta / 3:,.0f} (at 3/s) | — | — | 1 efetch per PMID |"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    text = (
        f"Run on {stamp}: `python bench/fetch_bench.py --sizes {args.sizes}`\n\n"
        f"Machine: {machine('biopython', 'pymed', 'metapub')}\n\n" + "\n".join(rows) + "\n"
    )
    print(text)
    if args.write:
        write_section("Fetch", text)


if __name__ == "__main__":
    main()
