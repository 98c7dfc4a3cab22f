"""A review team on one store: many reviewers at once, a server restart, a large fetch, the app.

    .venv/bin/python bench/team_bench.py [--reviewers 8] [--decisions 500] [--records 100000]
                                         [--write]

Side by side, in one run, on the embedded store (a data folder) and on a PostgreSQL server
(a throwaway cluster of Debian's package, tests/postgres_server.py):

1. N reviewer processes each record M decisions at once, one decision per call as the app
   does: events stored, lost (reported saved but absent), errors, decisions per second.
2. (server) PostgreSQL stopped and started again in the middle of a stream of decisions by four
   reviewer processes: every decision reported saved is there afterwards, the ones in flight
   failed with the store's message, and every writer went on by itself once it was back (a
   decision asked for while the server is down waits for it, up to the store's lock wait).
3. A fetch of 25,000 records from the fake NCBI into each store: every record stored exactly
   once, the time taken; then a fetch killed in the middle changes no record.
4. The dashboard at 100,000 records (Streamlit's AppTest, the real app.py): first render and
   reruns after filter changes on each store, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import fake_eutils  # noqa: E402
import postgres_server  # noqa: E402
from app_bench import synthetic  # noqa: E402
from report import machine, write_section  # noqa: E402

from tracker import screening  # noqa: E402
from tracker.config import Settings  # noqa: E402
from tracker.fetch import fetch  # noqa: E402
from tracker.records import Article  # noqa: E402
from tracker.store import Store  # noqa: E402

Row = tuple[str, str, str]
"""measure, data folder, server"""

REVIEWER = textwrap.dedent(
    """
    import sys, time
    from tracker import screening
    from tracker.config import Settings
    from tracker.errors import StoreError
    from tracker.store import Store
    folder, url, who, count, records = sys.argv[1:6]
    store = Store.open(Settings(data_dir=folder, database_url=url))
    print("ready", flush=True)
    sys.stdin.readline()  # every reviewer starts at the same moment
    for n in range(int(count)):
        record = n % int(records) + 1
        try:
            screening.decide(store, [record], decision="include" if n % 2 else "exclude",
                             reviewer=who, reason="" if n % 2 else "duplicate",
                             note=f"{who}:{n}")
            print("saved", n, flush=True)
        except StoreError as exc:
            print("failed", n, str(exc).replace(chr(10), " "), flush=True)
            time.sleep(0.2)
    """
)


def reviewers_at_once(store_of: Callable[[], Store], folder: str, url: str, *, reviewers: int,
                      decisions: int, records: int = 500) -> dict[str, float]:  # fmt: skip
    """Start the reviewers, release them together, and count what the store then holds."""
    store = store_of()
    run = store.begin_run(kind="import", query="bench records", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in range(1, records + 1)])
    children = [_reviewer(folder, url, f"r{k}", decisions, records) for k in range(reviewers)]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate(timeout=1800)[0] for child in children]
    seconds = time.perf_counter() - started
    saved = {line.split()[1] for out in outputs for line in out.splitlines() if line[:5] == "saved"}
    errors = sum(line.startswith("failed") for out in outputs for line in out.splitlines())
    notes = set(store_of().events()["note"])
    reported = {f"r{k}:{n}" for k in range(reviewers) for n in range(decisions)}
    claimed = sum(out.count("saved") for out in outputs)
    return {
        "events": float(len(notes & reported)),
        "lost": float(claimed - len(notes & reported)),
        "errors": float(errors),
        "seconds": seconds,
        "per_second": len(notes & reported) / seconds,
        "saved_lines": float(len(saved)),
    }


def _reviewer(folder: str, url: str, who: str, count: int, records: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", REVIEWER, folder, url, who, str(count), str(records)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def restart_in_the_middle(server: postgres_server.Server, url: str) -> list[Row]:
    """Four reviewers stream decisions while the server is stopped for 3 s and started again."""
    store = Store.open(Settings(database_url=url))
    run = store.begin_run(kind="import", query="bench records", api_key_used=False)
    store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in range(1, 501)])
    children = [_reviewer("unused", url, f"w{k}", 400, 500) for k in range(4)]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    time.sleep(2)
    server.stop("fast")
    postgres_server.wait_until_down(server)
    time.sleep(3)
    server.start()
    outputs = [child.communicate(timeout=1800)[0].splitlines() for child in children]
    saved = {f"w{k}:{line.split()[1]}" for k, out in enumerate(outputs) for line in out
             if line.startswith("saved")}  # fmt: skip
    failed = [line for out in outputs for line in out if line.startswith("failed")]
    after = [max((i for i, line in enumerate(out) if line.startswith("failed")), default=-1)
             for out in outputs]  # fmt: skip
    recovered = all(any(line.startswith("saved") for line in out[i + 1 :])
                    for out, i in zip(outputs, after, strict=True))  # fmt: skip
    stored = set(Store.open(Settings(database_url=url)).events()["note"])
    message = failed[0].split(" ", 2)[2] if failed else "none"
    return [
        ("restart: decisions reported saved", "", f"{len(saved):,}"),
        ("restart: of those, missing afterwards", "", f"{len(saved - stored)}"),
        (
            "restart: decisions in flight when it went down: failed, each saying so",
            "",
            f"{len(failed)}",
        ),
        ("restart: every writer went on by itself afterwards", "", "yes" if recovered else "NO"),
        ("restart: the message a failed decision gave", "", message[:160]),
    ]


def large_fetch(store_of: Callable[[], Store], folder: Path, url: str) -> dict[str, str]:
    """25,000 records from the fake NCBI, then a fetch of 30,000 killed half-way."""
    fake = fake_eutils.start(records=25_000)
    try:
        settings = Settings(data_dir=folder, email="bench@example.org",
                            eutils_url=fake.base_url, database_url=url)  # fmt: skip
        started = time.perf_counter()
        fetch(settings, store=store_of(), query="bench")
        seconds = time.perf_counter() - started
        ids = store_of().records(["record_id"])["record_id"].tolist()
        once = len(ids) == len(set(ids)) == 25_000 and set(ids) == set(fake.corpus)
        before = store_of().records().to_json()
        fake.add_records(5_000)
        env = {**os.environ, "TRACKER_EUTILS_URL": fake.base_url, "NCBI_EMAIL": "b@example.org",
               "TRACKER_DATA_DIR": str(folder), "TRACKER_DATABASE_URL": url}  # fmt: skip
        tracker = Path(sys.executable).with_name("tracker")
        child = subprocess.Popen([str(tracker), "fetch", "--query", "bench"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        requests = len(fake.requests("efetch"))
        while len(fake.requests("efetch")) < requests + 30 and child.poll() is None:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        unchanged = store_of().records().to_json() == before
        last = store_of().runs().iloc[-1]
    finally:
        fake.shutdown()
    return {
        "seconds": f"{seconds:.1f} s",
        "once": "yes" if once else "NO",
        "killed": f"{'unchanged' if unchanged else 'CHANGED'}; run logged {last['status']}",
    }


def dashboard(folder: Path, url: str, records: int) -> dict[str, list[float]]:
    """First render and reruns of the real app on each store, the same records in both."""
    from streamlit.testing.v1 import AppTest

    articles = synthetic(records)
    times: dict[str, list[float]] = {}
    for name, database_url in (("folder", ""), ("server", url)):
        store = Store.open(Settings(data_dir=folder, database_url=database_url))
        store.upsert(articles)
        screening.decide(store, range(10_000_000, 10_002_000), decision="include",
                         reviewer="ana")  # fmt: skip
        os.environ.update(TRACKER_DATA_DIR=str(folder), TRACKER_DATABASE_URL=database_url,
                          TRACKER_REVIEWER="ana")  # fmt: skip
        at = AppTest.from_file(str(HERE.parent / "app.py"), default_timeout=900)
        first = _timed(at.run)
        assert not at.exception, at.exception
        reruns = []
        for words in ("fibromyalgia", "migraine", "cancer pain", "oral", ""):
            at.text_input(key="f_text").input(words)
            reruns.append(_timed(at.run))
        at.multiselect(key="f_route").select("intranasal")
        reruns.append(_timed(at.run))
        assert not at.exception, at.exception
        times[name] = [first, statistics.median(reruns)]
    os.environ.pop("TRACKER_DATABASE_URL", None)
    return times


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextmanager
def server_and_folder() -> Iterator[tuple[postgres_server.Server, Path]]:
    server = postgres_server.start()
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    try:
        yield server, folder
    finally:
        server.stop("immediate")
        shutil.rmtree(server.folder, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def schema_url(server: postgres_server.Server, schema: str) -> str:
    return f"{server.url}?options={quote(f'-csearch_path={schema}')}"


def opener(folder: Path, url: str) -> Callable[[], Store]:
    """How a process opens the store: the server when ``url`` is set, else the folder."""
    return lambda: Store.open(Settings(data_dir=folder, database_url=url))


def run(reviewers: int, decisions: int, records: int) -> list[Row]:
    rows: list[Row] = []
    with server_and_folder() as (server, tmp):
        stores = {"folder": "", "server": schema_url(server, "concurrent")}
        both = {
            name: reviewers_at_once(opener(tmp / name, url), str(tmp / name), url,
                                    reviewers=reviewers, decisions=decisions)
            for name, url in stores.items()
        }  # fmt: skip
        label = f"{reviewers} reviewers × {decisions} decisions at once"
        for key, words in (("events", "events stored"), ("lost", "lost"), ("errors", "errors")):
            rows.append((f"{label}: {words}", f"{both['folder'][key]:,.0f}",
                         f"{both['server'][key]:,.0f}"))  # fmt: skip
        speed = {n: f"{both[n]['per_second']:.0f} ({both[n]['seconds']:.1f} s)" for n in stores}
        rows.append(
            (f"{label}: decisions per second (wall time)", speed["folder"], speed["server"])
        )
        rows += restart_in_the_middle(server, schema_url(server, "restart"))
        stores = {"folder": "", "server": schema_url(server, "fetch")}
        fetched = {
            name: large_fetch(opener(tmp / f"fetch-{name}", url), tmp / f"fetch-{name}", url)
            for name, url in stores.items()
        }
        for key, words in (("seconds", "fetch 25,000 records: time"),
                           ("once", "fetch 25,000 records: every record stored exactly once"),
                           ("killed", "a fetch killed half-way: records")):  # fmt: skip
            rows.append((words, fetched["folder"][key], fetched["server"][key]))
        if records:
            rows += dashboard_rows(dashboard(tmp / "app", schema_url(server, "app"), records),
                                   records)  # fmt: skip
    return rows


def dashboard_rows(shown: dict[str, list[float]], records: int) -> list[Row]:
    (folder_first, folder_rerun), (server_first, server_rerun) = shown["folder"], shown["server"]
    where = f"dashboard at {records:,} records"
    return [
        (f"{where}: first render (cold caches)", f"{folder_first:.2f} s",
         f"{server_first:.2f} s ({server_first / folder_first:.2f}×)"),
        (f"{where}: rerun after a filter change (median of 6)", f"{folder_rerun * 1000:.0f} ms",
         f"{server_rerun * 1000:.0f} ms ({server_rerun / folder_rerun:.2f}×)"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=8)
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = run(args.reviewers, args.decisions, args.records)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    load = os.getloadavg()[0]
    table = "\n".join(["| measure | data folder | PostgreSQL server |", "|---|---:|---:|",
                       *(f"| {a} | {b} | {c} |" for a, b, c in rows)])  # fmt: skip
    text = (
        f"Run on {stamp}: `python bench/team_bench.py --reviewers {args.reviewers} --decisions"
        f" {args.decisions} --records {args.records}`\n\nMachine: "
        f"{machine('psycopg')}; PostgreSQL {postgres_server.binaries()}; load average at the"
        f" end {load:.1f}\n\n{table}\n"
    )
    print(text)
    if args.write:
        write_section("Team on one store", text)


if __name__ == "__main__":
    main()
