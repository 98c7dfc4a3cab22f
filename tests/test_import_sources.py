"""Exports from every database into the store: one run per database, each record kept as its
source gave it, certain duplicates across databases merged as events, tool decisions moved in
as signed events. Real files (tests/imports/, and PubMed XML from the fake corpus), a real
data folder, the real readers and matcher."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import fake_eutils
import pytest
from click.testing import CliRunner

from tracker import Store, duplicates, prisma, ranking, screening_progress
from tracker.cli import main
from tracker.errors import ReviewerRequired
from tracker.formats import read_file
from tracker.importer import import_exports
from tracker.merging import AUTOMATIC
from tracker.records import Action

IMPORTS = Path(__file__).resolve().parent / "imports"
VENDOR_SUFFIXES = (".ris", ".nbib", ".txt", ".csv")
VENDOR_FILES = sorted(p.name for p in IMPORTS.iterdir() if p.suffix in VENDOR_SUFFIXES)
DECISION_FILES = ("rayyan_articles.csv", "review_123456_included_csv_20260301101500.csv",
                  "asreview_export.csv", "asreview2_export.csv")  # fmt: skip


@pytest.mark.parametrize("name", VENDOR_FILES)
def test_each_vendor_file_lands_with_its_source_and_ids(name: str, data_dir: Path) -> None:
    source = "Zotero library" if name == "zotero.ris" else None
    read = read_file(IMPORTS / name, source=source)
    outcome = import_exports(Store(data_dir), [IMPORTS / name], source=source, reviewer="ana")
    (part,) = outcome.sources
    stored = Store(data_dir).records()
    assert part.source == read.source and part.formats == (read.format,)
    distinct = {r.title.casefold().rstrip(".") for r in read.records}
    assert part.summary.new == len(stored) >= len(distinct) > 0
    assert set(stored["title"]) == {r.title for r in read.records}
    by_title = stored.set_index("title")
    for record in read.records:
        row = by_title.loc[record.title]
        assert row["source"] == record.source and (row["doi"] or "") == record.doi
        for kind, value in record.accessions.items():
            assert f"{kind}: {value}" in list(row["source_ids"])
        if record.pmid is not None:
            assert row["pmid"] == record.pmid
    (run,) = Store(data_dir).runs().to_dict(orient="records")
    assert (run["source"], run["status"], run["query"]) == (part.source, "succeeded",
                                                            f"import {name}")  # fmt: skip
    if name in DECISION_FILES:
        decided = Store(data_dir).events_of([Action.DECIDE])
        assert len(decided) == part.decisions == read.decisions > 0
        assert set(decided["record_id"]) <= set(stored["record_id"])


def test_rayyan_decisions_keep_each_reviewers_name_and_others_take_the_named_one(
    data_dir: Path,
) -> None:
    import_exports(Store(data_dir), [IMPORTS / "rayyan_articles.csv", IMPORTS /
                                     "asreview_export.csv"], reviewer="lead")  # fmt: skip
    decided = Store(data_dir).events_of([Action.DECIDE])
    rayyan = decided[decided["note"].str.contains("from Rayyan")]
    assert {"Ana", "Ben"} <= set(rayyan["reviewer"]), "Rayyan names who decided"
    asreview = decided[decided["note"].str.contains("from ASReview")]
    assert len(asreview) > 0 and set(asreview["reviewer"]) == {"lead"}


def test_decisions_without_a_reviewer_are_refused_before_anything_is_stored(
    data_dir: Path,
) -> None:
    with pytest.raises(ReviewerRequired):
        import_exports(Store(data_dir), [IMPORTS / "embase_ovid.ris",
                                         IMPORTS / "asreview_export.csv"])  # fmt: skip
    assert not Store(data_dir).has_records() and Store(data_dir).runs().empty


def embase_copy(records: dict[int, fake_eutils.FakeRecord], folder: Path) -> Path:
    """The same studies as Embase on Ovid exports them: Embase's accession, its own journal
    name, no PMID (RIS tags as in tests/imports/embase_ovid.ris)."""
    entries = [
        f"TY  - JOUR\nDB  - Embase\nAN  - {2_000_000_000 + n}\nT1  - {r.title}\n"
        f"A1  - Rivera, Ana\nY1  - {r.created.year}//\nN2  - {r.abstract}\nJF  - Pain Medicine\n"
        f"DO  - 10.1093/pm/pnz{pmid}\nER  - \n"
        for n, (pmid, r) in enumerate(sorted(records.items()))
    ]
    path = folder / "embase.ris"
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def pubmed_xml(records: dict[int, fake_eutils.FakeRecord], folder: Path) -> Path:
    path = folder / "pubmed.xml"
    path.write_text("<PubmedArticleSet>" + "".join(map(fake_eutils.article_xml, records.values()))
                    + "</PubmedArticleSet>", encoding="utf-8")  # fmt: skip
    return path


def test_the_same_studies_from_pubmed_and_embase_are_one_record_with_two_sources(
    data_dir: Path, tmp_path: Path
) -> None:
    corpus = fake_eutils.build_corpus(6, seed=21)
    only_pubmed = dict(list(corpus.items())[:2])
    both = dict(list(corpus.items())[2:])
    store = Store(data_dir)
    first = import_exports(store, [pubmed_xml(corpus, tmp_path)])
    second = import_exports(store, [embase_copy(both, tmp_path)])
    assert first.sources[0].summary.new == 6 and second.sources[0].summary.new == 4
    assert second.merges.merged == 4 and second.merges.waiting == 0
    records = Store(data_dir).records().set_index("record_id")
    merged = Store(data_dir).events_of([Action.DUPLICATE_CONFIRM])
    assert set(merged["reviewer"]) == {AUTOMATIC}
    pairs = dict(zip(merged["record_id"], merged["value"].astype(int), strict=True))
    assert set(pairs.values()) == set(both), "each Embase copy joins its PubMed record"
    assert all(records.at[dup, "source"] == "Embase" for dup in pairs)
    dois = records["doi"].to_dict()
    assert all(dois[dup] == dois[orig] for dup, orig in pairs.items())
    assert not set(only_pubmed) & set(pairs.values())
    assert all("same DOI" in note for note in merged["note"])
    counts = prisma.counts(Store(data_dir))
    assert (counts.identified, counts.duplicates_removed, counts.screened) == (10, 4, 6)
    assert counts.databases == {"PubMed": 6, "Embase": 4} and counts.registers == {}
    assert screening_progress.progress(Store(data_dir), reviewer="ana").total == 6
    offered = ranking.rank(Store(data_dir), reviewer="ana").records["record_id"]
    assert not set(offered) & set(pairs), "no database's second copy is offered to screen"
    exported = CliRunner().invoke(main, ["export", "--format", "csv", "--data-dir",
                                         str(data_dir)]).stdout.lstrip("\ufeff")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 6, "one row per study"
    assert sorted(r["Sources"] for r in rows) == ["PubMed"] * 2 + ["PubMed; Embase"] * 4
    runs = Store(data_dir).runs()
    assert runs["source"].tolist() == ["PubMed", "Embase"]
    again = import_exports(Store(data_dir), [embase_copy(both, tmp_path)])
    assert (again.sources[0].summary.new, again.sources[0].summary.unchanged) == (0, 4)
    assert again.merges.merged == 0, "merging twice adds nothing"
    assert len(Store(data_dir).events_of([Action.DUPLICATE_CONFIRM])) == 4


def test_a_persons_not_a_duplicate_outlives_the_next_import(data_dir: Path, tmp_path: Path) -> None:
    corpus = fake_eutils.build_corpus(2, seed=22)
    store = Store(data_dir)
    import_exports(store, [pubmed_xml(corpus, tmp_path), embase_copy(corpus, tmp_path)])
    confirmed = sorted(duplicates.confirmed(store))
    assert len(confirmed) == 2
    dup = confirmed[0]
    originals = store.events_of([Action.DUPLICATE_CONFIRM]).set_index("record_id")["value"]
    original = int(str(originals[dup]))
    duplicates.reject(store, dup, duplicate_of=original, reviewer="ana")
    import_exports(Store(data_dir), [embase_copy(corpus, tmp_path)])
    assert duplicates.confirmed(Store(data_dir)) == {confirmed[1]}
    listed = duplicates.find_duplicates(Store(data_dir).records(), Store(data_dir))
    row = listed[(listed["record_id"] == dup) & (listed["duplicate_of"] == original)]
    assert row["status"].tolist() == ["rejected"] and "same DOI" in row["rule"].iloc[0]


def test_tracker_import_reports_each_database_and_the_merges(
    data_dir: Path, tmp_path: Path
) -> None:
    corpus = fake_eutils.build_corpus(3, seed=23)
    files = [str(pubmed_xml(corpus, tmp_path)), str(embase_copy(corpus, tmp_path))]
    result = CliRunner().invoke(main, ["import", *files, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "PubMed: 3 records: 3 new, 0 updated"
    assert lines[1] == "Embase: 3 records: 3 new, 0 updated"
    assert lines[2].startswith("3 records merged with another database's copy; 0 possible")
