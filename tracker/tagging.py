"""Evidence tags: what a study is, from its publication types, MeSH terms and text.

Every tag carries the evidence that justified it (the field and the matching span), so a
reviewer can see why a record was tagged and overrule it. Indexing is trusted first; text cues
in the title and abstract fill in what indexing has not reached (new records carry no MeSH).

The vocabulary (which tags exist, their synonyms, the publication types and MeSH terms that
give them, the negation words) is data: tracker/vocabulary.toml, read by
:mod:`tracker.vocabulary`, which a library may override with its own edited copy. This module
is the machinery that runs it. Decisions, each made on purpose and tested in
tests/expected/tagging_cases.json and tests/expected/tagging_labels.json:
- "ketamine" inside esketamine, arketamine, S-ketamine or norketamine is not racemic ketamine,
  and neither is the phrase "the S-enantiomer of ketamine" that esketamine papers open with.
- An adverse effect is not tagged when a negation ("no", "not", "without", "absence of",
  "free of", "denied", "neither/nor") comes at most 50 characters before it in the same clause,
  unless "but"/"although"/"whereas" intervenes. "No difference in nausea" is therefore not a
  tag: we prefer missing a tag to inventing an adverse effect. For the same reason anxiety and
  fatigue, which are also outcomes and conditions, count only when reported as experienced or
  as adverse or side effects.
- Text that says "randomized trial" does not make a (systematic) review an RCT; text about rats
  or mice does not make a study preclinical when MeSH says "Humans". MeSH "Animals" without
  "Humans" is preclinical. "headache" is not an adverse effect of a headache study, and
  "other chronic pain" means chronic pain that none of the named conditions covers. A
  review's text names the designs of the studies it read, so they are not its own; nor are
  the designs a comment or an editorial names. A protocol reports no results: adverse
  effects in its text are planned outcomes, not findings.
- Sample size is the total the abstract states first: "a total of N", "N patients were
  randomized", "enrolled N"; failing those the first "n = N", then the first "N patients".
  Arms are not added up, and numbers written as words ("Sixty patients") are not read.
- Dose is the first amount stated next to a ketamine name ("0.5 mg/kg", "28 mg"), as written.
The sample-size and dose extractors stay here rather than in the vocabulary file: they are
machinery (named groups that carry the number, an order of tries), not words for a tag.

Cues are RE2 patterns run by Arrow over whole columns, a pass per cue on up to four threads;
100,000 typical records tag in seconds (bench/RESULTS.md, "Evidence tags").
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker.vocabulary import Cue, Vocabulary, load_vocabulary

_DEFAULT = load_vocabulary(None)  # the packaged file, read once: these views must be constants
FACETS: tuple[str, ...] = _DEFAULT.facet_names
FACET_VALUES: Mapping[str, tuple[str, ...]] = _DEFAULT.facet_values()
"""Every value each facet can take in the packaged vocabulary, in the order filters list them."""

_PEOPLE = r"(?:patients|participants|subjects|volunteers|individuals|people|persons|adults|children|adolescents|women|men|veterans|cases|rats|mice|animals)"
_ADJECTIVES = r"(?:(?:adult|critically|ill|consecutive|eligible|evaluable|hospitali[sz]ed|female|male|healthy|elderly|older|outpatients?|inpatients?|pediatric|paediatric|additional|unique|chronic|pain|cancer|surgical|postoperative|opioid-tolerant|treatment-resistant)\s+){0,2}"
_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
_DOSE = r"\b\d+(?:\.\d+)?(?:,\s?\d+(?:\.\d+)?)*(?:\s?(?:-|–|to|or|and)\s?\d+(?:\.\d+)?)?\s?(?:mg|µg|μg|mcg|ug)(?:\s?(?:/|·|per\s)\s?(?:kg|ml)(?:\s?(?:-1|−1))?)?(?:\s?(?:/|·|per\s)\s?(?:h|hr|hour|min|day)(?:\s?(?:-1|−1))?\b)?"
_KETAMINES = r"(?:ketamine|ketalar|spravato)"
_SAMPLE_SIZES = (  # tried in order; the first that a record states wins
    rf"\ba total of (?P<a>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\b|\b(?P<b>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\s+(?:were|was|had been|have been)\s+(?:randomi[sz]ed|enrolled|included|recruited|allocated|assigned|studied|analy[sz]ed)\b|\b(?:randomi[sz]ed|enrolled|included|recruited|studied)\s+(?P<c>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\b|\b(?P<d>{_NUMBER})\s+(?:were|was)\s+randomi[sz]ed\b",
    rf"\bn\s?=\s?(?P<a>{_NUMBER})\b",
    rf"(?:^|[^\w/-])(?P<span>(?P<a>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\b)",  # not "C57BL/6 mice"
)
_DOSES = (
    rf"{_KETAMINES}[^.;]{{0,50}}?(?P<a>{_DOSE})",
    rf"(?P<a>{_DOSE})[^.;]{{0,30}}?{_KETAMINES}",
)


class _Tables(NamedTuple):
    """A vocabulary arranged for scanning, built once per vocabulary file."""

    facets: tuple[str, ...]
    values: Mapping[str, tuple[str, ...]]
    groups: tuple[tuple[Cue, ...], ...]
    """Per facet, its text cues."""
    unless: Mapping[tuple[str, str], tuple[str, str]]
    """Per tag with an ``unless``: (its cues as one pattern, the ``unless`` pattern)."""
    publication_types: Mapping[str, tuple[str, str]]
    mesh: Mapping[str, tuple[str, str]]
    chemically_induced: Mapping[str, tuple[str, str]]
    cancelled: tuple[tuple[tuple[str, str], bool, frozenset[tuple[str, str]]], ...]
    """(tag, only when it came from text, tags that cancel it)."""
    commentary: tuple[str, ...]
    negated: str
    released: str
    window: int


_TABLES: dict[str, _Tables] = {}


def _tables(vocabulary: Vocabulary | None) -> _Tables:
    vocabulary = vocabulary or _DEFAULT
    key = f"{vocabulary.path}:{vocabulary.fingerprint}"
    if key not in _TABLES:
        cues = vocabulary.cues()
        negation = vocabulary.negation
        _TABLES[key] = _Tables(
            facets=vocabulary.facet_names,
            values=vocabulary.facet_values(),
            groups=tuple(tuple(c for c in cues if c.facet == f) for f in vocabulary.facet_names),
            unless={
                (v.facet, v.name): ("|".join(_plain(c.pattern) for c in v.cues()), v.unless)
                for v in vocabulary.values()
                if v.unless
            },
            publication_types=vocabulary.publication_types(),
            mesh=vocabulary.mesh(),
            chemically_induced=vocabulary.chemically_induced(),
            cancelled=tuple(
                ((v.facet, v.name), text_only, frozenset(by))
                for v in vocabulary.values()
                for text_only, by in ((False, v.cancelled_by), (True, v.cancelled_in_text_by))
                if by
            ),
            commentary=vocabulary.commentary,
            negated=negation.negated,
            released=negation.released,
            window=negation.reach + max(len(word) for word in negation.words),
        )
    return _TABLES[key]


_T = TypeVar("_T")
_PARALLEL_FROM = 5_000
"""Below this many records, threads cost more than they save."""


@dataclass
class _Finding:
    """The records one source tagged with one value, and the span that justified each.

    For sample size and dose, ``values`` holds each record's own value (the number, the dose).
    """

    facet: str
    value: str
    field: str
    rows: np.ndarray
    spans: list[str]
    values: list[str] | None = None

    def drop(self, mask: np.ndarray) -> None:
        """Forget the records where ``mask`` (one bool per record) is set."""
        keep = ~mask[self.rows]
        self.rows = self.rows[keep]
        self.spans = [s for s, k in zip(self.spans, keep, strict=True) if k]
        if self.values is not None:
            self.values = [v for v, k in zip(self.values, keep, strict=True) if k]


class _Field(NamedTuple):
    """Some records' title or abstract: the record rows and their text, in the same order."""

    name: str
    rows: np.ndarray
    text: pa.Array

    def where(self, keep: np.ndarray | pa.Array) -> _Field:
        return _Field(self.name, self.rows[np.asarray(keep, dtype=bool)], self.text.filter(keep))


class _Terms(NamedTuple):
    """An indexing list column flattened: each term, and the record row it belongs to."""

    rows: np.ndarray
    terms: pa.Array

    def having(self, term: str, size: int) -> np.ndarray:
        return _mask(self.rows[pc.equal(self.terms, term).to_numpy(zero_copy_only=False)], size)


def tag_vocabulary(vocabulary: Vocabulary | None = None) -> dict[str, list[str]]:
    """Every value each facet can take, for building filter widgets."""
    return {facet: list(values) for facet, values in _tables(vocabulary).values.items()}


def tag_record(
    title: str,
    abstract: str,
    publication_types: Iterable[str],
    mesh_terms: Iterable[str],
    mesh_qualified: Iterable[str] = (),
    *,
    vocabulary: Vocabulary | None = None,
) -> dict[str, Any]:
    """The tags of one record, with the evidence behind each: one row of :func:`evidence`."""
    one = pd.DataFrame({
        "pmid": [0], "title": [title], "abstract": [abstract],
        "publication_types": [list(publication_types)], "mesh_terms": [list(mesh_terms)],
        "mesh_qualified": [list(mesh_qualified)],
    })  # fmt: skip
    row = evidence(one, vocabulary=vocabulary).iloc[0]
    tags: dict[str, Any] = {facet: row[facet] for facet in _tables(vocabulary).facets}
    size = row["sample_size"]
    tags["sample_size"] = None if pd.isna(size) else int(size)
    tags["dose"] = row["dose"]
    tags["evidence"] = row["evidence"]
    return tags


def evidence(
    records: pd.DataFrame,
    text: pd.Series | None = None,
    *,
    vocabulary: Vocabulary | None = None,
) -> pd.DataFrame:
    """Evidence tags for every record, indexed by PMID.

    Columns: one sorted list per facet (:data:`FACETS`), ``sample_size`` (Int64), ``dose``
    (str, "" when not stated), ``evidence`` (list of {facet, value, field, span}) and one
    boolean ``facet:value`` column per vocabulary value, which filters and charts use directly.
    ``text`` is accepted for older callers and not used: spans are taken from the original
    title and abstract, whose case the lower-cased search text has lost. ``vocabulary`` is
    the packaged one when ``None`` (see :func:`tracker.vocabulary.load_vocabulary`).
    """
    del text
    tables = _tables(vocabulary)
    size = len(records)
    fields = tuple(
        _Field(name, np.arange(size), _text_column(records, name)) for name in ("title", "abstract")
    )
    mesh, types = _flatten(records, "mesh_terms"), _flatten(records, "publication_types")
    findings = [
        *_indexed(types, tables.publication_types, "publication type"),
        *_indexed(mesh, tables.mesh, "MeSH"),
        *_indexed(_flatten(records, "mesh_qualified"), tables.chemically_induced, "MeSH"),
        *_preclinical(mesh, size),
        *_text_findings(tables, fields, size),
    ]
    _discount(tables, findings, fields)
    commentary = np.zeros(size, dtype=bool)
    for kind in tables.commentary:
        commentary |= types.having(kind, size)
    _suppress(tables, findings, humans=mesh.having("Humans", size), commentary=commentary)
    return _frame(tables, records, findings)


def _text_findings(tables: _Tables, fields: Sequence[_Field], size: int) -> list[_Finding]:
    """Every cue, sample size and dose found in titles and abstracts."""
    narrowed = _run([partial(_candidates, cues, fields) for cues in tables.groups], size)
    jobs: list[Callable[[], list[_Finding]]] = [
        partial(_cue_findings, tables, cue, near, size)
        for cues, near in zip(tables.groups, narrowed, strict=True)
        for cue in cues
    ]
    jobs.append(partial(_number_findings, "sample_size", _SAMPLE_SIZES, fields, size))
    jobs.append(partial(_number_findings, "dose", _DOSES, fields, size))
    return [finding for found in _run(jobs, size) for finding in found]


def flag_columns(frame: pd.DataFrame, facet: str) -> list[str]:
    """The boolean ``facet:value`` columns of an evidence frame."""
    return [c for c in frame.columns if c.startswith(f"{facet}:")]


def _run(jobs: Sequence[Callable[[], _T]], size: int) -> list[_T]:
    """Run the scans, in order. Arrow releases the GIL while it scans, so threads use every
    core on large frames; on small ones, handing work to threads costs more than it saves."""
    if size < _PARALLEL_FROM or (os.cpu_count() or 1) == 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda job: job(), jobs))


def _text_column(records: pd.DataFrame, name: str) -> pa.Array:
    values = records[name].astype(object)
    return pa.array(values.where(values.notna(), None).tolist(), type=pa.string())


def _mask(rows: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[rows] = True
    return mask


def _plain(pattern: str) -> str:
    return pattern.replace("(?P<span>", "(?:")


def _candidates(cues: Sequence[Cue], fields: Sequence[_Field]) -> tuple[_Field, ...]:
    """Each field narrowed to the records where any of a facet's cues matches: one pass per
    facet, so that each cue then scans only the records that may hold it."""
    narrowed = []
    for field in fields:
        patterns = [_plain(c.pattern) for c in cues if field.name == "title" or not c.title_only]
        hit = pc.match_substring_regex(field.text, pattern="(?i)" + "|".join(patterns))
        narrowed.append(field.where(pc.fill_null(hit, False)))
    return tuple(narrowed)


def _scan(field: _Field, pattern: str) -> tuple[np.ndarray, pa.StructArray]:
    """Positions in ``field`` where the pattern matches, and its named groups there.

    The leftmost match counts. The whole match is the group ``span`` unless the pattern
    names a narrower one.
    """
    if "(?P<span>" not in pattern:
        pattern = f"(?P<span>{pattern})"
    found = pc.extract_regex(field.text, pattern=f"(?i){pattern}")
    valid = found.is_valid()
    return np.flatnonzero(valid.to_numpy(zero_copy_only=False)), found.filter(valid)


def _cue_findings(tables: _Tables, cue: Cue, fields: Sequence[_Field], size: int) -> list[_Finding]:
    """A cue's findings: in the title, else in the abstract (one span per record)."""
    findings: list[_Finding] = []
    for field in fields:
        if cue.title_only and field.name != "title":
            continue
        if cue.facet == "adverse_effects":
            finding = _affirmed(tables, cue, field)
        else:
            at, found = _scan(field, cue.pattern)
            spans = found.field("span").to_pylist()
            finding = _Finding(cue.facet, cue.value, field.name, field.rows[at], spans)
        for earlier in findings:
            finding.drop(_mask(earlier.rows, size))
        findings.append(finding)
    return findings


def _affirmed(tables: _Tables, cue: Cue, field: _Field) -> _Finding:
    """An adverse-effect cue's finding in one field, leaving out negated mentions."""
    before = rf"(?P<before>[^.;]{{0,{tables.window}}})"
    at, found = _scan(field, rf"{before}(?P<span>{cue.pattern})")
    spans = found.field("span").to_pylist()
    for index in np.flatnonzero(_negated(tables, found.field("before"))).tolist():
        text = str(field.text[at[index]])
        spans[index] = _later_affirmed(tables, text, cue.pattern, spans[index])
    said = np.array([bool(s) for s in spans], dtype=bool)
    kept = [s for s in spans if s]
    return _Finding(cue.facet, cue.value, field.name, field.rows[at[said]] if len(at) else at, kept)


def _negated(tables: _Tables, before: pa.Array) -> np.ndarray:
    """Per mention: does a negation end the text just before it, with no "but" since?"""
    negated = pc.match_substring_regex(before, pattern=tables.negated)
    released = pc.match_substring_regex(before, pattern=tables.released)
    both = pc.and_(negated, pc.invert(released))
    return np.asarray(both.to_numpy(zero_copy_only=False), dtype=bool)


def _later_affirmed(tables: _Tables, text: str, pattern: str, negated: str) -> str:
    """The first mention after a negated one that no negation governs, or "".

    Rare enough for Python's regex, which starts just after the negated mention.
    """
    start = text.find(negated) + 1
    for match in re.compile(pattern, flags=re.I).finditer(text, start):
        before = text[max(0, match.start() - tables.window) : match.start()]
        before = re.split(r"[.;]", before)[-1]
        if not re.search(tables.negated, before) or re.search(tables.released, before):
            return match.group(0)
    return ""


def _number_findings(
    facet: str, patterns: Sequence[str], fields: Sequence[_Field], size: int
) -> list[_Finding]:
    """Sample size or dose: per record, the first pattern (in order) that the abstract, else
    the title, states. Its value is whichever named group took part in the match."""
    findings: list[_Finding] = []
    taken = np.zeros(size, dtype=bool)
    for pattern in patterns:
        for field in reversed(fields):  # the abstract first
            field = field.where(~taken[field.rows])
            at, found = _scan(field, pattern)
            groups = [found.field(f.name).to_pylist() for f in found.type if f.name != "span"]
            values = [next(v for v in vs if v) for vs in zip(*groups, strict=True)]
            spans = found.field("span").to_pylist()
            findings.append(_Finding(facet, "", field.name, field.rows[at], spans, values))
            taken[field.rows[at]] = True
    return findings


def _flatten(records: pd.DataFrame, column: str) -> _Terms:
    if column not in records:
        return _Terms(np.zeros(0, dtype=np.int64), pa.array([], type=pa.string()))
    lists = pa.array(
        [list(v) if isinstance(v, list | tuple | np.ndarray) else [] for v in records[column]],
        type=pa.list_(pa.string()),
    )
    return _Terms(pc.list_parent_indices(lists).to_numpy(), pc.list_flatten(lists))


def _indexed(flat: _Terms, table: Mapping[str, tuple[str, str]], field: str) -> list[_Finding]:
    """Findings from publication types or MeSH: an exact term, looked up in a table."""
    names = list(table)
    terms = pc.replace_substring(flat.terms, pattern="*", replacement="")  # major-topic star
    index = pc.index_in(terms, value_set=pa.array(names, type=pa.string()))
    valid = index.is_valid().to_numpy(zero_copy_only=False)
    positions, parents = index.drop_null().to_numpy(), flat.rows[valid]
    findings = []
    for position in np.unique(positions).tolist():
        rows = np.unique(parents[positions == position])
        facet, value = table[names[position]]
        findings.append(_Finding(facet, value, field, rows, [names[position]] * len(rows)))
    return findings


def _preclinical(mesh: _Terms, size: int) -> list[_Finding]:
    """MeSH "Animals" without "Humans": NLM's own check tags say it is an animal study."""
    rows = np.flatnonzero(mesh.having("Animals", size) & ~mesh.having("Humans", size))
    return [_Finding("design", "preclinical", "MeSH", rows, ["Animals (no Humans)"] * len(rows))]


def _discount(tables: _Tables, findings: list[_Finding], fields: Sequence[_Field]) -> None:
    """Drop a cue's tag where its ``unless`` mentions are as many as its own."""
    for finding in findings:
        rule = tables.unless.get((finding.facet, finding.value))
        if rule is None or finding.field not in ("title", "abstract"):
            continue
        pattern, unless = rule
        said = np.zeros(len(finding.rows), dtype=np.int64)
        for field in fields:
            text = field.text.take(pa.array(finding.rows))
            said += _count_matches(text, pattern) - _count_matches(text, unless)
        finding.drop(_mask(finding.rows[said <= 0], len(fields[0].rows)))


def _count_matches(text: pa.Array, pattern: str) -> np.ndarray:
    found = pc.count_substring_regex(text, pattern=pattern, ignore_case=True)
    return np.asarray(pc.fill_null(found, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _suppress(
    tables: _Tables, findings: list[_Finding], *, humans: np.ndarray, commentary: np.ndarray
) -> None:
    """Drop tags that a stronger tag contradicts (see the module docstring)."""
    protocols = np.zeros(len(humans), dtype=bool)
    for finding in findings:
        from_text = finding.field in ("title", "abstract")
        if finding.facet == "design" and from_text:
            finding.drop(commentary)
        if (finding.facet, finding.value) == ("design", "preclinical") and from_text:
            finding.drop(humans)
        if (finding.facet, finding.value) == ("design", "protocol"):
            protocols[finding.rows] = True
    for finding in findings:
        if finding.facet == "adverse_effects" and finding.field in ("title", "abstract"):
            finding.drop(protocols)
    for tag, text_only, cancelled_by in tables.cancelled:
        mask = np.zeros(len(humans), dtype=bool)
        for finding in findings:
            if (finding.facet, finding.value) in cancelled_by:
                mask[finding.rows] = True
        for finding in findings:
            from_text = finding.field in ("title", "abstract")
            if (finding.facet, finding.value) == tag and (from_text or not text_only):
                finding.drop(mask)


def _frame(tables: _Tables, records: pd.DataFrame, findings: list[_Finding]) -> pd.DataFrame:
    """The evidence frame: facet lists, n, dose, evidence, then a flag per vocabulary value."""
    size = len(records)
    flags = {
        f"{f}:{v}": np.zeros(size, dtype=bool) for f in tables.facets for v in tables.values[f]
    }
    proof: list[list[dict[str, str]]] = [[] for _ in range(size)]
    numbers: dict[str, list[str]] = {"sample_size": [""] * size, "dose": [""] * size}
    for finding in findings:
        values = finding.values or [finding.value] * len(finding.rows)
        if finding.values is None:
            flags[f"{finding.facet}:{finding.value}"][finding.rows] = True
        else:
            for row, value in zip(finding.rows.tolist(), values, strict=True):
                numbers[finding.facet][row] = value
        for row, value, span in zip(finding.rows.tolist(), values, finding.spans, strict=True):
            proof[row].append(
                {"facet": finding.facet, "value": value, "field": finding.field, "span": span}
            )
    columns: dict[str, Any] = {
        facet: _lists(flags, tables.values[facet], facet, size) for facet in tables.facets
    }
    columns["sample_size"] = pd.array([_count(n) for n in numbers["sample_size"]], dtype="Int64")
    columns["dose"] = numbers["dose"]
    columns["evidence"] = proof
    columns.update(sorted(flags.items()))
    index = pd.Index(records["pmid"].astype("int64").to_numpy(), name="pmid")
    return pd.DataFrame(columns, index=index)


def _lists(
    flags: Mapping[str, np.ndarray], values: Sequence[str], facet: str, size: int
) -> list[list[str]]:
    """Per record, the sorted values of a facet whose flag is set."""
    lists: list[list[str]] = [[] for _ in range(size)]
    for value in sorted(values):
        for row in np.flatnonzero(flags[f"{facet}:{value}"]).tolist():
            lists[row].append(value)
    return lists


def _count(text: str) -> int | None:
    number = int(text.replace(",", "")) if text else 0
    return number if 0 < number < 10_000_000 else None
