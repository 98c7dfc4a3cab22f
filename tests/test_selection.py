"""Filters: each narrows the records the way a researcher reads it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tracker.errors import ScreeningError
from tracker.importer import import_exports
from tracker.records import Article
from tracker.selection import Filters, search_terms, select
from tracker.store import Store


@pytest.fixture
def records(data_dir: Path) -> pd.DataFrame:
    store = Store(data_dir)
    store.upsert(
        [
            Article(pmid=1, title="Intranasal esketamine for CRPS", abstract="Pain fell.",
                    year=2019, journal="Pain", publication_types=("Randomized Controlled Trial",)),
            Article(pmid=2, title="Ketamine infusion in cancer pain", abstract="",
                    year=2012, journal="BMJ", publication_types=("Case Reports",)),
            Article(pmid=3, title="Rats given ketamine", abstract="Chronic PAIN model in rats.",
                    year=None, journal="Pain", publication_types=("Journal Article",)),
        ]
    )  # fmt: skip
    return store.records()


def pmids(frame: pd.DataFrame) -> list[int]:
    return frame["record_id"].tolist()


def test_no_filter_keeps_every_record(records: pd.DataFrame) -> None:
    assert Filters().is_empty
    assert pmids(select(records, Filters())) == [1, 2, 3]


def test_text_matches_all_words_in_title_or_abstract_ignoring_case(records: pd.DataFrame) -> None:
    assert pmids(select(records, Filters(text="KETAMINE pain"))) == [1, 2, 3]
    assert pmids(select(records, Filters(text="ketamine rats"))) == [3]
    assert pmids(select(records, Filters(text='"cancer pain"'))) == [2]
    assert pmids(select(records, Filters(text="chronic pain"))) == [3]


def test_an_unbalanced_quote_is_read_as_plain_words() -> None:
    assert search_terms('"chronic pain') == ["chronic", "pain"]


def test_a_year_range_excludes_records_without_a_year(records: pd.DataFrame) -> None:
    assert pmids(select(records, Filters(years=(2010, 2019)))) == [1, 2]
    assert pmids(select(records, Filters(years=(2013, 2030)))) == [1]


def test_publication_types_and_journals_match_any_value(records: pd.DataFrame) -> None:
    wanted = ("Case Reports", "Randomized Controlled Trial")
    assert pmids(select(records, Filters(publication_types=wanted))) == [1, 2]
    assert pmids(select(records, Filters(journals=("Pain",)))) == [1, 3]


def test_has_abstract_splits_the_records(records: pd.DataFrame) -> None:
    assert pmids(select(records, Filters(has_abstract=True))) == [1, 3]
    assert pmids(select(records, Filters(has_abstract=False))) == [2]


def test_sources_keep_the_records_those_databases_gave(
    records: pd.DataFrame, data_dir: Path
) -> None:
    imports = Path(__file__).resolve().parent / "imports"
    import_exports(Store(data_dir), [imports / "embase_ovid.ris", imports / "scopus.csv"])
    every = Store(data_dir).records()
    by_source: dict[str, list[int]] = {
        str(k): list(v) for k, v in every.groupby("source")["record_id"].apply(list).items()
    }
    assert sorted(by_source) == ["Embase", "PubMed", "Scopus"]
    assert pmids(select(every, Filters(sources=("Embase",)))) == by_source["Embase"]
    both = pmids(select(every, Filters(sources=("PubMed", "Scopus"))))
    assert both == sorted(by_source["PubMed"] + by_source["Scopus"])
    assert pmids(select(every, Filters(sources=("Web of Science",)))) == []
    assert (
        len(select(every, Filters()))
        == len(every)
        == 3 + len(by_source["Embase"]) + len(by_source["Scopus"])
    )


def test_decisions_reviewer_and_tags_come_from_the_screening_summary(
    records: pd.DataFrame,
) -> None:
    screening = pd.DataFrame(
        {
            "decision": ["include", "exclude"],
            "ta_decision": ["include", "exclude"],
            "ft_decision": ["include", "unscreened"],
            "tags": [["rct", "nasal"], ["case"]],
            "reviewers": [["ana"], ["ana", "ben"]],
        },
        index=pd.Index([1, 2], name="record_id"),
    )

    def pick(filters: Filters) -> list[int]:
        return pmids(select(records, filters, screening=screening))

    assert pick(Filters(decisions=("include",))) == [1]
    assert pick(Filters(decisions=("unscreened",))) == [3]
    assert pick(Filters(decisions=("unscreened",), stage="full-text")) == [2, 3]
    assert pick(Filters(reviewer="ben")) == [2]
    assert pick(Filters(tags=("rct", "nasal"))) == [1]
    assert pick(Filters(tags=("rct", "case"))) == []


def test_unscreened_is_everything_when_nothing_was_screened(records: pd.DataFrame) -> None:
    assert pmids(select(records, Filters(decisions=("unscreened",)))) == [1, 2, 3]


def test_evidence_facets_match_any_of_their_values(records: pd.DataFrame) -> None:
    evidence = pd.DataFrame(
        {"design": [["RCT"], ["case report"], ["preclinical"]]}, index=pd.Index([1, 2, 3])
    )
    chosen = Filters(evidence={"design": ("RCT", "preclinical")})
    assert pmids(select(records, chosen, evidence=evidence)) == [1, 3]
    assert pmids(select(records, Filters(evidence={"route": ("oral",)}), evidence=evidence)) == []


def test_an_unknown_decision_or_stage_is_a_clear_error(records: pd.DataFrame) -> None:
    with pytest.raises(ScreeningError, match="Unknown decision yes: use one of"):
        select(records, Filters(decisions=("yes",)))
    with pytest.raises(ScreeningError, match="Unknown stage 'abstract'"):
        select(records, Filters(decisions=("include",), stage="abstract"))
