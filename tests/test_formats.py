"""Every export format a review brings in reads with the right fields (tests/imports/).

Each file under tests/imports/ is a small hand-written export in its vendor's shape (the README
there says where each quirk comes from); each test names one format and what must come out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.formats import Format, read_file
from tracker.records import Decision, Stage
from tracker.source_record import RecordKind, SourceRecord

IMPORTS = Path(__file__).resolve().parent / "imports"
TITLE = "Intranasal esketamine for refractory neuropathic pain: a randomised controlled trial"


def only(name: str, count: int) -> tuple[SourceRecord, ...]:
    result = read_file(IMPORTS / name)
    assert len(result.records) == count
    return result.records


def test_every_test_file_is_read_and_named_in_the_readme() -> None:
    files = sorted(p for p in IMPORTS.iterdir() if p.is_file() and p.name != "README.md")
    readme = (IMPORTS / "README.md").read_text(encoding="utf-8")
    assert len(files) == 14
    assert [p.name for p in files if p.name not in readme] == []
    assert all(read_file(p).records for p in files)


def test_ovid_embase_keeps_the_longer_of_n2_and_ab_and_the_accession_from_an() -> None:
    first, second = only("embase_ovid.ris", 2)
    assert (first.source, first.format, first.line, second.line) == ("Embase", "RIS", 1, 24)
    assert first.title == TITLE and first.year == 2019
    assert first.abstract.startswith("Background:") and first.abstract.endswith("NCT03000001.")
    assert [a.display for a in first.authors] == ["Rivera AM", "Chen B"]
    assert (first.journal, first.journal_abbrev) == ("Pain Medicine", "Pain Med.")
    assert (first.volume, first.issue, first.pages, first.issn) == (
        "20",
        "7",
        "1301-1310",
        "1526-2375",
    )
    assert dict(first.accessions) == {"embase": "2019456789", "nct": "NCT03000001"}
    assert first.pmid is None and first.doi == ""


def test_embase_com_gives_its_l_number_the_pmid_from_c5_and_the_doi() -> None:
    (record,) = only("embase_elsevier.ris", 1)
    assert record.source == "Embase"
    assert record.accessions["embase"] == "L2004567890"
    assert (record.pmid, record.doi) == (33567890, "10.1016/j.bja.2020.12.041")
    assert record.authors[-1].collective_name == "ESKEPAIN Study Group"
    assert record.issn == "1471-6771"
    assert record.publication_types == ("Article", "JOUR")


def test_central_reads_past_the_provider_header_and_tells_a_registry_record() -> None:
    article, registration = only("central.ris", 2)
    assert (article.source, article.line, registration.line) == ("CENTRAL", 4, 23)
    assert dict(article.accessions) == {"central": "CN-02123456", "nct": "NCT03000001"}
    assert article.kind is RecordKind.ARTICLE and article.doi == "10.1093/pm/pnz012"
    assert article.url.endswith("/CN-02123456/full")
    assert registration.kind is RecordKind.TRIAL and registration.nct == "NCT04111111"
    assert registration.journal == "" and "clinicaltrials.gov" in registration.url


def test_web_of_science_ris_gives_the_wos_accession() -> None:
    (record,) = only("wos.ris", 1)
    assert record.source == "Web of Science"
    assert dict(record.accessions) == {"wos": "WOS:000478123400012"}
    assert (record.journal, record.doi) == ("PAIN MEDICINE", "10.1093/pm/pnz012")


def test_scopus_ris_gives_the_eid_from_the_link_and_the_pmid_from_c2() -> None:
    (record,) = only("scopus.ris", 1)
    assert record.source == "Scopus" and record.language == "English"
    assert dict(record.accessions) == {"scopus": "2-s2.0-85071234567"}
    assert (record.doi, record.pmid) == ("10.1093/pm/pnz012", 30847123)


def test_endnote_keeps_its_page_range_and_reads_pmcid_from_c2_and_pmid_from_an() -> None:
    (record,) = only("endnote.ris", 1)
    assert (record.source, record.pages, record.year) == ("PubMed", "113-25", 2022)
    assert (record.pmid, record.pmcid) == (35322950, "PMC8912345")
    assert record.authors[0].fore_name == "Chidi"


def test_zotero_gives_ids_from_its_extra_notes_and_the_date_from_py() -> None:
    result = read_file(IMPORTS / "zotero.ris")
    (record,) = result.records
    assert (record.pmid, record.pmcid, record.year) == (37151234, "PMC10161234", 2023)
    assert record.doi == "10.2147/jpr.s401234" and record.source == "PubMed"
    assert result.warnings == ()


def test_medline_text_reads_wrapped_lines_dois_registry_ids_and_groups() -> None:
    result = read_file(IMPORTS / "pubmed.nbib")
    first, second = result.records
    assert result.format == Format.MEDLINE and (first.line, second.line) == (1, 44)
    assert first.title == TITLE + "."
    assert (first.pmid, first.doi, first.nct) == (30847123, "10.1093/pm/pnz012", "NCT03000001")
    assert (first.journal_abbrev, first.issn) == ("Pain Med", "1526-4637")
    assert first.publication_types == ("Journal Article", "Randomized Controlled Trial")
    assert "*Ketamine/administration & dosage" in first.keywords
    assert second.authors[-1].collective_name == "CRPS Evidence Collaborative"
    assert second.pmcid == "PMC8912345"


def test_web_of_science_tab_delimited_gives_ut_pm_di_and_keeps_quotes_in_titles() -> None:
    first, second = only("wos_savedrecs.txt", 2)
    assert (first.source, first.format) == ("Web of Science", "Web of Science tab-delimited")
    assert dict(first.accessions) == {"wos": "WOS:000478123400012", "nct": "NCT03000001"}
    assert (first.pmid, first.doi, first.pages) == (30847123, "10.1093/pm/pnz012", "1301-1310")
    assert first.authors[0].fore_name == "Ana M"
    assert first.keywords == ("esketamine", "neuropathic pain", "KETAMINE", "NMDA")
    assert second.title == 'Ketamine for "complex" regional pain syndrome: a systematic review'
    assert second.doi == "" and second.line == 3


def test_scopus_csv_gives_eid_pmid_full_names_and_no_placeholder_text() -> None:
    first, second = only("scopus.csv", 2)
    assert first.format == "Scopus CSV" and first.accessions["scopus"] == "2-s2.0-85071234567"
    assert (first.pmid, first.doi, first.pages) == (30847123, "10.1093/pm/pnz012", "1301-1310")
    assert [a.full for a in first.authors] == ["Rivera, Ana M", "Chen, Bo"]
    assert '"rapid"' in first.abstract
    assert (second.authors, second.abstract, second.pages) == ((), "", "38")


def test_rayyan_decisions_keep_each_reviewer_label_reasons_notes_and_labels() -> None:
    first, second, third = only("rayyan_articles.csv", 3)
    ana, ben = first.decisions
    assert (ana.reviewer_label, ana.decision, ben.reviewer_label, ben.decision) == (
        "Ana",
        Decision.INCLUDE,
        "Ben",
        Decision.MAYBE,
    )
    assert ben.notes == "check the dose; ask Ana" and ana.notes == ""
    assert first.labels == ("RCT", "neuropathic")
    assert {d.reason for d in second.decisions} == {"not chronic pain; wrong population"}
    assert {d.decision for d in second.decisions} == {Decision.EXCLUDE}
    assert third.decisions == () and third.year == 2024
    assert [a.display for a in first.authors] == ["Rivera AM", "Chen B"]


def test_covidence_takes_the_decision_and_stage_from_the_list_its_file_name_names() -> None:
    result = read_file(IMPORTS / "review_123456_included_csv_20260301101500.csv")
    first, second = result.records
    (decision,) = first.decisions
    assert (decision.decision, decision.stage, decision.tool) == (
        Decision.INCLUDE,
        Stage.FULL_TEXT,
        "Covidence",
    )
    assert decision.notes == "Ana Rivera: primary outcome at week 4"
    assert first.labels == ("RCT", "Ongoing study")
    assert second.doi == "10.1016/j.bja.2020.12.041" and result.warnings == ()


def test_a_covidence_file_renamed_brings_its_records_without_decisions(tmp_path: Path) -> None:
    renamed = tmp_path / "references.csv"
    renamed.write_bytes((IMPORTS / "review_123456_included_csv_20260301101500.csv").read_bytes())
    result = read_file(renamed)
    assert result.decisions == 0 and len(result.records) == 2
    assert "does not say which Covidence list" in result.warnings[0]


@pytest.mark.parametrize("name", ["asreview_export.csv", "asreview2_export.csv"])
def test_asreview_labels_become_title_abstract_decisions_and_blanks_none(name: str) -> None:
    records = read_file(IMPORTS / name).records
    decided = [r.decisions[0].decision for r in records if r.decisions]
    assert decided == [Decision.INCLUDE, Decision.EXCLUDE]
    assert {d.stage for r in records for d in r.decisions} == {Stage.TITLE_ABSTRACT}
    assert len(records) - len(decided) == (1 if name == "asreview_export.csv" else 0)


def test_asreview_keeps_the_dataset_pmid_and_asreview_2_its_note() -> None:
    assert read_file(IMPORTS / "asreview_export.csv").records[0].pmid == 30847123
    assert read_file(IMPORTS / "asreview2_export.csv").records[0].decisions[0].notes == (
        "pain at 3 months"
    )


def test_source_named_by_the_caller_wins_over_what_records_say() -> None:
    result = read_file(IMPORTS / "zotero.ris", source="Embase")
    assert result.source == "Embase" and result.records[0].source == "Embase"


def test_the_format_comes_from_content_not_the_file_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "export.csv"
    misnamed.write_bytes((IMPORTS / "embase_ovid.ris").read_bytes())
    assert read_file(misnamed).format == Format.RIS
    nbib = tmp_path / "citations.txt"
    nbib.write_bytes((IMPORTS / "pubmed.nbib").read_bytes())
    assert read_file(nbib).format == Format.MEDLINE


def test_utf16_web_of_science_and_cp1252_ris_are_decoded(tmp_path: Path) -> None:
    utf16 = tmp_path / "savedrecs.txt"
    utf16.write_bytes((IMPORTS / "wos_savedrecs.txt").read_text("utf-8").encode("utf-16"))
    assert len(read_file(utf16).records) == 2
    latin = tmp_path / "old.ris"
    latin.write_bytes("TY  - JOUR\nTI  - Analgésie par kétamine\nER  - \n".encode("cp1252"))
    result = read_file(latin)
    assert result.records[0].title == "Analgésie par kétamine"
    assert "Windows-1252" in result.warnings[0]


def test_pubmed_xml_is_recognised_and_read_as_source_records(eutils_fixtures: Path) -> None:
    result = read_file(eutils_fixtures / "pubmed1.xml")
    assert result.format == Format.PUBMED_XML and result.source == "PubMed"
    assert result.records and all(r.pmid for r in result.records)
