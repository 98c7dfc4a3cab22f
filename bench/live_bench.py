"""Live team state at 100,000 records: what one tick of a live panel costs the server.

    .venv/bin/python bench/live_bench.py [--records 100000] [--write]

Builds the app benchmark's synthetic store with 5,000 decisions by two reviewers, then draws
the live panels as a fragment tick does (a fresh stamp, then the cached loaders), through
Streamlit's AppTest: the Browse tab's progress and conflicts panels for one reviewer, and the
Overview. Each open page pays a quiet tick every few seconds, and the tick after anyone's
decision once per decision, so these two numbers are what a team's open pages cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from app_bench import synthetic
from report import machine, write_section
from streamlit.testing.v1 import AppTest

from tracker import Store, screening

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # the app's views/, as Streamlit sees it
FIRST = 10_000_000
"""The synthetic records' first PMID."""


def live_page(data_dir: str, tab: str) -> None:
    """What a live fragment draws: the store's stamp read again, then the panels."""
    import tracker
    from views import conflicts, live, overview, progress
    from views import library_cache as cache
    from views.sidebar import Choices

    here = cache.snapshot(tracker.Settings.from_env(data_dir=data_dir))
    choices = Choices(tracker.Filters(), "ana", "title-abstract")
    if tab == "Browse & screen":
        live.panel(here, lambda now: progress.panel(now, choices))
        live.panel(here, lambda now: conflicts.panel(now, choices))
    else:  # the Overview's live parts; its library charts are drawn once, not each tick
        live.panel(here, overview.headline)
        live.panel(here, lambda now: overview.screening_flow(now, cache.screening_state(now)))


def ticks(page: AppTest, store: Store, decide: int, repeat: int) -> tuple[float, float]:
    """Median seconds of a quiet tick, and of the tick after one more decision by ``ben``."""
    page.run()  # cold: the loaders fill their caches
    if page.exception:
        raise RuntimeError(page.exception[0].value)
    quiet, after = [], []
    for n in range(repeat):
        start = time.perf_counter()
        page.run()
        quiet.append(time.perf_counter() - start)
        screening.decide(store, [decide + n], decision="exclude", reviewer="ben",
                         reason="wrong population")  # fmt: skip
        start = time.perf_counter()
        page.run()
        after.append(time.perf_counter() - start)
        if page.exception or page.error:
            raise RuntimeError("the live panels failed to draw")
    return statistics.median(quiet), statistics.median(after)


def run(records: int, repeat: int = 5) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        store.upsert(synthetic(records))
        for start in range(0, 5000, 500):
            chunk = range(FIRST + start, FIRST + start + 500)
            screening.decide(store, chunk, decision="include", reviewer="ana")
            screening.decide(store, chunk[:100], decision="maybe", reviewer="ben")
        for n, tab in enumerate(("Browse & screen", "Overview")):
            page = AppTest.from_function(live_page, args=(tmp, tab), default_timeout=600)
            quiet, after = ticks(page, store, FIRST + n * repeat, repeat)
            rows.append((f"{tab}: a quiet tick (nothing changed)", f"{quiet * 1000:.0f} ms"))
            rows.append((f"{tab}: the tick after a partner's decision", f"{after * 1000:.0f} ms"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = run(args.records)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    table = "\n".join(["| measure (median of 5) | value |", "|---|---:|",
                       *(f"| {a} | {b} |" for a, b in rows)])  # fmt: skip
    text = (
        f"Run on {stamp}: `python bench/live_bench.py --records {args.records}` (5,000 decisions"
        " by two reviewers; the panels through AppTest, server-side time)\n\n"
        f"Machine: {machine()}\n\n{table}\n"
    )
    print(text)
    if args.write:
        write_section("Live team state", text)


if __name__ == "__main__":
    main()
