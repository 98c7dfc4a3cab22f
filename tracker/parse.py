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
from typing import BinaryIO

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
    # libxml2's own text serialiser is about twice as fast as joining itertext() in Python.
    text = etree.tostring(element, method="text", encoding=str, with_tail=False)
    return " ".join(text.split())


def _plain(element: Element | None) -> str:
    """Text of a field that never holds markup (names, dates, volume): no descent needed."""
    text = element.text if element is not None else None
    return " ".join(text.split()) if text else ""


def _children(element: Element | None) -> dict[str, Element]:
    """The first child of each tag, found in one pass: cheaper than one find() per field."""
    found: dict[str, Element] = {}
    if element is not None:
        for child in element:
            found.setdefault(child.tag, child)
    return found


def _texts(element: Element | None, tag: str) -> tuple[str, ...]:
    """Non-empty texts of the children named ``tag``, in document order."""
    if element is None:
        return ()
    return tuple(t for t in (text_of(e) for e in element.iterchildren(tag)) if t)


def _abstract(abstract: Element | None) -> str:
    """Sections in order, one per line, ``"LABEL: text"`` when the section is labelled."""
    if abstract is None:
        return ""
    sections = []
    for part in abstract.iterchildren("AbstractText"):
        body = text_of(part)
        label = (part.get("Label") or "").strip()
        if body:
            sections.append(f"{label}: {body}" if label else body)
    return "\n".join(sections)


def _line(element: Element) -> int | None:
    line = getattr(element, "sourceline", None)  # lxml-stubs mistype it
    return line if isinstance(line, int) else None


def _pmid(element: Element | None, name: str) -> int:
    raw = _plain(element)
    if not raw.isdigit():
        line = _line(element) if element is not None else None
        raise ParseError(f"a record has no valid PMID ({raw!r}); {_ADVICE}", source=name, line=line)
    return int(raw)


# -- records ---------------------------------------------------------------------------------


def _article(element: Element, name: str) -> Article:
    record = _children(element)
    citation = record.get("MedlineCitation")
    if citation is None:
        raise ParseError(
            f"a PubmedArticle has no MedlineCitation; {_ADVICE}",
            source=name,
            line=_line(element),
        )
    fields = _children(citation)
    article = fields.get("Article")
    parts = _children(article)
    journal = _children(parts.get("Journal"))
    issue = _children(journal.get("JournalIssue"))
    ids = _article_ids(_children(record.get("PubmedData")).get("ArticleIdList"))
    year, pub_date = _date(issue.get("PubDate"))
    if year is None:
        year, pub_date = _date(parts.get("ArticleDate"))
    return Article(
        pmid=_pmid(fields.get("PMID"), name),
        title=text_of(parts.get("ArticleTitle")),
        abstract=_abstract(parts.get("Abstract")),
        authors=_authors(parts.get("AuthorList")),
        journal=_plain(journal.get("Title")),
        journal_abbrev=_plain(journal.get("ISOAbbreviation"))
        or _plain(_children(fields.get("MedlineJournalInfo")).get("MedlineTA")),
        year=year,
        pub_date=pub_date,
        volume=_plain(issue.get("Volume")),
        issue=_plain(issue.get("Issue")),
        pages=_pages(parts.get("Pagination")),
        issn=_plain(journal.get("ISSN")),
        doi=ids.get("doi") or _elocation_doi(article),
        pmcid=ids.get("pmc", ""),
        publication_types=_texts(parts.get("PublicationTypeList"), "PublicationType"),
        mesh=_mesh(fields.get("MeshHeadingList")),
        keywords=_keywords(citation),
        languages=_texts(article, "Language"),
        grants=_grants(parts.get("GrantList")),
        vernacular_title=text_of(parts.get("VernacularTitle")),
    )


def _book(element: Element, name: str) -> Article:
    document = element.find("BookDocument")
    if document is None:
        raise ParseError(
            f"a PubmedBookArticle has no BookDocument; {_ADVICE}",
            source=name,
            line=_line(element),
        )
    parts = _children(document)
    book = _children(parts.get("Book"))
    ids = _article_ids(element.find("PubmedBookData/ArticleIdList"))
    year, pub_date = _date(book.get("PubDate"))
    chapter = text_of(parts.get("ArticleTitle"))
    book_title = text_of(book.get("BookTitle"))
    publisher = _plain(_children(book.get("Publisher")).get("PublisherName"))
    return Article(
        pmid=_pmid(parts.get("PMID"), name),
        title=chapter or book_title,
        abstract=_abstract(parts.get("Abstract")),
        authors=_authors(parts.get("AuthorList")) or _authors(book.get("AuthorList")),
        journal=book_title if chapter else publisher,
        year=year,
        pub_date=pub_date,
        doi=ids.get("doi", ""),
        pmcid=ids.get("pmc", ""),
        publication_types=_texts(document, "PublicationType"),
        keywords=_keywords(document),
        languages=_texts(document, "Language"),
        grants=_grants(parts.get("GrantList")),
        record_type="chapter" if chapter else "book",
    )


def _keywords(owner: Element) -> tuple[str, ...]:
    """Keywords of every KeywordList (a record may have one per owner: NLM, NOTNLM...)."""
    found: list[str] = []
    for keyword_list in owner.iterchildren("KeywordList"):
        found += _texts(keyword_list, "Keyword")
    return tuple(found)


def _article_ids(id_list: Element | None) -> dict[str, str]:
    """The record's own ids by type; DOIs lower-cased (they are case-insensitive)."""
    ids: dict[str, str] = {}
    if id_list is None:
        return ids
    for item in id_list.iterchildren("ArticleId"):
        kind, value = item.get("IdType", ""), _plain(item)
        if value and kind not in ids:
            ids[kind] = value.lower() if kind == "doi" else value
    return ids


def _elocation_doi(article: Element | None) -> str:
    if article is None:
        return ""
    for location in article.iterchildren("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") == "Y":
            return _plain(location).lower()
    return ""


def _pages(pagination: Element | None) -> str:
    parts = _children(pagination)
    medline = _plain(parts.get("MedlinePgn"))
    if medline:
        return medline
    start, end = _plain(parts.get("StartPage")), _plain(parts.get("EndPage"))
    return f"{start}-{end}" if start and end else start


def _authors(author_list: Element | None) -> tuple[Author, ...]:
    if author_list is None:
        return ()
    authors: list[Author] = []
    for item in author_list.iterchildren("Author"):
        if item.get("ValidYN", "Y") != "Y":
            continue
        parts = _children(item)  # a long author list is the hot spot of a PubMed record
        # Affiliations of the first author only: a 4,000-author list stays small.
        affiliations = () if authors else _affiliations(item)
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


def _affiliations(author: Element) -> tuple[str, ...]:
    found: list[str] = []
    for info in author.iterchildren("AffiliationInfo"):
        found += _texts(info, "Affiliation")
    return tuple(found)


def _mesh(heading_list: Element | None) -> tuple[MeshHeading, ...]:
    if heading_list is None:
        return ()
    headings = []
    for heading in heading_list.iterchildren("MeshHeading"):
        descriptor, qualifiers = None, []
        for part in heading:  # one pass: DescriptorName then its QualifierNames
            if part.tag == "QualifierName":
                qualifiers.append(MeshQualifier(_plain(part), part.get("MajorTopicYN") == "Y"))
            elif part.tag == "DescriptorName" and descriptor is None:
                descriptor = part
        if descriptor is not None:
            headings.append(
                MeshHeading(
                    descriptor=_plain(descriptor),
                    ui=descriptor.get("UI", ""),
                    major=descriptor.get("MajorTopicYN") == "Y",
                    qualifiers=tuple(qualifiers),
                )
            )
    return tuple(headings)


def _grants(grant_list: Element | None) -> tuple[Grant, ...]:
    if grant_list is None:
        return ()
    grants = []
    for grant in grant_list.iterchildren("Grant"):
        parts = _children(grant)
        grants.append(
            Grant(
                grant_id=_plain(parts.get("GrantID")),
                acronym=_plain(parts.get("Acronym")),
                agency=_plain(parts.get("Agency")),
                country=_plain(parts.get("Country")),
            )
        )
    return tuple(grants)


def _date(date: Element | None) -> tuple[int | None, str]:
    """PubDate → (year, ISO date to the precision given); MedlineDate gives its first year."""
    parts = _children(date)
    year = _plain(parts.get("Year"))
    if not year.isdigit():
        match = _YEAR.search(_plain(parts.get("MedlineDate")))
        return (int(match.group(1)), match.group(1)) if match else (None, "")
    month = _month(_plain(parts.get("Month")))
    day = _plain(parts.get("Day"))
    if not month:
        return int(year), year
    if day.isdigit():
        return int(year), f"{year}-{month}-{int(day):02d}"
    return int(year), f"{year}-{month}"


def _month(raw: str) -> str:
    if raw.isdigit() and 1 <= int(raw) <= 12:
        return f"{int(raw):02d}"
    return _MONTHS.get(raw.lower(), "")
