"""Citation metrics from iCite: `tracker enrich` against a real local HTTP server (fake_icite)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fake_icite
import pandas as pd
import pytest
import requests
from click.testing import CliRunner
from fake_icite import FakeICite

from tracker.citations import DTYPES, enrich, load, with_metrics
from tracker.cli import main
from tracker.config import Settings
from tracker.errors import CitationError, StoreError, WholeRebuildRequired
from tracker.fetch import Progress, RetryPolicy
from tracker.records import Article
from tracker.store import Store

EXPECTED = Path(__file__).resolve().parent / "expected" / "icite_documented_answers.json"
THOUSAND = list(range(30_000_000, 30_001_000))
FAST = RetryPolicy(max_tries=3, base_delay=0.0, max_delay=0.0)


def stored(data_dir: Path, pmids: list[int]) -> Store:
    store = Store(data_dir)
    store.upsert([Article(pmid=pmid, title=f"Ketamine {pmid}") for pmid in pmids])
    return store


def settings(server: FakeICite, data_dir: Path, **fields: Any) -> Settings:
    return Settings(data_dir=data_dir, icite_url=server.base_url, **fields)


class Sleeps(list[float]):
    """A stand-in for time.sleep that remembers each pause instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def expected_row(server: FakeICite, pmid: int) -> dict[str, Any]:
    entry = fake_icite.metrics(pmid)
    return {
        "pmid": pmid,
        "citation_count": entry["citation_count"],
        "relative_citation_ratio": entry["relative_citation_ratio"],
        "nih_percentile": entry["nih_percentile"],
        "year": entry["year"],
        "is_clinical": entry["is_clinical"],
        "provisional": entry["provisional"],
    }


def as_plain(row: pd.Series) -> dict[str, Any]:
    """A stored row with NA/NaN as None, for comparing with hand-written values."""
    plain = {}
    for name in ("pmid", "citation_count", "relative_citation_ratio", "nih_percentile", "year",
                 "is_clinical", "provisional"):  # fmt: skip
        value = row[name]
        plain[name] = None if pd.isna(value) else value
    return plain


# -- fetching and storing -----------------------------------------------------------------------


def test_a_thousand_pmids_take_five_paced_requests_and_every_metric_is_stored(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND)
    summary = enrich(store, settings(icite, data_dir))
    log = icite.requests()
    assert summary.requests == len(log) == 5
    assert [len(r["pmids"]) for r in log] == [200] * 5
    assert sorted(p for r in log for p in r["pmids"]) == THOUSAND
    assert all(r["params"]["fl"].split(",")[0] == "pmid" for r in log)
    assert all("format" not in r["params"] for r in log), "JSON is iCite's default"
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(log)]
    assert min(gaps) >= 1 / 3, "at most 3 requests per second"
    metrics = load(store)
    known = [p for p in THOUSAND if fake_icite.knows(p)]
    assert metrics["pmid"].tolist() == known
    for _, row in metrics.iterrows():
        assert as_plain(row) == expected_row(icite, int(row["pmid"]))
    assert metrics["relative_citation_ratio"].isna().sum() > 0, "the fake has recent papers"
    assert metrics["fetched_at"].str.endswith("+00:00").all()


def test_stored_metrics_have_the_declared_types(data_dir: Path, icite: FakeICite) -> None:
    store = stored(data_dir, THOUSAND[:50])
    enrich(store, settings(icite, data_dir))
    assert {name: str(dtype) for name, dtype in load(store).dtypes.items()} == DTYPES


def test_pmids_icite_does_not_know_are_counted_and_left_without_metrics(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND)
    summary = enrich(store, settings(icite, data_dir))
    unknown = [p for p in THOUSAND if not fake_icite.knows(p)]
    assert len(unknown) == 20
    assert list(summary.unknown_pmids) == unknown
    assert (summary.asked, summary.found, summary.unknown) == (1000, 980, 20)
    assert "980 with citation metrics, 20 unknown to iCite" in summary.line()
    assert not load(store)["pmid"].isin(unknown).any(), "no invented zeros"


def test_yes_no_flags_of_the_legacy_answers_are_read_as_booleans(
    data_dir: Path, icite_factory: Callable[..., FakeICite]
) -> None:
    server = icite_factory(yes_no=True)
    assert server.record(THOUSAND[0])["provisional"] in ("Yes", "No")  # type: ignore[index]
    store = stored(data_dir, THOUSAND[:300])
    enrich(store, settings(server, data_dir))
    for _, row in load(store).iterrows():
        assert as_plain(row) == expected_row(server, int(row["pmid"]))


def test_iCites_documented_answers_are_stored_as_written_by_hand(
    data_dir: Path, icite_factory: Callable[..., FakeICite]
) -> None:
    cases = json.loads(EXPECTED.read_text(encoding="utf-8"))["cases"]
    server = icite_factory(canned={c["entry"]["pmid"]: c["entry"] for c in cases})
    store = Store(data_dir)
    enrich(store, settings(server, data_dir), pmids=[c["entry"]["pmid"] for c in cases])
    rows = {int(row["pmid"]): as_plain(row) for _, row in load(store).iterrows()}
    assert cases and set(rows) == {c["stored"]["pmid"] for c in cases}
    for case in cases:
        assert rows[case["stored"]["pmid"]] == case["stored"], case["source"]


def test_progress_is_reported_after_each_batch(data_dir: Path, icite: FakeICite) -> None:
    seen: list[Progress] = []
    enrich(stored(data_dir, THOUSAND[:450]), settings(icite, data_dir), progress=seen.append)
    assert [(p.records, p.batches, p.batches_total) for p in seen] == [
        (200, 1, 3), (400, 2, 3), (450, 3, 3),
    ]  # fmt: skip


def test_an_empty_store_asks_nothing_and_writes_nothing(data_dir: Path, icite: FakeICite) -> None:
    summary = enrich(Store(data_dir), settings(icite, data_dir))
    assert (summary.asked, summary.requests) == (0, 0)
    assert icite.requests() == []
    assert not (data_dir / "citations.parquet").exists()


def test_a_second_run_replaces_the_pmids_it_fetched_and_keeps_the_others(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND[:400])
    enrich(store, settings(icite, data_dir))
    first = load(store).set_index("pmid")
    changed, forgotten = THOUSAND[0], THOUSAND[1]
    icite.canned[changed] = fake_icite.metrics(changed) | {"citation_count": 9999}
    icite.forgotten.add(forgotten)
    summary = enrich(store, settings(icite, data_dir), pmids=[changed, forgotten])
    second = load(store).set_index("pmid")
    assert summary.unknown_pmids == (forgotten,)
    assert second.loc[changed, "citation_count"] == 9999
    assert forgotten not in second.index, "iCite no longer knows it: no stale numbers"
    others = first.drop(index=[changed, forgotten])
    pd.testing.assert_frame_equal(second.drop(index=[changed]), others)


# -- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["429", "500", "502", "503", "html", "truncated", "reset"])
def test_a_transient_fault_is_retried_and_the_run_succeeds(
    data_dir: Path, icite: FakeICite, fault: str
) -> None:
    store = stored(data_dir, THOUSAND[:400])
    icite.faults.queue.extend(["", fault])  # the second request fails once
    sleeps = Sleeps()
    summary = enrich(store, settings(icite, data_dir), policy=FAST, sleep=sleeps)
    assert (summary.requests, summary.retries) == (3, 1)
    assert [r["fault"] or None for r in icite.requests()] == [None, fault, None]
    assert len(sleeps) == 1
    assert len(load(store)) == sum(fake_icite.knows(p) for p in THOUSAND[:400])


def test_retry_after_is_honoured(data_dir: Path, icite: FakeICite) -> None:
    icite.faults.queue.append("429")
    icite.faults.retry_after = "7"
    sleeps = Sleeps()
    enrich(stored(data_dir, THOUSAND[:10]), settings(icite, data_dir), policy=FAST, sleep=sleeps)
    assert sleeps == [7.0]


def test_failing_after_k_requests_changes_nothing_and_says_which_batch(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND)
    enrich(store, settings(icite, data_dir))
    citations_before = (data_dir / "citations.parquet").read_bytes()
    records_before = store.records_path.read_bytes()
    icite.canned[THOUSAND[0]] = fake_icite.metrics(THOUSAND[0]) | {"citation_count": 1}
    icite.faults.fail_after = len(icite.requests()) + 2
    with pytest.raises(CitationError) as caught:
        enrich(store, settings(icite, data_dir), policy=FAST, sleep=Sleeps())
    message = str(caught.value)
    assert "batch 3 of 5 (PMIDs 30000400–30000599) failed 3 times" in message
    assert "HTTP 503" in message and "Service Unavailable" in message
    assert "Nothing was changed" in message and "try again later" in message
    assert (data_dir / "citations.parquet").read_bytes() == citations_before
    assert store.records_path.read_bytes() == records_before
    assert not list(data_dir.glob(".side-*")), "no temporary file left"


def test_a_failed_first_run_leaves_no_metrics_file(data_dir: Path, icite: FakeICite) -> None:
    icite.faults.fail_after = 1
    with pytest.raises(CitationError, match="batch 2 of 2"):
        enrich(stored(data_dir, THOUSAND[:300]), settings(icite, data_dir), policy=FAST,
               sleep=Sleeps())  # fmt: skip
    assert not (data_dir / "citations.parquet").exists()


@pytest.mark.parametrize(
    ("fault", "words"),
    [("nodata", "has no `data` list (keys: links, meta)"),
     ("badtype", "citation_count is 'many', not a whole number")],
)  # fmt: skip
def test_an_answer_in_an_unknown_shape_stops_at_once_naming_the_batch(
    data_dir: Path, icite: FakeICite, fault: str, words: str
) -> None:
    icite.faults.queue.append(fault)
    with pytest.raises(CitationError) as caught:
        enrich(stored(data_dir, THOUSAND[:10]), settings(icite, data_dir), policy=FAST,
               sleep=Sleeps())  # fmt: skip
    assert "iCite batch 1 of 1 (PMIDs 30000000–30000009) was refused" in str(caught.value)
    assert words in str(caught.value)
    assert len(icite.requests()) == 1, "retrying cannot fix a changed API"


def test_a_wrong_icite_address_is_refused_with_the_servers_words(
    data_dir: Path, icite: FakeICite
) -> None:
    wrong = Settings(data_dir=data_dir, icite_url=icite.base_url + "v9/")
    with pytest.raises(CitationError, match=r"HTTP 404: '\{\"error\": \"Not found\"\}'.*"
                                            "Check TRACKER_ICITE_URL"):  # fmt: skip
        enrich(stored(data_dir, THOUSAND[:5]), wrong, policy=FAST, sleep=Sleeps())
    assert len(icite.requests()) == 1


def test_the_fake_refuses_more_than_icites_cap_of_1000_pmids(icite: FakeICite) -> None:
    pmids = ",".join(str(p) for p in range(1, 1002))
    answer = requests.get(icite.base_url + "pubs", params={"pmids": pmids}, timeout=10)
    assert answer.status_code == 400
    assert "1001" in answer.json()["error"]


def test_the_fake_answers_in_icites_envelope_with_every_field_without_fl(
    icite: FakeICite,
) -> None:
    answer = requests.get(icite.base_url + "pubs", params={"pmids": "23,57"}, timeout=10).json()
    assert set(answer) == {"meta", "links", "data"}
    assert [item["pmid"] for item in answer["data"]] == [23], "57 is unknown: left out"
    assert {"cited_by", "references", "apt", "field_citation_rate"} <= set(answer["data"][0])


# -- the NCBI key, and the files ----------------------------------------------------------------


def test_the_ncbi_api_key_is_never_sent_to_icite_nor_written(
    data_dir: Path, icite: FakeICite
) -> None:
    key = "NCBIKEY0123456789abcdef"
    stored(data_dir, THOUSAND[:250])
    env = {"TRACKER_ICITE_URL": icite.base_url, "NCBI_API_KEY": key, "NCBI_EMAIL": "ana@x.org"}
    result = CliRunner(env=env).invoke(main, ["enrich", "--data-dir", str(data_dir), "--quiet"])
    assert result.exit_code == 0, result.stderr
    for request in icite.requests():
        assert key not in request["raw"] and key not in json.dumps(request["headers"])
        assert request["headers"]["User-Agent"].endswith("(mailto:ana@x.org)")
    for path in data_dir.iterdir():
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path.name
    assert key not in result.stdout + result.stderr


def test_load_gives_an_empty_typed_frame_when_nothing_was_fetched(data_dir: Path) -> None:
    metrics = load(Store(data_dir))
    assert metrics.empty
    assert {name: str(dtype) for name, dtype in metrics.dtypes.items()} == DTYPES


def test_a_corrupt_metrics_file_names_the_file_and_says_to_enrich_again(data_dir: Path) -> None:
    (data_dir / "citations.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(
        StoreError, match=r"citations\.parquet is damaged.*Fetch the citation metrics again"
    ):
        load(Store(data_dir))


def test_enrich_rebuilds_a_corrupt_metrics_file_but_a_partial_run_refuses(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND[:20])
    (data_dir / "citations.parquet").write_bytes(b"garbage")
    with pytest.raises(WholeRebuildRequired, match="not only some PMIDs"):
        enrich(store, settings(icite, data_dir), pmids=[THOUSAND[0]])
    assert (data_dir / "citations.parquet").read_bytes() == b"garbage"
    summary = enrich(store, settings(icite, data_dir))
    assert summary.warnings == ("the unreadable citations.parquet was rebuilt from scratch",)
    assert len(load(store)) == summary.found == 19  # 30000007 is unknown to iCite


def test_a_full_disk_keeps_the_previous_metrics_and_says_so(
    data_dir: Path, icite: FakeICite
) -> None:
    """A real write failure: the child's file-size limit makes the kernel refuse the write."""
    store = stored(data_dir, THOUSAND)
    enrich(store, settings(icite, data_dir), pmids=THOUSAND[:3])
    before = (data_dir / "citations.parquet").read_bytes()
    code = textwrap.dedent(
        f"""
        import resource, signal, sys
        from tracker.citations import enrich
        from tracker.config import Settings
        from tracker.errors import StoreFullError
        from tracker.store import Store
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 200}, {len(before) + 200}))
        settings = Settings(data_dir={str(data_dir)!r}, icite_url={icite.base_url!r})
        try:
            enrich(Store(settings.data_dir), settings)
        except StoreFullError as exc:
            print(exc)
            sys.exit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "The disk is full" in done.stdout and "Nothing was changed" in done.stdout
    assert (data_dir / "citations.parquet").read_bytes() == before
    assert not list(data_dir.glob(".side-*")), "the temporary file is cleaned up"


def test_a_read_only_data_dir_keeps_the_previous_metrics_and_says_so(
    data_dir: Path, icite: FakeICite
) -> None:
    """A real read-only file system: the child sees the data dir through a read-only bind mount
    in its own mount namespace (root ignores file modes, so chmod would prove nothing)."""
    store = stored(data_dir, THOUSAND[:10])
    enrich(store, settings(icite, data_dir), pmids=THOUSAND[:1])
    before = (data_dir / "citations.parquet").read_bytes()
    code = textwrap.dedent(
        f"""
        from tracker.citations import enrich
        from tracker.config import Settings
        from tracker.errors import StoreError
        from tracker.store import Store
        settings = Settings(data_dir={str(data_dir)!r}, icite_url={icite.base_url!r})
        try:
            enrich(Store(settings.data_dir), settings)
        except StoreError as exc:
            print(exc)
        """
    )
    mount = (
        f'mount --bind -o ro "{data_dir}" "{data_dir}" || exit 97; exec "{sys.executable}" -c "$0"'
    )
    try:
        done = subprocess.run(["unshare", "-m", "sh", "-c", mount, code], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    except FileNotFoundError:
        pytest.skip("no unshare(1) here to make a read-only mount")
    if done.returncode != 0 and not done.stdout:
        pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()[:200]}")
    assert "Read-only file system" in done.stdout and "Nothing was changed" in done.stdout
    assert "Choose a folder you can write to" in done.stdout
    assert (data_dir / "citations.parquet").read_bytes() == before


# -- joining onto records -----------------------------------------------------------------------


def test_with_metrics_keeps_every_record_in_order_and_adds_no_row(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND[:60])
    enrich(store, settings(icite, data_dir), pmids=[*THOUSAND[:30], 99_999_001])
    records = store.records(["pmid", "title", "year"]).iloc[::-1]  # any order is kept
    joined = with_metrics(records, load(store))
    assert joined["pmid"].tolist() == records["pmid"].tolist()
    assert list(joined.index) == list(records.index)
    assert joined["year"].equals(records["year"]), "PubMed's year is not overwritten"
    first = joined.set_index("pmid").loc[THOUSAND[0]]
    assert first["citation_count"] == fake_icite.metrics(THOUSAND[0])["citation_count"]
    assert first["icite_year"] == fake_icite.metrics(THOUSAND[0])["year"]
    without = joined.set_index("pmid").loc[THOUSAND[45]]
    metric_names = ["citation_count", "relative_citation_ratio", "is_clinical", "icite_year"]
    assert without[metric_names].isna().all(), "missing values, never zeros or False"
    assert str(joined["citation_count"].dtype) == "Int64"


# -- the command line ---------------------------------------------------------------------------


def cli(server: FakeICite, data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {"TRACKER_ICITE_URL": server.base_url, "NCBI_API_KEY": None, "NCBI_EMAIL": None}
    result = CliRunner(env=env).invoke(main, ["enrich", "--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_tracker_enrich_stores_the_metrics_and_prints_one_line(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND[:400])
    code, out, err = cli(icite, data_dir)
    assert code == 0, err
    assert out.startswith("400 PMIDs: 392 with citation metrics, 8 unknown to iCite; 2 requests")
    assert len(load(store)) == 392


def test_tracker_enrich_pmid_asks_only_for_those(data_dir: Path, icite: FakeICite) -> None:
    stored(data_dir, THOUSAND[:400])
    code, out, _ = cli(icite, data_dir, "--pmid", str(THOUSAND[5]), "--pmid", str(THOUSAND[9]))
    assert code == 0
    assert out.startswith("2 PMIDs: 2 with citation metrics, 0 unknown")
    assert icite.requests()[0]["pmids"] == [THOUSAND[5], THOUSAND[9]]


def test_tracker_enrich_on_an_empty_store_says_what_to_do_first(
    data_dir: Path, icite: FakeICite
) -> None:
    code, out, _ = cli(icite, data_dir)
    assert code == 0
    assert "run `tracker fetch` or `tracker import` first" in out


def test_tracker_enrich_failure_exits_1_with_one_line_and_changes_nothing(
    data_dir: Path, icite: FakeICite
) -> None:
    store = stored(data_dir, THOUSAND[:400])
    assert cli(icite, data_dir)[0] == 0
    before = (data_dir / "citations.parquet").read_bytes()
    icite.faults.fail_after = len(icite.requests()) + 1
    icite.faults.fail_kind = "nodata"
    code, _, err = cli(icite, data_dir)
    assert code == 1
    assert err.startswith("Error: iCite batch 2 of 2 (PMIDs 30000200–30000399) was refused")
    assert "Nothing was changed" in err and len(err.strip().splitlines()) == 1
    assert (data_dir / "citations.parquet").read_bytes() == before
    assert store.records_path.exists()
