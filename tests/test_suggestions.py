"""Suggested tags: cached beside the records, judged by reviewers with events, exported with
their evidence."""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tracker import annotation_files, screening, suggestions
from tracker.cli import main
from tracker.errors import ReviewerRequired, ScreeningError
from tracker.records import Article
from tracker.store import Store
from tracker.vocabulary import write_default

TRIAL = Article(
    pmid=11,
    title="Intranasal esketamine for neuropathic pain: a randomized controlled trial",
    abstract="A total of 60 patients were randomized to 28 mg esketamine or placebo. Nausea and"
    " dizziness were the most common adverse events; no hallucinations occurred.",
    year=2021,
)
CRPS = Article(pmid=12, title="Ketamine infusion in CRPS", abstract="Two patients felt giddiness.")


@pytest.fixture
def store(data_dir: Path) -> Store:
    store = Store(data_dir)
    store.upsert([TRIAL, CRPS])
    return store


def tags_of(store: Store, pmid: int) -> set[tuple[str, str]]:
    frame = suggestions.suggestions(store)
    mine = frame[frame["record_id"] == pmid]
    return set(zip(mine["facet"], mine["value"], strict=True))


def status_of(store: Store, pmid: int, facet: str, value: str) -> str:
    state = suggestions.review_state(store)
    row = state[
        (state["record_id"] == pmid) & (state["facet"] == facet) & (state["value"] == value)
    ]
    assert len(row) == 1
    return str(row["status"].iloc[0])


def cache(store: Store) -> Path:
    return store.data_dir / suggestions.CACHE_FILE


def cache_stamp(store: Store) -> str:
    """Changes whenever the cache is written (it is replaced whole), never when it is read."""
    return store.stamp().side_table(suggestions.CACHE_NAME)


# -- what is suggested, in long form -------------------------------------------------------------


def test_each_suggestion_is_a_row_with_its_field_and_span(store: Store) -> None:
    frame = suggestions.suggestions(store)
    assert tuple(frame.columns) == suggestions.COLUMNS
    rows = {
        (r.facet, r.value): (r.field, r.span) for r in frame[frame["record_id"] == 11].itertuples()
    }
    assert rows[("design", "RCT")] == ("title", "randomized controlled trial")
    assert rows[("adverse_effects", "nausea or vomiting")] == ("abstract", "Nausea")
    assert rows[("n", "60")] == ("abstract", "A total of 60 patients")
    assert rows[("dose", "28 mg")][0] == "abstract"
    assert ("adverse_effects", "hallucinations") not in rows, "a negated mention is no tag"


def test_rows_are_sorted_by_pmid_and_the_facets_keep_their_order(store: Store) -> None:
    frame = suggestions.suggestions(store)
    assert frame["record_id"].is_monotonic_increasing
    facets = list(dict.fromkeys(frame.loc[frame["record_id"] == 11, "facet"]))
    assert facets == ["design", "drug", "route", "condition", "adverse_effects", "n", "dose"]


def test_an_empty_store_has_no_suggestions_and_writes_no_cache(data_dir: Path) -> None:
    store = Store(data_dir)
    assert suggestions.suggestions(store).empty
    assert not cache(store).exists()


# -- the cache ----------------------------------------------------------------------------------


def test_the_cache_is_written_with_the_records_stamp_and_the_tagging_fingerprint(
    store: Store,
) -> None:
    suggestions.suggestions(store)
    meta = pq.read_schema(cache(store)).metadata
    assert meta[b"tracker.records_stamp"] == suggestions.records_stamp(store).encode()
    assert len(meta[b"tracker.tagging_fingerprint"]) == 64


def _tamper(store: Store, span: str) -> None:
    """Rewrite the cached spans, keeping its metadata: only a reused cache shows them."""
    table = pq.read_table(cache(store))
    spans = pa.array([span] * table.num_rows, type=pa.string())
    table = table.set_column(table.schema.get_field_index("span"), "span", spans)
    pq.write_table(table, cache(store))


def test_the_cache_is_reused_while_records_and_vocabulary_are_unchanged(store: Store) -> None:
    suggestions.suggestions(store)
    _tamper(store, "from the cache")
    screening.decide(store, [11], decision="include", reviewer="ana")  # events do not count
    written = cache_stamp(store)
    assert set(suggestions.suggestions(store)["span"]) == {"from the cache"}
    assert cache_stamp(store) == written, "read, not rewritten"


def test_changed_records_recompute_the_suggestions(store: Store) -> None:
    suggestions.suggestions(store)
    _tamper(store, "from the cache")
    store.upsert([Article(pmid=13, title="Esketamine and headache", abstract="")])
    frame = suggestions.suggestions(store)
    assert "from the cache" not in set(frame["span"])
    assert 13 in set(frame["record_id"])
    assert pq.read_table(cache(store)).num_rows == len(frame), "the fresh result is cached"


def test_an_edited_vocabulary_recomputes_the_suggestions(store: Store) -> None:
    assert ("adverse_effects", "dizziness or lightheadedness") not in tags_of(store, 12)
    path = write_default(store.data_dir)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("'\\bvertigo\\b']", "'\\bvertigo\\b', '\\bgiddiness\\b']", 1))
    assert ("adverse_effects", "dizziness or lightheadedness") in tags_of(store, 12)
    frame = suggestions.suggestions(store)
    giddy = frame[(frame["record_id"] == 12) & (frame["facet"] == "adverse_effects")]
    assert giddy["span"].tolist() == ["giddiness"]


def test_a_corrupt_cache_is_recomputed_and_replaced(store: Store) -> None:
    expected = suggestions.suggestions(store)
    cache(store).write_bytes(b"PAR1 this is not parquet")
    assert suggestions.suggestions(store).equals(expected)
    assert pq.read_table(cache(store)).num_rows == len(expected)


def test_an_unwritable_cache_warns_and_still_gives_the_suggestions(store: Store) -> None:
    cache(store).mkdir()  # a directory where the file should go: replacing it fails, even as root
    with pytest.warns(suggestions.SuggestionCacheWarning, match="kept in memory"):
        frame = suggestions.suggestions(store)
    assert ("design", "RCT") in set(zip(frame["facet"], frame["value"], strict=True))
    assert not list(store.data_dir.glob(".*.tmp")), "no temporary file is left"


def test_a_warm_cache_is_read_without_warnings(store: Store) -> None:
    suggestions.suggestions(store)
    _tamper(store, "from the cache")
    written = cache_stamp(store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = suggestions.suggestions(store)
    assert set(frame["span"]) == {"from the cache"}, "the cache was read, not recomputed"
    assert cache_stamp(store) == written, "and not rewritten"


# -- accepting and rejecting --------------------------------------------------------------------


def test_accept_and_reject_append_one_event_each(store: Store) -> None:
    before = len(store.events())
    suggestions.accept(store, 11, "adverse effects", "Nausea or vomiting", reviewer="ana")
    suggestions.reject(store, 11, "design", "RCT", reviewer="ana")
    events = store.events().iloc[before:]
    assert events["action"].tolist() == ["suggestion-accept", "suggestion-reject"]
    assert events["value"].tolist() == ["adverse_effects: nausea or vomiting", "design: RCT"]
    assert status_of(store, 11, "adverse_effects", "nausea or vomiting") == "accepted"
    assert status_of(store, 11, "design", "RCT") == "rejected"
    assert status_of(store, 11, "drug", "esketamine") == "suggested"


def test_a_reviewers_latest_word_counts(store: Store) -> None:
    suggestions.reject(store, 11, "drug", "esketamine", reviewer="ana")
    suggestions.accept(store, 11, "drug", "esketamine", reviewer="ana")
    assert status_of(store, 11, "drug", "esketamine") == "accepted"


def test_with_two_reviewers_a_rejection_needs_both(store: Store) -> None:
    suggestions.accept(store, 11, "route", "intranasal", reviewer="ana")
    suggestions.reject(store, 11, "route", "intranasal", reviewer="ben")
    state = suggestions.review_state(store)
    row = state[(state["record_id"] == 11) & (state["value"] == "intranasal")].iloc[0]
    assert (row["status"], row["judgements"], row["disputed"]) == (
        "accepted", "ana: accepted; ben: rejected", True,
    )  # fmt: skip
    suggestions.reject(store, 11, "route", "intranasal", reviewer="ana")
    assert status_of(store, 11, "route", "intranasal") == "rejected"


def test_undo_reverses_the_latest_judgement(store: Store) -> None:
    suggestions.reject(store, 11, "design", "RCT", reviewer="ana")
    assert screening.undo(store, reviewer="ana") is not None
    assert status_of(store, 11, "design", "RCT") == "suggested"


def test_live_leaves_out_rejected_suggestions_only(store: Store) -> None:
    suggestions.reject(store, 11, "design", "RCT", reviewer="ana")
    suggestions.accept(store, 11, "drug", "esketamine", reviewer="ana")
    live = suggestions.live(store)
    mine = live[live["record_id"] == 11]
    pairs = set(zip(mine["facet"], mine["value"],
                    strict=True))  # fmt: skip
    assert ("design", "RCT") not in pairs
    assert ("drug", "esketamine") in pairs
    assert ("route", "intranasal") in pairs


@pytest.mark.parametrize(
    ("pmid", "facet", "value", "message"),
    [
        (99, "design", "RCT", "Not in the store: PMID 99"),
        (11, "colour", "RCT", "Unknown facet 'colour'"),
        (11, "design", "cohort", "PMID 11 has no suggested design 'cohort'"),
        (12, "adverse effects", "nausea or vomiting", "suggested: none"),
    ],
)
def test_judging_what_is_not_suggested_is_refused_and_writes_nothing(
    store: Store, pmid: int, facet: str, value: str, message: str
) -> None:
    before = len(store.events())
    with pytest.raises(ScreeningError, match=message):
        suggestions.accept(store, pmid, facet, value, reviewer="ana")
    assert len(store.events()) == before


def test_a_judgement_needs_a_reviewer(store: Store) -> None:
    with pytest.raises(ReviewerRequired):
        suggestions.reject(store, 11, "design", "RCT", reviewer=" ")
    assert store.events().empty


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("adverse effects: nausea or vomiting", ("adverse effects", "nausea or vomiting")),
        ("design:RCT", ("design", "RCT")),
        ("design: systematic review / meta-analysis",
         ("design", "systematic review / meta-analysis")),
    ],
)  # fmt: skip
def test_a_typed_tag_splits_at_its_first_colon(typed: str, expected: tuple[str, str]) -> None:
    assert suggestions.parse_tag(typed) == expected


@pytest.mark.parametrize("typed", ["RCT", ": RCT", "design:"])
def test_a_typed_tag_without_facet_and_value_is_refused(typed: str) -> None:
    with pytest.raises(ScreeningError, match='"facet: value"'):
        suggestions.parse_tag(typed)


# -- in exports ---------------------------------------------------------------------------------


def test_export_cells_mark_accepted_leave_out_rejected_and_trace_each_to_its_span(
    store: Store,
) -> None:
    suggestions.accept(store, 11, "drug", "esketamine", reviewer="ana")
    suggestions.reject(store, 11, "route", "intranasal", reviewer="ana")
    tags, proof = suggestions.export_cells(store)[11]
    assert tags.split("; ")[:3] == [
        "design: RCT", "drug: esketamine (accepted)", "condition: neuropathic pain",
    ]  # fmt: skip
    assert "intranasal" not in tags and "intranasal" not in proof
    assert 'adverse effects: nausea or vomiting <- abstract "Nausea"' in proof.split("; ")
    assert len(tags.split("; ")) == len(proof.split("; ")), "one evidence per suggestion"


def test_records_without_suggestions_have_no_cells(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert([Article(pmid=5, title="A letter", abstract="")])
    assert suggestions.export_cells(store) == {}


# -- the commands ---------------------------------------------------------------------------------


def cli(store: Store, *args: str, reviewer: str = "ana") -> tuple[int, str, str]:
    runner = CliRunner(env={"TRACKER_REVIEWER": reviewer})
    result = runner.invoke(main, [*args, "--data-dir", str(store.data_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_tracker_suggestions_list_shows_status_and_evidence(store: Store) -> None:
    cli(store, "suggestions", "reject", "11", "route: intranasal")
    code, out, _ = cli(store, "suggestions", "list", "11")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == 'design: RCT  [suggested]  <- title "randomized controlled trial"'
    assert 'route: intranasal  [rejected (ana: rejected)]  <- title "Intranasal"' in lines
    assert 'adverse effects: nausea or vomiting  [suggested]  <- abstract "Nausea"' in lines


def test_tracker_suggestions_accept_records_the_reviewer(store: Store) -> None:
    code, out, _ = cli(store, "suggestions", "accept", "11", "Adverse effects: nausea or vomiting",
                       reviewer="ben")  # fmt: skip
    assert (code, out) == (0, "PMID 11: adverse effects: nausea or vomiting accepted by ben.\n")
    assert store.events()["reviewer"].tolist() == ["ben"]
    assert status_of(store, 11, "adverse_effects", "nausea or vomiting") == "accepted"


def test_tracker_suggestions_reject_of_an_unsuggested_tag_fails_cleanly(store: Store) -> None:
    code, out, err = cli(store, "suggestions", "reject", "11", "design: cohort")
    assert (code, out) == (1, "")
    assert err.startswith("Error: PMID 11 has no suggested design 'cohort'")
    assert store.events().empty


def test_tracker_suggestions_without_a_reviewer_fails_cleanly(store: Store) -> None:
    code, _, err = cli(store, "suggestions", "accept", "11", "design: RCT", reviewer="")
    assert code == 1
    assert "Pass --reviewer NAME" in err


def test_tracker_suggestions_list_of_an_unknown_pmid_fails_cleanly(store: Store) -> None:
    code, _, err = cli(store, "suggestions", "list", "4242")
    assert (code, err) == (1, "Error: Not in the store: PMID 4242. Check the number, or"
                              " fetch/import the record first.\n")  # fmt: skip


def test_tracker_export_csv_has_the_suggestion_columns(store: Store) -> None:
    cli(store, "suggestions", "accept", "11", "drug: esketamine")
    result = CliRunner().invoke(main, ["export", "--data-dir", str(store.data_dir)])
    assert result.exit_code == 0
    text = result.stdout_bytes.decode("utf-8-sig")
    rows = {r["PMID"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    assert "drug: esketamine (accepted)" in rows["11"]["Suggested Tags"].split("; ")
    assert 'drug: esketamine <- title "esketamine"' in rows["11"]["Suggested Tag Evidence"]


def test_judgements_travel_with_the_annotations_file(store: Store, tmp_path: Path) -> None:
    suggestions.accept(store, 11, "drug", "esketamine", reviewer="ana")
    suggestions.reject(store, 11, "design", "RCT", reviewer="ana")
    exported = tmp_path / "annotations.csv"
    exported.write_bytes(annotation_files.export_csv(store))
    other = Store(tmp_path / "other")
    other.upsert([TRIAL, CRPS])
    assert annotation_files.import_csv(other, exported) == 2
    assert status_of(other, 11, "drug", "esketamine") == "accepted"
    assert status_of(other, 11, "design", "RCT") == "rejected"
