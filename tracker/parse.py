"""PubMed XML → :class:`~tracker.records.Article`, streaming.

Reads efetch output, the file pubmed.ncbi.nlm.nih.gov's "Save → PubMed XML" gives, and MEDLINE
baseline/update files (plain or ``.gz``). ``lxml.etree.iterparse`` hands over one record at a
time and each is cleared once read, so memory stays flat however large the file.

The parser never loads a DTD or touches the network, whatever the DOCTYPE line says. A document
that is malformed or cut off raises :class:`~tracker.errors.ParseError` naming the source and the
line; :func:`read_articles` therefore returns a whole document or nothing.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from lxml import etree

from tracker.errors import ParseError
from tracker.records import Article, Author, Grant, MeshHeading, MeshQualifier

Source = str | os.PathLike[str] | bytes | BinaryIO
Element = etree._Element

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation", "ERROR")
_ROOTS = frozenset({"PubmedArticleSet", "PubmedBookArticleSet"})
_YEAR = re.compile(r"\b(\d{4})\b")
_MONTHS = {
    name: f"{number:02d}"
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}  # fmt: skip
_ADVICE = "the file is cut off or is not PubMed XML: download or export it again"


@dataclass(frozen=True, slots=True)
class ParseResult:
    """A whole document: its records, and the PMIDs it lists as deleted (update files)."""

    articles: tuple[Article, ...]
    deleted: tuple[int, ...] = ()


def read_articles(source: Source) -> ParseResult:
    """Read a whole document; raises ParseError instead of returning part of one."""
    deleted: list[int] = []
    articles = tuple(iter_articles(source, deleted=deleted))
    return ParseResult(articles=articles, deleted=tuple(deleted))


def iter_articles(source: Source, *, deleted: list[int] | None = None) -> Iterator[Article]:
    """Yield records one by one; PMIDs of DeleteCitation entries go to ``deleted``."""
    name, stream = _open(source)
    try:
        yield from _walk(stream, name, deleted if deleted is not None else [])
    finally:
        stream.close()


def _open(source: Source) -> tuple[str, BinaryIO]:
    if isinstance(source, bytes):
        data = gzip.decompress(source) if source[:2] == b"\x1f\x8b" else source
        return "<bytes>", io.BytesIO(data)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            raw = path.open("rb")
        except OSError as exc:
            raise ParseError(
                f"cannot open the file ({exc.strerror}): check the path", source=path
            ) from exc
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            return str(path), gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        raw.seek(0)
        return str(path), raw
    return str(getattr(source, "name", "<stream>")), source


def _walk(stream: BinaryIO, name: str, deleted: list[int]) -> Iterator[Article]:
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=_RECORD_TAGS,
        load_dtd=False,
        no_network=True,
        resolve_entities=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _event, element in events:
            yield from _record(element, name, deleted)
            _release(element)
        root = events.root
    except etree.XMLSyntaxError as exc:
        if exc.lineno == 0:  # nothing was read at all
            raise ParseError("the document is empty; " + _ADVICE, source=name) from exc
        raise ParseError(f"{exc.msg}; {_ADVICE}", source=name, line=exc.lineno) from exc
    except (OSError, EOFError) as exc:  # a corrupt .gz stream
        raise ParseError(f"{exc}; {_ADVICE}", source=name) from exc
    if root is None or etree.QName(root).localname not in _ROOTS:
        found = "nothing" if root is None else f"<{etree.QName(root).localname}>"
        raise ParseError(
            f"found {found} where PubMed XML (<PubmedArticleSet>) was expected; {_ADVICE}",
            source=name,
        )


def _record(element: Element, name: str, deleted: list[int]) -> Iterator[Article]:
    tag = element.tag
    if tag == "PubmedArticle":
        yield _article(element, name)
    elif tag == "PubmedBookArticle":
        yield _book(element, name)
    elif tag == "DeleteCitation":
        deleted.extend(_pmid(p, name) for p in element.iterfind("PMID"))
    else:  # <ERROR> inside an HTTP 200 answer
        message = text_of(element) or "no message"
        raise ParseError(
            f"NCBI answered with an error instead of records: {message}",
            source=name,
            line=_line(element),
        )


def _release(element: Element) -> None:
    """Drop a record once read, and the empty shells of earlier ones, to keep memory flat."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


# -- text ------------------------------------------------------------------------------------


def text_of(element: Element | None) -> str:
    """All text inside ``element`` (inline markup and MathML included), whitespace collapsed."""
    if element is None:
        return ""
    if not len(element):  # no inline markup: the fast path for most fields
        return " ".join((element.text or "").split())
    return " ".join("".join(cast("Iterator[str]", element.itertext())).split())


def _abstract(abstract: Element | None) -> str:
    if abstract is None:
        return ""
    sections = []
    for part in abstract.iterfind("AbstractText"):
        body = text_of(part)
        label = (part.get("Label") or "").strip()
        if label and body:
            sections.append(f"{label}: {body}")
        elif body:
            sections.append(body)
    return "\n".join(sections)


def _line(element: Element) -> int | None:
    line = getattr(element, "sourceline", None)  # lxml-stubs mistype it
    return line if isinstance(line, int) else None


def _pmid(element: Element | None, name: str) -> int:
    raw = text_of(element)
    if not raw.isdigit():
        line = _line(element) if element is not None else None
        raise ParseError(f"a record has no valid PMID ({raw!r}); {_ADVICE}", source=name, line=line)
    return int(raw)


# -- records ---------------------------------------------------------------------------------


def _article(element: Element, name: str) -> Article:
    citation = element.find("MedlineCitation")
    if citation is None:
        raise ParseError(
            f"a PubmedArticle has no MedlineCitation; {_ADVICE}",
            source=name,
            line=_line(element),
        )
    article = citation.find("Article")
    if article is None:
        article = etree.Element("Article")
    journal = article.find("Journal")
    ids = _article_ids(element.find("PubmedData/ArticleIdList"))
    year, pub_date = _date(journal.find("JournalIssue/PubDate") if journal is not None else None)
    if year is None:
        year, pub_date = _article_date(article.find("ArticleDate"))
    return Article(
        pmid=_pmid(citation.find("PMID"), name),
        title=text_of(article.find("ArticleTitle")),
        abstract=_abstract(article.find("Abstract")),
        authors=_authors(article.find("AuthorList")),
        journal=_findtext(journal, "Title"),
        journal_abbrev=_findtext(journal, "ISOAbbreviation")
        or _findtext(citation, "MedlineJournalInfo/MedlineTA"),
        year=year,
        pub_date=pub_date,
        volume=_findtext(journal, "JournalIssue/Volume"),
        issue=_findtext(journal, "JournalIssue/Issue"),
        pages=_pages(article.find("Pagination")),
        issn=_findtext(journal, "ISSN"),
        doi=ids.get("doi") or _elocation_doi(article),
        pmcid=ids.get("pmc", ""),
        publication_types=_texts(article, "PublicationTypeList/PublicationType"),
        mesh=_mesh(citation.find("MeshHeadingList")),
        keywords=_texts(citation, "KeywordList/Keyword"),
        languages=_texts(article, "Language"),
        grants=_grants(article.find("GrantList")),
        vernacular_title=text_of(article.find("VernacularTitle")),
    )


def _book(element: Element, name: str) -> Article:
    document = element.find("BookDocument")
    if document is None:
        raise ParseError(
            f"a PubmedBookArticle has no BookDocument; {_ADVICE}",
            source=name,
            line=_line(element),
        )
    book = document.find("Book")
    ids = _article_ids(element.find("PubmedBookData/ArticleIdList"))
    year, pub_date = _date(book.find("PubDate") if book is not None else None)
    chapter = text_of(document.find("ArticleTitle"))
    book_title = text_of(book.find("BookTitle")) if book is not None else ""
    authors = _authors(document.find("AuthorList"))
    if not authors and book is not None:
        authors = _authors(book.find("AuthorList"))
    return Article(
        pmid=_pmid(document.find("PMID"), name),
        title=chapter or book_title,
        abstract=_abstract(document.find("Abstract")),
        authors=authors,
        journal=book_title if chapter else _findtext(book, "Publisher/PublisherName"),
        year=year,
        pub_date=pub_date,
        doi=ids.get("doi", ""),
        pmcid=ids.get("pmc", ""),
        publication_types=_texts(document, "PublicationType"),
        keywords=_texts(document, "KeywordList/Keyword"),
        languages=_texts(document, "Language"),
        grants=_grants(document.find("GrantList")),
        record_type="book",
    )


def _findtext(element: Element | None, path: str) -> str:
    """Text of a field that never holds markup (names, dates, volume): the fast path."""
    if element is None:
        return ""
    text = element.findtext(path)
    return " ".join(text.split()) if text else ""


def _texts(element: Element, path: str) -> tuple[str, ...]:
    return tuple(t for t in (text_of(e) for e in element.iterfind(path)) if t)


def _article_ids(id_list: Element | None) -> dict[str, str]:
    """The record's own ids by type; DOIs lower-cased (they are case-insensitive)."""
    ids: dict[str, str] = {}
    if id_list is None:
        return ids
    for item in id_list.iterfind("ArticleId"):
        kind, value = item.get("IdType", ""), text_of(item)
        if value and kind not in ids:
            ids[kind] = value.lower() if kind == "doi" else value
    return ids


def _elocation_doi(article: Element) -> str:
    for location in article.iterfind("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") == "Y":
            return text_of(location).lower()
    return ""


def _pages(pagination: Element | None) -> str:
    if pagination is None:
        return ""
    medline = _findtext(pagination, "MedlinePgn")
    if medline:
        return medline
    start, end = _findtext(pagination, "StartPage"), _findtext(pagination, "EndPage")
    return f"{start}-{end}" if start and end else start


def _authors(author_list: Element | None) -> tuple[Author, ...]:
    if author_list is None:
        return ()
    authors: list[Author] = []
    for item in author_list.iterfind("Author"):
        if item.get("ValidYN", "Y") != "Y":
            continue
        # Affiliations of the first author only: a 4,000-author list stays small.
        affiliations = _texts(item, "AffiliationInfo/Affiliation") if not authors else ()
        # One pass over the children: a long author list is the hot spot of a PubMed record.
        parts = {child.tag: child for child in item}
        authors.append(
            Author(
                last_name=_plain(parts.get("LastName")),
                fore_name=_plain(parts.get("ForeName")),
                initials=_plain(parts.get("Initials")),
                collective_name=text_of(parts.get("CollectiveName")),
                affiliations=affiliations,
            )
        )
    return tuple(authors)


def _plain(element: Element | None) -> str:
    text = element.text if element is not None else None
    return " ".join(text.split()) if text else ""


def _mesh(heading_list: Element | None) -> tuple[MeshHeading, ...]:
    if heading_list is None:
        return ()
    headings = []
    for heading in heading_list.iterfind("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is None:
            continue
        qualifiers = tuple(
            MeshQualifier(name=text_of(q), major=q.get("MajorTopicYN") == "Y")
            for q in heading.iterfind("QualifierName")
        )
        headings.append(
            MeshHeading(
                descriptor=text_of(descriptor),
                ui=descriptor.get("UI", ""),
                major=descriptor.get("MajorTopicYN") == "Y",
                qualifiers=qualifiers,
            )
        )
    return tuple(headings)


def _grants(grant_list: Element | None) -> tuple[Grant, ...]:
    if grant_list is None:
        return ()
    return tuple(
        Grant(
            grant_id=_findtext(g, "GrantID"),
            acronym=_findtext(g, "Acronym"),
            agency=_findtext(g, "Agency"),
            country=_findtext(g, "Country"),
        )
        for g in grant_list.iterfind("Grant")
    )


def _date(pub_date: Element | None) -> tuple[int | None, str]:
    """PubDate → (year, ISO date to the precision given); MedlineDate gives its first year."""
    if pub_date is None:
        return None, ""
    year = _findtext(pub_date, "Year")
    if not year.isdigit():
        match = _YEAR.search(_findtext(pub_date, "MedlineDate"))
        return (int(match.group(1)), match.group(1)) if match else (None, "")
    month = _month(_findtext(pub_date, "Month"))
    day = _findtext(pub_date, "Day")
    if not month:
        return int(year), year
    if day.isdigit():
        return int(year), f"{year}-{month}-{int(day):02d}"
    return int(year), f"{year}-{month}"


def _article_date(article_date: Element | None) -> tuple[int | None, str]:
    if article_date is None:
        return None, ""
    return _date(article_date)


def _month(raw: str) -> str:
    if raw.isdigit() and 1 <= int(raw) <= 12:
        return f"{int(raw):02d}"
    return _MONTHS.get(raw.strip().lower(), "")
