"""Screening benchmark: the state of 100,000 records folded from their event log.

    .venv/bin/python bench/screening_bench.py [--records 100000] [--repeat 5] [--write]

Stores ``--records`` records (PMID and title only: the fold reads no other field) in a
temporary folder and makes up their log with tests/synthetic_log.py, the log whose counts
tests/test_screening.py checks: about 2.7 events per record, two reviewers at
title/abstract, tags, notes and full-text decisions. Then times ``screening.summary(store,
log)`` (best and median of ``--repeat``), the fold behind the app's table, exports, PRISMA
counts and the claims view. The goal is well under a second at 100,000 records.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from report import machine, write_section

from tracker import screening
from tracker.records import Article
from tracker.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # not a package
from synthetic_log import synthetic_log

GOAL_SECONDS = 1.0


def run(count: int, repeat: int) -> list[tuple[str, str]]:
    """(measure, value) rows."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        store.upsert(Article(pmid=p, title="t") for p in range(1, count + 1))
        log = synthetic_log(count)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            state = screening.summary(store, log)
            times.append(time.perf_counter() - started)
    best, median = min(times), statistics.median(times)
    decisions = ", ".join(f"{n:,} {d}" for d, n in state["decision"].value_counts().items())
    met = "yes" if best < GOAL_SECONDS else "**no**"
    return [
        ("records; events in the log", f"{len(state):,}; {len(log):,}"),
        ("final decisions", decisions),
        (f"fold the log into the state, best of {repeat}", f"**{best * 1000:.0f} ms**"),
        (f"fold the log into the state, median of {repeat}", f"{median * 1000:.0f} ms"),
        (f"goal: best under {GOAL_SECONDS:g} s", met),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="record it in bench/RESULTS.md")
    args = parser.parse_args()
    rows = run(args.records, args.repeat)
    table = "| measure | value |\n|---|---:|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    day = datetime.now(UTC).date().isoformat()
    text = (
        f"Run on {day}: `python bench/screening_bench.py --records {args.records} "
        f"--repeat {args.repeat}`\n\nMachine: {machine('pandas', 'pyarrow')}\n\n{table}\n"
    )
    print(text)
    if args.write:
        write_section("Screening state", text)


if __name__ == "__main__":
    main()
