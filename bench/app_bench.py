"""Dashboard benchmark at 100,000 records: first render, rerun after a filter, filter time, memory.

    .venv/bin/python bench/app_bench.py [--records 100000] [--write]

Builds a store of synthetic but realistic records (titles, abstracts, authors, MeSH, types) in a
temporary folder, adds 5,000 screening events, then measures in one run:
- loading the library (records + evidence tags), cold, as the app's first render does;
- the app's first render and a rerun after a filter change, through Streamlit's AppTest, a
  record's detail with its suggested tags, and the Evidence map tab (heat map and claims)
  (the real app.py, server-side time; the browser's own drawing is not included);
- tracker.selection on 100,000 records for typical filters (median of 7);
- the screening summary over the event log; peak memory of the process;
- the real thing: `streamlit run app.py` driven by Debian's chromium, from opening the page to
  the table drawn, and from typing a search to the new count shown; the server's memory.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from report import machine, write_section

from tracker import Filters, Store, dashboard, screening, select
from tracker.records import Article, Author, MeshHeading

HERE = Path(__file__).resolve().parent
DRUGS = ("esketamine", "ketamine", "S-ketamine", "arketamine")
CONDITIONS = (
    "neuropathic pain",
    "fibromyalgia",
    "complex regional pain syndrome",
    "cancer pain",
    "chronic low back pain",
    "chronic postsurgical pain",
    "migraine",
)
ROUTES = ("intranasal", "intravenous", "oral", "subcutaneous")
TYPES = (
    "Randomized Controlled Trial",
    "Review",
    "Case Reports",
    "Observational Study",
    "Meta-Analysis",
)


def synthetic(count: int, seed: int = 3) -> list[Article]:
    rng = random.Random(seed)
    articles = []
    for n in range(count):
        drug, condition, route = rng.choice(DRUGS), rng.choice(CONDITIONS), rng.choice(ROUTES)
        size = rng.randint(10, 500)
        abstract = " ".join(
            [
                f"BACKGROUND: {condition.capitalize()} is hard to treat.",
                f"METHODS: {size} adults received {route} {drug} 0.{rng.randint(1, 9)} mg/kg.",
                "RESULTS: Pain scores fell by a clinically relevant margin; dizziness, nausea and "
                "dissociative symptoms were the commonest adverse effects." * rng.randint(1, 3),
                "CONCLUSIONS: Further trials are needed.",
            ]
        )
        articles.append(
            Article(
                pmid=10_000_000 + n,
                title=f"{route.capitalize()} {drug} for {condition}: a study of {size} patients",
                abstract=abstract,
                authors=tuple(Author(f"Author{k}", "", "A") for k in range(rng.randint(1, 12))),
                journal=rng.choice(("Pain", "Pain Medicine", "Anesthesiology", "BMJ")),
                year=rng.randint(1990, 2026),
                publication_types=("Journal Article", rng.choice(TYPES)),
                mesh=(MeshHeading("Ketamine"), MeshHeading("Chronic Pain")),
            )
        )
    return articles


def timed(action: Callable[[], object], repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(records: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        rows.append(
            (
                f"write {records:,} records to the store",
                f"{timed(lambda: store.upsert(synthetic(records))):.2f} s",
            )
        )
        for start in range(0, 5000, 500):
            screening.decide(
                store,
                range(10_000_000 + start, 10_000_000 + start + 500),
                decision="include",
                reviewer="ana",
            )
        rows.append(
            (
                "load library (records + evidence tags), cold: every record tagged",
                f"{timed(lambda: dashboard.load_library(store)):.2f} s",
            )
        )
        rows.append(
            (
                "load library again, records unchanged (a restart: the evidence tags are read "
                "from the data folder's cache)",
                f"{timed(lambda: dashboard.load_library(store)):.2f} s",
            )
        )
        library = dashboard.load_library(store)
        rows.append(
            (
                "screening summary (5,000 events)",
                f"{timed(lambda: screening.summary(store), 3) * 1000:.0f} ms",
            )
        )
        state = screening.summary(store)
        for label, filters in (
            ("filter: text 'fibromyalgia'", Filters(text="fibromyalgia")),
            ("filter: years 2015-2020", Filters(years=(2015, 2020))),
            (
                "filter: design RCT + route intranasal",
                Filters(evidence={"design": ("RCT",), "route": ("intranasal",)}),
            ),
            ("filter: decision unscreened", Filters(decisions=("unscreened",))),
        ):

            def pick(f: Filters = filters) -> object:
                return select(
                    library.records,
                    f,
                    screening=state,
                    evidence=library.evidence,
                    haystack=library.haystack,
                )

            ms = timed(pick, 7) * 1000
            rows.append((label, f"{ms:.0f} ms"))
        rows += app_timings(tmp)
        rows += browser_timings(tmp, records)
        weekly = [replace(a, pmid=20_000_000 + n) for n, a in enumerate(synthetic(500, seed=11))]
        store.upsert(weekly)
        rows.append(
            (
                "load library after a fetch of 500 new records (only those are tagged)",
                f"{timed(lambda: dashboard.load_library(store)):.2f} s",
            )
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak memory of this benchmark process (RSS, incl. building the records)",
                 f"{peak:,.0f} MiB"))  # fmt: skip
    return rows


def app_timings(data_dir: str) -> list[tuple[str, str]]:
    from streamlit.testing.v1 import AppTest

    os.environ["TRACKER_DATA_DIR"] = data_dir
    os.environ["TRACKER_REVIEWER"] = "ana"
    at = AppTest.from_file(str(HERE.parent / "app.py"), default_timeout=600)
    first = timed(at.run)
    assert not at.exception, at.exception
    at.text_input(key="f_text").input("fibromyalgia")
    rerun = timed(at.run)
    at.text_input(key="f_text").input("")
    at.multiselect(key="f_route").select("intranasal")
    rerun_facet = timed(at.run)
    at.text_input(key="goto").input("10000042")
    record = timed(at.run)
    assert not at.exception, at.exception
    at.session_state["tab"] = "Evidence map"
    evidence_first = timed(at.run)  # the claims view computes (or reads) every suggestion
    assert not at.exception, at.exception
    at.radio(key="claims_scope").set_value("all")
    claims_all = timed(at.run)
    at.multiselect(key="f_route").unselect("intranasal")
    at.multiselect(key="f_design").select("RCT")
    map_rerun = timed(at.run)
    return [
        ("app first render (AppTest, cold Streamlit caches; evidence tags cached on disk)",
         f"{first:.2f} s"),
        ("app rerun after a text filter change", f"{rerun * 1000:.0f} ms"),
        ("app rerun after a route filter change", f"{rerun_facet * 1000:.0f} ms"),
        ("app: open a record with its suggested tags and spans", f"{record * 1000:.0f} ms"),
        ("app: Evidence map tab, first open (suggestions cold, claims of included studies)",
         f"{evidence_first:.2f} s"),
        ("app: claims of all records instead", f"{claims_all:.2f} s"),
        ("app: Evidence map rerun after a filter change", f"{map_rerun * 1000:.0f} ms"),
    ]  # fmt: skip


IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
"""Streamlit's own mark that the script run has finished (every element sent)."""
SEARCHES = ("fibromyalgia", "migraine", "cancer pain", "oral", "intranasal")


def browser_timings(data_dir: str, records: int) -> list[tuple[str, str]]:
    """The served app in a real browser: what a researcher waits for, and the server's memory."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return [("real browser", "skipped: Debian's chromium is not installed")]
    from playwright.sync_api import expect, sync_playwright

    server, url = _serve(data_dir)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            start = time.perf_counter()
            page.goto(url)
            count = page.get_by_text(f"of {records:,} records match").first
            expect(count).to_be_visible(timeout=600_000)
            drawn = time.perf_counter() - start
            expect(page.locator(IDLE)).to_be_attached(timeout=600_000)
            finished = time.perf_counter() - start
            shown, done = [], []
            for words in SEARCHES:
                before = count.inner_text()
                page.get_by_label("Search title and abstract").fill(words)
                start = time.perf_counter()
                page.get_by_label("Search title and abstract").press("Enter")
                expect(count).not_to_have_text(before, timeout=60_000)
                shown.append(time.perf_counter() - start)
                expect(page.locator(IDLE)).to_be_attached(timeout=60_000)
                done.append(time.perf_counter() - start)
            browser.close()
        memory = _server_memory(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return [
        ("browser: open the page until the table is drawn (cold server)", f"{drawn:.2f} s"),
        ("browser: open the page until the whole page is sent", f"{finished:.2f} s"),
        (f"browser: a new search until its count shows (median of {len(SEARCHES)})",
         f"{statistics.median(shown) * 1000:.0f} ms"),
        (f"browser: a new search until the rerun has finished (median of {len(SEARCHES)}; "
         "slowest)", f"{statistics.median(done) * 1000:.0f} ms; {max(done) * 1000:.0f} ms"),
        ("streamlit server memory after these (RSS; peak RSS)", memory),
    ]  # fmt: skip


def _serve(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "TRACKER_DATA_DIR": data_dir, "TRACKER_REVIEWER": "ana"}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(HERE.parent / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("streamlit did not start within a minute")


def _server_memory(pid: int) -> str:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    now, peak = (int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    return f"{now:,.0f} MiB; {peak:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = run(args.records)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    table = "\n".join(["| measure | value |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)])
    text = (
        f"Run on {stamp}: `python bench/app_bench.py --records {args.records}`\n\n"
        f"Machine: {machine()}\n\n{table}\n"
    )
    print(text)
    if args.write:
        write_section("App", text)


if __name__ == "__main__":
    main()
