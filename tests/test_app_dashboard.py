"""What the dashboard computes without Streamlit: links, table rows, navigation, uploads, the
registry search's query and a trial's fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tracker import (
    ConfigError,
    Filters,
    ImportRefusedError,
    QueryRequired,
    ReviewerRequired,
    Store,
    claims,
    dashboard,
    screening,
    select,
    suggestions,
)
from tracker.records import Article

pytestmark = pytest.mark.both_backends

IMPORTS = Path(__file__).resolve().parent / "imports"
LINK_CASES = json.loads((Path(__file__).parent / "expected" / "app_links.json").read_text())


@pytest.fixture
def library(eutils_fixtures: Path, data_dir: Path) -> tuple[Store, dashboard.Library]:
    store = Store(data_dir)
    dashboard.import_uploads(
        store, [(p.name, p.read_bytes()) for p in sorted(eutils_fixtures.glob("pubmed*.xml"))]
    )
    return store, dashboard.load_library(store)


@pytest.mark.parametrize("case", LINK_CASES["cases"], ids=lambda c: c["name"])
def test_links_are_built_only_from_identifiers_of_the_right_shape(case: dict[str, Any]) -> None:
    assert [list(link) for link in dashboard.links(case)] == case["links"]


def test_the_table_view_leaves_abstracts_out_and_stops_at_its_limit(
    library: tuple[Store, dashboard.Library],
) -> None:
    store, lib = library
    view = dashboard.table_view(lib.records, screening.summary(store), sort="oldest first", limit=3)
    assert "abstract" not in " ".join(view.columns).lower()
    assert view["PMID"].tolist() == [9997, 12091962, 11700088]
    assert view["Decision"].tolist() == ["unscreened"] * 3


def test_next_unscreened_skips_decided_records_and_wraps_round(
    library: tuple[Store, dashboard.Library],
) -> None:
    store, _ = library
    screening.decide(store, [11700088], decision="include", reviewer="ana")
    state = screening.summary(store)
    listed = [9997, 11700088, 12091962]
    assert dashboard.next_unscreened(listed, state, 9997) == 12091962
    assert dashboard.next_unscreened(listed, state, 12091962) == 9997
    assert dashboard.next_unscreened(listed, state, None) == 9997
    assert dashboard.next_unscreened([11700088], state, None) is None


def test_the_shared_view_is_blind_until_the_reviewer_has_decided(
    library: tuple[Store, dashboard.Library],
) -> None:
    store, _ = library
    screening.decide(store, [9997], decision="include", reviewer="ben", note="clear RCT")
    state = screening.summary(store)
    assert dashboard.shared_view(state, 9997, reviewer="ana", own_decision="unscreened") is None
    seen = dashboard.shared_view(state, 9997, reviewer="ana", own_decision="exclude")
    assert seen == {"decision": "include", "tags": [], "notes": ["clear RCT"]}
    assert dashboard.shared_view(state, 9997, reviewer="ben", own_decision="include") == seen


def test_an_upload_is_stored_under_its_base_name_only(
    data_dir: Path, eutils_fixtures: Path
) -> None:
    store = Store(data_dir)
    data = (eutils_fixtures / "pubmed5.xml").read_bytes()
    outcome = dashboard.import_uploads(store, [("../../etc/pubmed5.xml", data)])
    assert [part.source for part in outcome.sources] == ["PubMed"]
    assert outcome.sources[0].summary.new > 0
    assert store.runs()["query"].tolist() == ["import pubmed5.xml"]
    assert not (data_dir.parent.parent / "etc").exists()


def test_two_uploads_with_one_name_are_refused_before_anything_is_written(
    data_dir: Path, eutils_fixtures: Path
) -> None:
    data = (eutils_fixtures / "pubmed5.xml").read_bytes()
    with pytest.raises(ConfigError, match="share a name"):
        dashboard.import_uploads(Store(data_dir), [("a/x.xml", data), ("b/x.xml", data)])
    assert Store(data_dir).runs().empty


def uploads(*names: str) -> list[tuple[str, bytes]]:
    """Files of tests/imports/ as a browser sends them: a name and the bytes."""
    return [(name, (IMPORTS / name).read_bytes()) for name in names]


def test_exports_uploaded_together_land_as_one_run_per_database(data_dir: Path) -> None:
    store = Store(data_dir)
    outcome = dashboard.import_uploads(store, uploads("embase_ovid.ris", "pubmed.nbib"))
    assert [(p.source, p.files, p.summary.new) for p in outcome.sources] == [
        ("Embase", ("embase_ovid.ris",), 2), ("PubMed", ("pubmed.nbib",), 2)]  # fmt: skip
    runs = store.runs()
    assert runs[["source", "query"]].values.tolist() == [
        ["Embase", "import embase_ovid.ris"], ["PubMed", "import pubmed.nbib"]]  # fmt: skip
    line = dashboard.import_line(outcome)
    assert line.startswith("Embase: 2 records: 2 new, 0 already known. PubMed: 2 records: 2 new")
    assert f"Across databases: {outcome.merges.merged} merged as duplicates, 0 waiting" in line


def test_the_database_named_in_the_form_wins_over_what_the_file_says(data_dir: Path) -> None:
    outcome = dashboard.import_uploads(Store(data_dir), uploads("zotero.ris"), source="Embase")
    assert [part.source for part in outcome.sources] == ["Embase"]
    assert set(Store(data_dir).records()["source"]) == {"Embase"}


def test_decisions_in_an_upload_need_a_reviewer_and_nothing_lands_without_one(
    data_dir: Path,
) -> None:
    with pytest.raises(ReviewerRequired):
        dashboard.import_uploads(Store(data_dir), uploads("rayyan_articles.csv"))
    assert Store(data_dir).runs().empty and Store(data_dir).events().empty
    outcome = dashboard.import_uploads(Store(data_dir), uploads("rayyan_articles.csv"),
                                       reviewer="ana")  # fmt: skip
    assert outcome.decisions > 0 and len(Store(data_dir).events()) == outcome.decisions
    assert "screening decisions moved in from the tool" in dashboard.import_line(outcome)


def test_a_refused_upload_is_named_as_it_was_uploaded_not_by_its_temporary_path(
    data_dir: Path,
) -> None:
    with pytest.raises(ImportRefusedError) as refused:
        dashboard.import_uploads(Store(data_dir), [("cut.ris", b"TY  - JOUR\nTI  - Cut\n")])
    assert "tracker-upload-" in str(refused.value)  # the library names the path it read
    message = dashboard.upload_message(str(refused.value))
    assert message.startswith("cut.ris, line ") and "tracker-upload-" not in message
    assert "export it again" in message
    assert not (data_dir / "records.parquet").exists()


def test_a_registry_search_needs_at_least_one_field() -> None:
    query = dashboard.trial_query(conditions=" fibromyalgia ", interventions="", term="")
    assert query.params() == {"query.cond": "fibromyalgia"}
    with pytest.raises(QueryRequired):
        dashboard.trial_query(conditions=" ", interventions="\n", term="")


def test_a_trials_registry_fields_read_as_the_registry_words_them() -> None:
    fields = {"nct": "NCT00000004", "status": "ACTIVE_NOT_RECRUITING", "phase": "PHASE2, PHASE3",
              "conditions": ["Cancer Pain"], "interventions": ["Esketamine", "Placebo"],
              "enrolment": 1024, "start_date": "2009-05", "completion_date": "2011-06-30",
              "linked_pmids": [30000004]}  # fmt: skip
    assert dashboard.trial_lines(fields) == [
        "Registered trial NCT00000004 · Status: Active not recruiting · Phase: Phase 2, Phase 3",
        "Conditions: Cancer Pain",
        "Interventions: Esketamine; Placebo",
        "Enrolment: 1,024",
        "Start: 2009-05 · Completion: 2011-06-30",
        "Publications the registration lists: PMID 30000004",
    ]
    sparse: dict[str, object] = {"nct": "NCT04111111", "status": None, "phase": "NA",
                                 "conditions": [], "enrolment": pd.NA, "start_date": "",
                                 "linked_pmids": []}  # fmt: skip
    assert dashboard.trial_lines(sparse) == ["Registered trial NCT04111111 · Phase: Not applicable"]


def test_the_trial_fields_are_read_for_trials_only_and_sources_are_listed(data_dir: Path) -> None:
    store = Store(data_dir)
    dashboard.import_uploads(store, uploads("central.ris", "embase_ovid.ris"))
    records = store.records()
    trials = records.loc[(records["kind"] == "trial").to_numpy(bool), "record_id"].tolist()
    fields = dashboard.trial_fields(store)
    assert fields.index.tolist() == trials and len(trials) < len(records)
    assert fields.loc[trials[0], "nct"] == "NCT04111111"
    assert dashboard.load_library(store).sources == ("CENTRAL", "Embase")


def test_chart_data_counts_years_and_evidence_tags(data_dir: Path) -> None:
    store = Store(data_dir)
    store.upsert(
        [
            Article(pmid=1, title="Intranasal esketamine for fibromyalgia", year=2020),
            Article(pmid=2, title="Oral ketamine for fibromyalgia", year=2020),
            Article(pmid=3, title="Intranasal ketamine in cancer pain", year=2022),
        ]
    )
    lib = dashboard.load_library(store)
    years = dashboard.per_year(lib.records)
    assert years.to_dict("records") == [{"year": 2020, "studies": 2}, {"year": 2022, "studies": 1}]
    routes = dashboard.facet_counts(lib.evidence, "route").set_index("route")["studies"]
    assert routes.to_dict() == {"intranasal": 2, "oral": 1}


def test_screening_progress_counts_each_decision_at_each_stage(
    library: tuple[Store, dashboard.Library],
) -> None:
    store, _ = library
    screening.decide(store, [9997, 11700088], decision="include", reviewer="ana")
    progress = dashboard.screening_progress(screening.summary(store))
    title_abstract = progress[progress["stage"] == "title-abstract"]
    counts = dict(zip(title_abstract["decision"], title_abstract["records"], strict=True))
    assert counts == {"unscreened": 6, "include": 2}


TRIAL = Article(
    pmid=11,
    title="Intranasal esketamine for fibromyalgia: a randomized controlled trial",
    abstract="We enrolled 40 patients; nausea was common and no hallucinations were reported.",
    publication_types=("Randomized Controlled Trial",),
    year=2022,
)
SERIES = Article(pmid=12, title="Ketamine infusions for CRPS: a case series",
                 abstract="Three patients reported dizziness.", year=2019)  # fmt: skip


@pytest.fixture
def tagged(data_dir: Path) -> tuple[Store, dashboard.Library]:
    store = Store(data_dir)
    store.upsert([TRIAL, SERIES])
    return store, dashboard.load_library(store)


def test_each_suggested_tag_of_a_record_is_traced_to_its_span(
    tagged: tuple[Store, dashboard.Library],
) -> None:
    store, lib = tagged
    rows = dashboard.record_suggestions(lib.evidence, 11, suggestions.verdicts(store))
    assert tuple(rows.columns) == dashboard.SUGGESTION_COLUMNS
    found = {(str(t), str(f), str(e)) for t, f, e in rows[["Tag", "Field", "Evidence"]].values}
    assert ("route: intranasal", "title", "Intranasal") in found
    assert ("design: RCT", "publication type", "Randomized Controlled Trial") in found
    assert ("adverse effects: nausea or vomiting", "abstract", "nausea") in found
    assert ("n: 40", "abstract", "enrolled 40 patients") in found
    assert not any("hallucination" in t for t, _, _ in found), "a negated mention is no tag"
    assert set(rows["Status"]) == {"suggested"}
    line = dashboard.evidence_line(rows)
    assert line.startswith("Evidence tags: design: RCT") and "route: intranasal" in line


def test_a_rejected_suggestion_leaves_the_line_the_filters_and_the_charts(
    tagged: tuple[Store, dashboard.Library],
) -> None:
    store, lib = tagged
    suggestions.reject(store, 11, "route", "intranasal", reviewer="ana")
    suggestions.accept(store, 11, "design", "RCT", reviewer="ana")
    judged = suggestions.verdicts(store)
    rows = dashboard.record_suggestions(lib.evidence, 11, judged)
    status = dict(zip(rows["Tag"], rows["Status"], strict=False))
    assert status["route: intranasal"] == "rejected" and status["design: RCT"] == "accepted"
    assert "intranasal" not in dashboard.evidence_line(rows)
    evidence = suggestions.without_rejected(lib.evidence, judged)
    assert lib.evidence.at[11, "route:intranasal"], "the cached library is not changed"
    assert not evidence.at[11, "route:intranasal"]
    assert "intranasal" not in set(dashboard.facet_counts(evidence, "route")["route"])
    chosen = select(lib.records, Filters(evidence={"route": ("intranasal",)}), evidence=evidence)
    assert chosen.empty


def test_without_rejections_the_evidence_is_not_copied(
    tagged: tuple[Store, dashboard.Library],
) -> None:
    store, lib = tagged
    assert suggestions.without_rejected(lib.evidence, suggestions.verdicts(store)) is lib.evidence


def test_claim_counts_follow_the_leaflet_then_the_unlisted_effects(
    tagged: tuple[Store, dashboard.Library],
) -> None:
    store, _ = tagged
    counts = dashboard.claim_counts(claims.claims_view(store, "all")).set_index("claim")
    assert list(counts.index[:2]) == ["dizziness or lightheadedness", "headache"]
    assert counts.at["dizziness or lightheadedness", "studies"] == 1
    assert counts.at["nausea or vomiting", "studies"] == 1
    assert counts.at["hallucinations", "studies"] == 0
    assert set(counts["in leaflet"]) <= {"yes", "no"}


def test_the_table_sorts_by_citations_when_metrics_are_stored(
    tagged: tuple[Store, dashboard.Library],
) -> None:
    store, lib = tagged
    state = screening.summary(store)
    plain = dashboard.table_view(lib.records, state, sort="most cited")
    assert "Citations" not in plain.columns
    assert plain["PMID"].tolist() == [11, 12], "without metrics: newest first"
    metrics = pd.DataFrame({"pmid": [12], "citation_count": [7],
                            "relative_citation_ratio": [1.5]})  # fmt: skip
    view = dashboard.table_view(lib.records, state, sort="most cited", metrics=metrics)
    assert view["PMID"].tolist() == [12, 11], "a record iCite does not know sorts last"
    assert view["Citations"].tolist()[0] == 7 and pd.isna(view["Citations"].tolist()[1])
    assert view["RCR"].tolist()[0] == 1.5


def test_messages_that_quote_what_a_person_typed_cannot_render_as_markdown() -> None:
    typed = "**bold** [x](http://e) <i>y</i> $z$ :red[w]"
    escaped = r"\*\*bold\*\* \[x\]\(http\://e\) \<i\>y\</i\> \$z\$ \:red\[w\]"
    assert dashboard.escape_markdown(typed) == escaped
    assert dashboard.escape_markdown("3 records: 2 new") == "3 records: 2 new"
