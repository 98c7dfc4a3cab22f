"""The parser on real NCBI files; expected values are written by hand in tests/expected/."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tracker.errors import ParseError
from tracker.parse import iter_articles, read_articles
from tracker.records import Article

EXPECTED = sorted((Path(__file__).parent / "expected").glob("parse_pubmed*.json"))
XML_DIR = Path(__file__).parent / "xml"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def by_pmid(articles: tuple[Article, ...]) -> dict[int, Article]:
    return {a.pmid: a for a in articles}


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.stem)
def test_a_real_file_gives_exactly_its_own_records(
    expected_file: Path, eutils_fixtures: Path
) -> None:
    expected = load(expected_file)
    result = read_articles(eutils_fixtures / expected["file"])
    assert [a.pmid for a in result.articles] == expected["pmids"]
    for other in expected.get("not_records", []):
        assert other not in by_pmid(result.articles), "a cited PMID is not a record"


def _check_field(article: Article, field: str, want: Any) -> None:
    if field == "authors":
        assert [a.display for a in article.authors] == want
    elif field == "author_count":
        assert len(article.authors) == want
    elif field == "first_author":
        assert article.authors[0].display == want
    elif field == "first_author_fore_name":
        assert article.authors[0].fore_name == want
    elif field == "first_author_affiliations":
        assert list(article.authors[0].affiliations) == want
    elif field == "second_author":
        assert article.authors[1].display == want
    elif field == "last_author":
        assert article.authors[-1].display == want
    elif field == "last_author_last_name":
        assert article.authors[-1].last_name == want
    elif field == "last_author_is_collective":
        assert bool(article.authors[-1].collective_name) is want
        assert article.authors[-1].initials == ""
    elif field == "mesh_count":
        assert len(article.mesh) == want
    elif field == "mesh_major":
        assert [m.descriptor for m in article.mesh if m.major] == want
    elif field == "mesh_qualifiers":
        found = {m.descriptor: [[q.name, q.major] for q in m.qualifiers] for m in article.mesh}
        assert {k: found[k] for k in want} == want
    elif field == "abstract_labels":
        assert [line.split(":")[0] for line in article.abstract.split("\n")] == want
    elif field == "abstract_starts":
        assert article.abstract.startswith(want)
    elif field == "abstract_ends":
        assert article.abstract.endswith(want)
    elif field == "abstract_contains":
        for piece in want:
            assert piece in article.abstract
    elif field == "abstract_has_no_markup":
        assert not re.search(r"<[a-zA-Z/]|mml:|&lt;|\s{2,}", article.abstract)
    elif field in {"publication_types", "keywords", "languages"}:
        assert list(getattr(article, field)) == want
    else:
        assert getattr(article, field) == want, field


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.stem)
def test_every_hand_checked_field_matches(expected_file: Path, eutils_fixtures: Path) -> None:
    expected = load(expected_file)
    articles = by_pmid(read_articles(eutils_fixtures / expected["file"]).articles)
    assert expected["records"] and all(expected["records"].values()), "the file checks fields"
    for pmid, fields in expected["records"].items():
        for field, want in fields.items():
            _check_field(articles[int(pmid)], field, want)


def test_titles_and_abstracts_hold_no_markup_and_no_doubled_spaces(
    eutils_fixtures: Path,
) -> None:
    seen = []
    for path in sorted(eutils_fixtures.glob("pubmed*.xml")):
        for article in iter_articles(path):
            seen.append(article.pmid)
            for text in (article.title, *article.abstract.split("\n")):
                assert text == text.strip()
                assert not re.search(r"<[a-z/]|\s{2,}", text), (path.name, text[:80])
    assert len(seen) == 8, "all eight records of the real fixture files"


def test_month_names_and_numbers_both_become_iso_months(eutils_fixtures: Path) -> None:
    june = read_articles(eutils_fixtures / "pubmed4.xml").articles[0]
    february = read_articles(eutils_fixtures / "pubmed5.xml").articles[0]
    assert (june.pub_date, february.pub_date) == ("2017-06", "2018-02")


def test_path_gzip_bytes_and_file_object_inputs_give_the_same_records(
    eutils_fixtures: Path, tmp_path: Path
) -> None:
    path = eutils_fixtures / "pubmed7.xml"
    data = path.read_bytes()
    packed = tmp_path / "pubmed7.xml.gz"
    packed.write_bytes(gzip.compress(data))
    from_path = read_articles(path)
    assert read_articles(str(path)) == from_path
    assert read_articles(packed) == from_path
    assert read_articles(data) == from_path
    assert read_articles(gzip.compress(data)) == from_path
    assert read_articles(io.BytesIO(data)) == from_path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty", b"", "the document is empty"),
        ("not xml", b"PMID- 123\nTI  - a MEDLINE text file\n", "Start tag expected"),
        ("html page", b"<html><body><h1>502 Bad Gateway</h1></body></html>", "found <html>"),
        ("esearch", b"<eSearchResult><Count>0</Count></eSearchResult>", "found <eSearchResult>"),
        (
            "ncbi error",
            b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>",
            "NCBI answered with an error instead of records: Unable to obtain query #1",
        ),
    ],
)
def test_what_is_not_pubmed_xml_is_refused_with_a_reason(
    name: str, data: bytes, message: str
) -> None:
    with pytest.raises(ParseError) as caught:
        read_articles(data)
    assert message in str(caught.value)
    assert str(caught.value).startswith("<bytes>")


def test_a_file_cut_off_mid_record_names_the_file_and_line_and_keeps_nothing(
    eutils_fixtures: Path, tmp_path: Path
) -> None:
    data = (eutils_fixtures / "pubmed2.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(ParseError, match=r"cut\.xml, line \d+: .*download or export it again"):
        read_articles(cut)
    seen: list[int] = []
    with pytest.raises(ParseError):
        for article in iter_articles(cut):
            seen.append(article.pmid)
    assert seen == [11748933], "streaming shows what came before the fault, then fails"


def test_a_missing_file_is_a_parse_error_that_names_it(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"nothing\.xml: cannot open the file"):
        read_articles(tmp_path / "nothing.xml")


def test_a_corrupt_gzip_file_is_refused(eutils_fixtures: Path, tmp_path: Path) -> None:
    packed = gzip.compress((eutils_fixtures / "pubmed1.xml").read_bytes())
    broken = tmp_path / "broken.xml.gz"
    broken.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ParseError, match=r"broken\.xml\.gz"):
        read_articles(broken)


def _wrap(*parts: str) -> bytes:
    return (
        '<?xml version="1.0"?>\n<PubmedArticleSet>' + "".join(parts) + "</PubmedArticleSet>"
    ).encode()


def _records(text: str) -> list[str]:
    return re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, flags=re.S)


def test_an_update_file_reports_deleted_citations_and_skips_them(eutils_fixtures: Path) -> None:
    records = _records((eutils_fixtures / "pubmed1.xml").read_text(encoding="utf-8"))
    deleted = (
        '<DeleteCitation><PMID Version="1">123</PMID><PMID Version="1">456</PMID></DeleteCitation>'
    )
    result = read_articles(_wrap(*records, deleted))
    assert [a.pmid for a in result.articles] == [12091962, 9997]
    assert result.deleted == (123, 456)


def test_a_book_record_is_read_as_a_book_chapter() -> None:
    book = read_articles(XML_DIR / "book.xml").articles[0]
    assert (book.pmid, book.record_type) == (20301295, "chapter")
    assert book.title == "Ketamine: a chapter on analgesia."
    assert book.journal == "Pain Management Handbook"
    assert [a.display for a in book.authors] == ["Adams JB", "Lopez M"]
    assert (book.year, book.pub_date) == (2024, "2024-03")
    assert book.abstract == "PURPOSE: To summarise ketamine in chronic pain."


def test_a_record_with_no_title_no_authors_and_no_date_is_kept_with_empty_fields() -> None:
    bare = (
        '<PubmedArticle><MedlineCitation><PMID Version="1">42</PMID><Article>'
        "<Journal><JournalIssue><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>"
        "</JournalIssue></Journal></Article></MedlineCitation></PubmedArticle>"
    )
    article = read_articles(_wrap(bare)).articles[0]
    assert (article.pmid, article.title, article.authors) == (42, "", ())
    assert (article.year, article.pub_date) == (1998, "1998")


def test_a_4000_author_record_keeps_every_author_and_one_affiliation_list() -> None:
    authors = "".join(
        f'<Author ValidYN="Y"><LastName>Name{n}</LastName><Initials>A</Initials>'
        f"<AffiliationInfo><Affiliation>Lab {n}</Affiliation></AffiliationInfo></Author>"
        for n in range(4000)
    )
    record = (
        '<PubmedArticle><MedlineCitation><PMID Version="1">7</PMID><Article>'
        f"<ArticleTitle>Consortium</ArticleTitle><AuthorList>{authors}</AuthorList>"
        "</Article></MedlineCitation></PubmedArticle>"
    )
    article = read_articles(_wrap(record)).articles[0]
    assert len(article.authors) == 4000
    assert article.authors[-1].display == "Name3999 A"
    assert article.authors[0].affiliations == ("Lab 0",)
    assert all(a.affiliations == () for a in article.authors[1:])


def test_a_doctype_naming_an_unreachable_dtd_is_never_fetched(eutils_fixtures: Path) -> None:
    """The DTD host below does not exist; a fetch attempt would fail or hang."""
    records = _records((eutils_fixtures / "pubmed1.xml").read_text(encoding="utf-8"))
    doctype = (
        '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle//EN"'
        ' "http://dtd.invalid/never/pubmed_999.dtd">\n'
    )
    data = (doctype + "<PubmedArticleSet>" + "".join(records) + "</PubmedArticleSet>").encode()
    assert [a.pmid for a in read_articles(data).articles] == [12091962, 9997]


def test_an_entity_from_outside_is_not_expanded() -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">5</PMID><Article>'
        b"<ArticleTitle>a &x; b</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
        b"</PubmedArticleSet>"
    )
    title = read_articles(hostile).articles[0].title
    assert "root:" not in title
