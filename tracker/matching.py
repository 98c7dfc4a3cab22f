"""Records found in several databases: which are one record, which are only related.

Rules, in order; a pair keeps the first rule that finds it:

1. ``same DOI`` and 2. ``same PMID``: automatic when the two titles agree (a DOI shared by
   records with different titles, as a conference supplement's DOI is, waits for a person);
3. ``same NCT number``: two *registrations* with one number are one trial (automatic);
4. ``same title, year, first author, journal and first page``: automatic (titles compared by
   :func:`~tracker.match_keys.title_key`, journals by name or abbreviation);
5. ``same title`` with something else differing, and 6. ``similar title`` (difflib ratio of
   at least :data:`SIMILAR_TITLE`, same year give or take one): they wait for a person;
7. records of one trial that no rule above joined are *related*, never duplicates: an
   article naming a registration's NCT number, two reports naming one, and an article whose
   PMID the registration lists among its references (``listed by the registration``).

Only ``automatic`` duplicates may be merged without a person: bench/matching_bench.py measures
them on labelled data, and a rule that ever merges two different records moves to ``review``.
Blocking keeps this fast: identifiers and title keys are hashed, and similar titles are only
compared within blocks sharing their first or last three words (100,000 records in seconds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations
from typing import TypeVar

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from tracker.match_keys import (
    BOUND_MARGIN,
    family_key,
    first_page,
    is_stock_title,
    journal_words,
    journals_agree,
    title_key,
    title_similarity,
)
from tracker.source_record import RecordKind, SourceRecord

SIMILAR_TITLE = 0.9
"""The least title similarity worth a person's look: below it, pairs are mostly different
papers on one topic; above it, the same paper spelled or cut differently."""
AGREEING_TITLES = 0.7
"""Titles this alike let a shared DOI or PMID merge without a person (translations, subtitles
and case differ; a supplement's shared DOI joins titles that have nothing in common)."""
MATCH_COLUMNS = ["left", "right", "relation", "rule", "confidence", "detail"]
TABLE_COLUMNS = ["id", "title", "year", "first_author", "journal", "journal_abbrev", "pages",
                 "doi", "pmid", "nct", "kind", "linked_pmids"]  # fmt: skip
Key = TypeVar("Key", str, int)
_BLOCK_CAP = 200  # a block this large (a stock title opening) is split by year


class Relation(StrEnum):
    DUPLICATE = "duplicate"
    RELATED = "related"


class Confidence(StrEnum):
    AUTOMATIC = "automatic"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class _Keys:
    """One record's comparison keys, computed once."""

    title: str
    words: int
    year: int | None
    author: str
    journals: tuple[tuple[str, ...], ...]
    page: str
    kind: str


Found = dict[tuple[int, int], tuple[Relation, str, Confidence, str]]


def match_table(records: Sequence[SourceRecord], ids: Sequence[str]) -> pd.DataFrame:
    """The matcher's input: one row per record, under the caller's ids (the store's keys)."""
    rows = [
        (key, r.title, r.year, r.first_author, r.journal, r.journal_abbrev, r.pages, r.doi,
         r.pmid, r.nct, r.kind.value, r.linked_pmids)
        for key, r in zip(ids, records, strict=True)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=TABLE_COLUMNS).astype({"year": "Int64", "pmid": "Int64"})


def find_matches(
    table: pd.DataFrame, *, similar: bool = True, apart: Sequence[str] | None = None
) -> pd.DataFrame:
    """Pairs (left, right) of :data:`MATCH_COLUMNS`, in table order, each with its rule.

    ``similar=False`` leaves out the similar-title rule: it only ever finds pairs for a
    person, and is the one rule whose cost grows with how alike a library's titles are, so a
    pass that only merges what is certain (an import's) skips it. ``apart`` (one value per
    row, say its source) limits that rule to pairs whose values differ, for a caller that
    keeps only those.
    """
    ids = table["id"].astype(str).tolist()
    keys = _all_keys(table)
    found: Found = {}
    for column, rule in (("doi", "same DOI"), ("pmid", "same PMID")):
        _same_identifier(_values(table, column), keys, rule, found)
    _same_registration(table, keys, found)
    _same_title(keys, found)
    if similar:
        _similar_title(keys, found, apart)
    _one_trial(table, found)
    rows = [(ids[i], ids[j], *match) for (i, j), match in sorted(found.items())]
    return pd.DataFrame(rows, columns=MATCH_COLUMNS)


def duplicate_groups(matches: pd.DataFrame, *, include_review: bool = False) -> list[list[str]]:
    """Records that are one record, as groups (union of automatic duplicate pairs, and of
    review pairs too when asked), each sorted, groups sorted by their first id."""
    chosen = matches[matches["relation"] == Relation.DUPLICATE]
    if not include_review:
        chosen = chosen[chosen["confidence"] == Confidence.AUTOMATIC]
    return joined(zip(chosen["left"], chosen["right"], strict=True))


def joined(pairs: Iterable[tuple[Key, Key]]) -> list[list[Key]]:
    """The groups that pairs join (union-find with path halving), each sorted, groups sorted
    by their first member."""
    parent: dict[Key, Key] = {}

    def root(item: Key) -> Key:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for left, right in pairs:
        parent[root(left)] = root(right)
    groups: dict[Key, list[Key]] = defaultdict(list)
    for item in parent:
        groups[root(item)].append(item)
    return sorted(sorted(group) for group in groups.values())


def _all_keys(table: pd.DataFrame) -> list[_Keys]:
    """Every row's keys; columns are read as plain lists once (iterating pandas is slow)."""
    columns = {name: _column(table, name) for name in TABLE_COLUMNS}
    return [
        _Keys(
            title=(title := title_key(_plain(t))), words=len(title.split()),
            year=int(y) if y is not None and not pd.isna(y) else None,
            author=family_key(_plain(a)),
            journals=tuple(w for name in (j, ja) if (w := journal_words(_plain(name)))),
            page=first_page(_plain(p)), kind=_plain(k) or RecordKind.ARTICLE.value,
        )
        for t, y, a, j, ja, p, k in zip(
            columns["title"], columns["year"], columns["first_author"], columns["journal"],
            columns["journal_abbrev"], columns["pages"], columns["kind"], strict=True)
    ]  # fmt: skip


def _column(table: pd.DataFrame, name: str) -> list[object]:
    return table[name].tolist() if name in table else [None] * len(table)


def _plain(value: object) -> str:
    return value if isinstance(value, str) else ""


def _values(table: pd.DataFrame, column: str) -> list[str]:
    if column not in table:
        return [""] * len(table)
    return [_text(value) for value in table[column].tolist()]


def _text(value: object) -> str:
    """An identifier as text: ``""`` when missing, ``"123"`` for a PMID read as 123.0."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().casefold()


def _groups(values: Iterable[str]) -> Iterable[list[int]]:
    """Positions sharing each non-empty value, for values held by more than one record."""
    where: dict[str, list[int]] = defaultdict(list)
    for position, value in enumerate(values):
        if value and value not in ("0", "nan", "<na>"):
            where[value].append(position)
    return (group for group in where.values() if len(group) > 1)


def _same_identifier(values: list[str], keys: list[_Keys], rule: str, found: Found) -> None:
    for group in _groups(values):
        for i, j in combinations(group, 2):
            left, right = keys[i].title, keys[j].title
            agree = bool(left and right) and (
                left.startswith(right) or right.startswith(left)
                or title_similarity(left, right, floor=AGREEING_TITLES) >= AGREEING_TITLES
            )  # fmt: skip
            confidence = Confidence.AUTOMATIC if agree else Confidence.REVIEW
            detail = "" if agree else "titles differ"
            found.setdefault((i, j), (Relation.DUPLICATE, rule, confidence, detail))


def _same_registration(table: pd.DataFrame, keys: list[_Keys], found: Found) -> None:
    """Two registrations with one NCT number are one trial."""
    trial = RecordKind.TRIAL.value
    for group in _groups(_values(table, "nct")):
        for i, j in combinations(group, 2):
            if keys[i].kind == trial and keys[j].kind == trial:
                match = (Relation.DUPLICATE, "same NCT number", Confidence.AUTOMATIC, "")
                found.setdefault((i, j), match)


def _one_trial(table: pd.DataFrame, found: Found) -> None:
    """Records of one trial that no rule found to be one record: related, never merged."""
    for group in _groups(_values(table, "nct")):
        for pair in combinations(group, 2):
            found.setdefault(pair, (Relation.RELATED, "same NCT number", Confidence.AUTOMATIC, ""))
    if "linked_pmids" not in table:
        return
    by_pmid = {value: i for i, value in enumerate(_values(table, "pmid")) if value}
    for i, linked in enumerate(table["linked_pmids"]):
        for pmid in linked if isinstance(linked, tuple | list) else ():
            other = by_pmid.get(str(pmid))
            if other is not None and other != i:
                found.setdefault((min(i, other), max(i, other)), (
                    Relation.RELATED, "listed by the registration", Confidence.AUTOMATIC,
                    f"PMID {pmid}"))  # fmt: skip


def _same_title(keys: list[_Keys], found: Found) -> None:
    for group in _groups(k.title for k in keys):
        for block in _split(group, keys):
            for i, j in combinations(block, 2):
                match = _judge_same_title(keys[i], keys[j])
                if match is not None:
                    found.setdefault((i, j), match)


def _judge_same_title(a: _Keys, b: _Keys) -> tuple[Relation, str, Confidence, str] | None:
    if a.kind != b.kind:
        return None
    same_year = a.year is not None and a.year == b.year
    same_author = bool(a.author) and a.author == b.author
    journal = any(journals_agree(x, y) for x in a.journals for y in b.journals)
    page = bool(a.page) and a.page == b.page
    if same_year and same_author and journal and page and not is_stock_title(a.title):
        rule = "same title, year, first author, journal and first page"
        return Relation.DUPLICATE, rule, Confidence.AUTOMATIC, ""
    near_year = a.year is None or b.year is None or abs(a.year - b.year) <= 1
    author_ok = same_author or not a.author or not b.author
    if (near_year and author_ok) or (a.words >= 6 and (same_author or same_year or author_ok)):
        differs = [name for name, same in (("year", same_year), ("first author", same_author),
                                           ("journal", journal), ("first page", page))
                   if not same]  # fmt: skip
        detail = "differ or missing: " + ", ".join(differs) if differs else "short title"
        return Relation.DUPLICATE, "same title", Confidence.REVIEW, detail
    return None


def _similar_title(keys: list[_Keys], found: Found, apart: Sequence[str] | None = None) -> None:
    """Pairs whose titles share their first or last three words and are nearly the same.

    Each block's titles are scored against each other at once by RapidFuzz (C++), and only
    the pairs whose upper bound reaches :data:`SIMILAR_TITLE` are judged in Python: a library
    of stock titles ("Intranasal esketamine for ...: a study of N patients") has millions of
    pairs in its blocks, nearly all far below it (100,000 such records: 4 minutes before, see
    bench/matching_bench.py)."""
    blocks: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for position, key in enumerate(keys):
        words = key.title.split()
        if len(words) >= 4:
            blocks[("first", *words[:3])].append(position)
            blocks[("last", *words[-3:])].append(position)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        for block in _split(members, keys) if len(members) > 1 else ():
            for i, j in _near_pairs(block, keys, apart):
                if (i, j) in found or (i, j) in seen:
                    continue
                seen.add((i, j))
                match = _judge_similar(keys[i], keys[j])
                if match is not None:
                    found[(i, j)] = match


def _near_pairs(
    block: list[int], keys: list[_Keys], apart: Sequence[str] | None = None
) -> list[tuple[int, int]]:
    """The pairs of a block (in the order of :func:`itertools.combinations`) whose titles'
    upper bound (:func:`similarity_bound`) reaches :data:`SIMILAR_TITLE`, and whose ``apart``
    values differ when it is given."""
    titles = [keys[position].title for position in block]
    cutoff = max(0.0, (SIMILAR_TITLE - BOUND_MARGIN) * 100)
    scores = process.cdist(titles, titles, scorer=fuzz.ratio, processor=None, score_cutoff=cutoff)
    near = np.triu(scores >= cutoff, k=1)
    if apart is not None:
        values = np.array([apart[position] for position in block], dtype=object)
        near &= values[:, None] != values[None, :]
    rows, columns = np.nonzero(near)
    return [(block[a], block[b]) for a, b in zip(rows.tolist(), columns.tolist(), strict=True)]


def _judge_similar(a: _Keys, b: _Keys) -> tuple[Relation, str, Confidence, str] | None:
    if a.kind != b.kind or a.title == b.title:
        return None
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return None
    if a.author and b.author and a.author != b.author:
        return None
    similarity = title_similarity(a.title, b.title, floor=SIMILAR_TITLE)
    if similarity < SIMILAR_TITLE:
        return None
    return Relation.DUPLICATE, "similar title", Confidence.REVIEW, f"similarity {similarity:.2f}"


def _split(members: list[int], keys: list[_Keys]) -> list[list[int]]:
    """A block as is, or split by year when it is too large to compare pair by pair."""
    if len(members) <= _BLOCK_CAP:
        return [members]
    by_year: dict[int | None, list[int]] = defaultdict(list)
    for position in members:
        by_year[keys[position].year].append(position)
    return [block[:_BLOCK_CAP] for block in by_year.values() if len(block) > 1]
