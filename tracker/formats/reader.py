"""One entry point for every export: :func:`read_file` sniffs, decodes and reads a whole file.

A file over :data:`MAX_IMPORT_BYTES` is refused from its size alone, before a byte is read:
the largest real exports (Embase's 10,000-record RIS with abstracts, Web of Science's full
records with cited references) stay well under it, and a bigger file is more likely a wrong
file than an export. Every other refusal (binary, damaged, cut off, no title column, unknown
shape) is an :class:`~tracker.formats.refusal.ImportRefusedError` naming the file and the line, and
comes before any record is returned, so a caller that stores only what ``read_file`` returns
stores nothing from a bad file.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tracker.errors import ParseError
from tracker.formats.medline import read_medline
from tracker.formats.refusal import FileTooLargeError, ImportRefusedError
from tracker.formats.ris import read_ris
from tracker.formats.screening_tools import read_asreview, read_covidence, read_rayyan
from tracker.formats.sniff import Format, decode, sniff
from tracker.formats.tabular import read_scopus_csv, read_wos_tab
from tracker.parse import ParseResult, read_articles
from tracker.records import Article
from tracker.source_record import AccessionKind, ImportResult, SourceRecord, find_nct_numbers

MAX_IMPORT_BYTES = 100 * 2**20
"""The largest file read (100 MiB): ten times a 10,000-record Embase RIS export with abstracts."""

Records = tuple[list[SourceRecord], list[str]]
_PLAIN_READERS: dict[Format, Callable[..., list[SourceRecord]]] = {
    Format.RIS: read_ris,
    Format.MEDLINE: read_medline,
    Format.WOS_TAB: read_wos_tab,
    Format.SCOPUS_CSV: read_scopus_csv,
}
_TOOL_READERS: dict[Format, Callable[..., Records]] = {
    Format.RAYYAN_CSV: read_rayyan,
    Format.COVIDENCE_CSV: read_covidence,
    Format.ASREVIEW_CSV: read_asreview,
}


def read_file(
    path: str | os.PathLike[str], *, source: str | None = None, max_bytes: int = MAX_IMPORT_BYTES
) -> ImportResult:
    """Every record of one export, with the format found from its content; or ImportRefusedError.

    ``source`` names the database the records came from ("Embase"), overriding what the
    records themselves say; without it each reader names the source it recognises.
    """
    file = Path(path)
    data = _contents(file, max_bytes)
    text, warnings = decode(data, file)
    found = sniff(text, file)
    parsed = _pubmed_xml(file) if found is Format.PUBMED_XML else ParseResult(())
    if found is Format.PUBMED_XML:
        records = [from_article(a, file.name, source or "PubMed") for a in parsed.articles]
    elif found in _TOOL_READERS:
        records, more = _TOOL_READERS[found](text, file, source=source)
        warnings += more
    else:
        records = _PLAIN_READERS[found](text, file, source=source)
    if not records:
        raise ImportRefusedError(file, "the file holds no record", expected=str(found))
    if source is None and not all(record.source for record in records):
        warnings.append("some records do not say which database they came from: name it")
    return ImportResult(
        file, str(found), source or _most_common(records), tuple(records), tuple(warnings),
        tuple(parsed.articles), tuple(parsed.deleted),
    )  # fmt: skip


def _contents(file: Path, max_bytes: int) -> bytes:
    """The file's bytes; its size is measured from the open file first, so a file over the cap
    is refused before any of it is read."""
    try:
        with file.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size > max_bytes:
                raise FileTooLargeError(file, size, max_bytes)
            handle.seek(0)
            return handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ImportRefusedError(file, "no such file (or it is a folder)",
                                 expected="a file") from exc  # fmt: skip
    except OSError as exc:
        raise ImportRefusedError(file, f"cannot read the file ({exc.strerror})",
                                 expected="a readable file") from exc  # fmt: skip


def _most_common(records: list[SourceRecord]) -> str:
    counts = Counter(record.source for record in records if record.source)
    return counts.most_common(1)[0][0] if counts else ""


def _pubmed_xml(file: Path) -> ParseResult:
    try:
        return read_articles(file)
    except ParseError as exc:
        raise ImportRefusedError(
            file, str(exc).removeprefix(f"{file}: "), line=exc.line, expected=str(Format.PUBMED_XML)
        ) from exc


def from_article(article: Article, origin: str, source: str = "PubMed") -> SourceRecord:
    """A PubMed record as a SourceRecord, so every source reaches the matcher in one shape."""
    trials = find_nct_numbers(article.abstract)
    return SourceRecord(
        source=source,
        format=str(Format.PUBMED_XML),
        origin=origin,
        title=article.title,
        abstract=article.abstract,
        authors=article.authors,
        year=article.year,
        journal=article.journal,
        journal_abbrev=article.journal_abbrev,
        volume=article.volume,
        issue=article.issue,
        pages=article.pages,
        issn=article.issn,
        doi=article.doi.casefold(),
        pmid=article.pmid,
        pmcid=article.pmcid,
        url=article.url,
        accessions={AccessionKind.NCT: trials[0]} if trials else {},
        keywords=article.keywords,
        publication_types=article.publication_types,
        language=article.languages[0] if article.languages else "",
    )
