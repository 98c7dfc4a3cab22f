"""Cross-source duplicates: which pairs merge without a person, which wait, which are related."""

from __future__ import annotations

import random
from dataclasses import replace
from difflib import SequenceMatcher
from pathlib import Path

import pandas as pd

from tracker import merging
from tracker.formats import read_file
from tracker.match_keys import (
    journal_words,
    journals_agree,
    similarity_bound,
    title_key,
    title_similarity,
)
from tracker.matching import (
    AGREEING_TITLES,
    MATCH_COLUMNS,
    SIMILAR_TITLE,
    Confidence,
    Relation,
    duplicate_groups,
    find_matches,
    match_table,
)
from tracker.records import Article, Author
from tracker.source_record import AccessionKind, RecordKind, SourceRecord
from tracker.store import Store

IMPORTS = Path(__file__).resolve().parent / "imports"
BASE = SourceRecord(
    source="Embase", format="RIS", origin="a.ris",
    title="Intranasal esketamine for refractory neuropathic pain: a randomised trial",
    authors=(Author(last_name="Rivera", initials="AM"),), year=2019, journal="Pain Medicine",
    pages="1301-1310",
)  # fmt: skip


def matches(*records: SourceRecord) -> pd.DataFrame:
    return find_matches(match_table(records, [f"r{i}" for i in range(len(records))]))


def only_pair(*records: SourceRecord) -> tuple[str, str, str, str]:
    found = matches(*records)
    assert len(found) == 1, found
    row = found.iloc[0]
    return row["relation"], row["rule"], row["confidence"], row["detail"]


def test_a_shared_doi_with_agreeing_titles_merges_automatically() -> None:
    other = replace(BASE, title=BASE.title.upper() + ".", doi="10.1093/pm/pnz012", pages="")
    assert only_pair(replace(BASE, doi="10.1093/pm/pnz012"), other)[1:3] == (
        "same DOI",
        Confidence.AUTOMATIC,
    )


def test_a_doi_shared_by_different_titles_waits_for_a_person() -> None:
    supplement = replace(BASE, title="Opioid-free anaesthesia in day surgery", doi="10.1/s1")
    relation, rule, confidence, detail = only_pair(replace(BASE, doi="10.1/s1"), supplement)
    assert (relation, rule, confidence, detail) == (
        Relation.DUPLICATE,
        "same DOI",
        Confidence.REVIEW,
        "titles differ",
    )


def test_a_shared_pmid_merges_automatically() -> None:
    other = replace(BASE, title="[Esketamine for neuropathic pain: a randomised trial]", pmid=7)
    assert only_pair(replace(BASE, pmid=7, pages=""), other)[1:3] == (
        "same PMID",
        Confidence.AUTOMATIC,
    )


def test_two_registrations_of_one_trial_are_one_record() -> None:
    trial = replace(BASE, kind=RecordKind.TRIAL, accessions={AccessionKind.NCT: "NCT04111111"},
                    authors=(), journal="", pages="")  # fmt: skip
    copy = replace(trial, title="Esketamine in neuropathic pain (ESK-NP)", source="CENTRAL")
    assert only_pair(trial, copy)[:3] == (Relation.DUPLICATE, "same NCT number",
                                          Confidence.AUTOMATIC)  # fmt: skip


def test_a_results_article_naming_the_registration_is_related_not_a_duplicate() -> None:
    trial = SourceRecord(source="ClinicalTrials.gov", format="API", origin="api",
                         kind=RecordKind.TRIAL, title=BASE.title,
                         accessions={AccessionKind.NCT: "NCT04111111"})  # fmt: skip
    article = replace(BASE, accessions={AccessionKind.NCT: "NCT04111111"})
    assert only_pair(trial, article)[:2] == (Relation.RELATED, "same NCT number")


def test_an_article_the_registration_lists_is_related() -> None:
    trial = SourceRecord(
        source="ClinicalTrials.gov",
        format="API",
        origin="api",
        kind=RecordKind.TRIAL,
        title="ESK-NP",
        linked_pmids=(30847123,),
    )
    article = replace(BASE, pmid=30847123)
    assert only_pair(trial, article)[:4] == (Relation.RELATED, "listed by the registration",
                                             Confidence.AUTOMATIC, "PMID 30847123")  # fmt: skip


def test_same_title_year_author_journal_abbreviation_and_page_merge_automatically() -> None:
    other = replace(BASE, title="The intranasal esketamine for refractory neuropathic pain - a "
                    "randomized trial.", journal="PAIN MED", pages="1301-10")  # fmt: skip
    assert only_pair(BASE, other)[2] == Confidence.AUTOMATIC


def test_a_conference_abstract_of_the_same_study_waits_for_a_person() -> None:
    abstract = replace(BASE, pages="S45", publication_types=("Conference Abstract",))
    _, rule, confidence, detail = only_pair(BASE, abstract)
    assert (rule, confidence, detail) == ("same title", Confidence.REVIEW,
                                          "differ or missing: first page")  # fmt: skip


def test_same_title_without_pages_waits_for_a_person() -> None:
    assert only_pair(BASE, replace(BASE, pages=""))[2] == Confidence.REVIEW


def test_a_short_stock_title_never_merges_automatically() -> None:
    reply = replace(BASE, title="Reply to the editor")
    assert only_pair(reply, replace(reply, source="Scopus"))[2] == Confidence.REVIEW


def test_a_similar_title_waits_and_a_different_first_author_rules_it_out() -> None:
    typo = replace(BASE, title=BASE.title.replace("refractory", "refractary"), pages="")
    assert only_pair(BASE, typo)[1:3] == ("similar title", Confidence.REVIEW)
    stranger = replace(typo, authors=(Author(last_name="Chen"),))
    assert matches(BASE, stranger).empty


def test_same_title_years_apart_and_different_authors_is_no_match() -> None:
    other = replace(BASE, year=2009, authors=(Author(last_name="Chen"),))
    assert matches(
        replace(BASE, title="Ketamine for pain in adults"),
        replace(other, title="Ketamine for pain in adults"),
    ).empty


def test_groups_join_automatic_pairs_only_unless_asked() -> None:
    a, b = replace(BASE, doi="10.1/x"), replace(BASE, doi="10.1/x", pages="")
    c = replace(BASE, pages="S45")
    found = matches(a, b, c)
    assert duplicate_groups(found) == [["r0", "r1"]]
    assert duplicate_groups(found, include_review=True) == [["r0", "r1", "r2"]]


def test_the_test_exports_of_one_trial_report_form_one_group_with_the_trials_apart() -> None:
    records: list[SourceRecord] = []
    ids: list[str] = []
    for path in sorted(IMPORTS.glob("*.*")):
        if path.suffix != ".md":
            found = read_file(path).records
            records += found
            ids += [f"{path.name}:{r.line}" for r in found]
    groups = duplicate_groups(find_matches(match_table(records, ids)))
    rivera = next(g for g in groups if "pubmed.nbib:1" in g)
    assert len(rivera) == 10 and "central.ris:4" in rivera and "central.ris:23" not in rivera
    assert "wos_savedrecs.txt:2" in rivera and "embase_ovid.ris:1" in rivera


def test_title_keys_ignore_what_databases_print_differently() -> None:
    assert title_key("[Ketamine in paediatric anaesthesia: a randomised study].") == title_key(
        "Ketamine in Pediatric Anesthesia - A Randomized Study"
    )
    assert title_key("The use of ketamine") == "use of ketamine"
    assert journals_agree(
        journal_words("Br. J. Anaesth."), journal_words("British Journal of Anaesthesia")
    )
    assert not journals_agree(journal_words("Pain"), journal_words("Pain Medicine"))


def _mutated(title: str, rng: random.Random) -> str:
    """A title as another database or a typist might give it: characters dropped, doubled or
    changed, words swapped or cut, a number changed."""
    chars = list(title)
    for _ in range(rng.randint(0, 6)):
        at = rng.randrange(len(chars))
        kind = rng.random()
        if kind < 0.3:
            del chars[at]
        elif kind < 0.6:
            chars.insert(at, chars[at])
        else:
            chars[at] = rng.choice("aeiou etnrs0123")
    words = "".join(chars).split()
    if len(words) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    if len(words) > 5 and rng.random() < 0.2:
        words = words[: rng.randint(4, len(words))]
    return " ".join(words) or title


def test_the_rapidfuzz_bound_never_rules_out_a_pair_difflib_keeps() -> None:
    """The similar-title rule scores blocks with RapidFuzz and judges only the pairs its bound
    lets through: that changes nothing only if the bound is never below difflib's ratio."""
    rng = random.Random(17)
    stems = [
        BASE.title,
        "Ketamine for chronic pain: a study of 120 patients",
        "Esketamine nasal spray in treatment-resistant depression: aaa bbb aaa bbb",
        "Effects of S(+)-ketamine on pain after surgery. A randomized controlled trial",
        "Oral ketamine in chronic pain: a retrospective cohort of 51 patients (1998-2004)",
    ]
    below_floor = kept = 0
    for _ in range(3000):
        left = title_key(_mutated(rng.choice(stems), rng))
        right = title_key(_mutated(rng.choice(stems) if rng.random() < 0.2 else left, rng))
        exact = SequenceMatcher(None, left, right, autojunk=False).ratio()
        assert similarity_bound(left, right) >= exact, (left, right)
        for floor in (AGREEING_TITLES, SIMILAR_TITLE):
            if exact >= floor:
                kept += 1
                assert title_similarity(left, right, floor=floor) == exact
            else:
                below_floor += 1
    assert kept > 1000 and below_floor > 1000  # both sides of the floors were tried


def test_similar_titles_are_compared_only_across_the_values_apart_names() -> None:
    typo = replace(BASE, title=BASE.title.replace("refractory", "refractary"), pages="")
    table = match_table([BASE, typo], ["r0", "r1"])
    assert find_matches(table, apart=["Embase", "Scopus"])["rule"].tolist() == ["similar title"]
    assert find_matches(table, apart=["Embase", "Embase"]).empty


def test_a_library_of_one_database_has_no_cross_source_pairs(tmp_path: Path) -> None:
    title = "Intranasal esketamine for refractory neuropathic pain: a randomised trial"
    articles = [
        Article(pmid=pmid, title=text, authors=(Author("Rivera", "A", "AM"),), year=2019)
        for pmid, text in ((1, title), (2, title.replace("refractory", "refractary")))
    ]
    store = Store(tmp_path / "data")
    store.upsert(articles)
    records = store.records(columns=merging.READ_COLUMNS)
    alone = merging.cross_source_matches(records)
    assert alone.empty and list(alone.columns) == list(MATCH_COLUMNS)
    assert alone["left"].dtype == "int64" and alone["right"].dtype == "int64"
    records.loc[records["record_id"] == 2, "source"] = "Embase"
    across = merging.cross_source_matches(records)
    assert across[["left", "right", "rule"]].values.tolist() == [[1, 2, "similar title"]]
