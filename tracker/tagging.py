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
- An adverse effect counts only when the record reports it as happening with the intervention
  (issue #17). It is not tagged when a negation ("no", "not", "without", "absence of", "lack
  of", "free of", "denied", "neither/nor") comes at most 50 characters before it in the same
  clause, unless "but"/"although"/"whereas" intervenes, nor when it is an item of a list such a
  negation heads ("not associated with EPS, dystonia, akathisia or excessive sedation"): "No
  difference in nausea" is therefore not a tag, as we prefer missing a tag to inventing an
  adverse effect. Nor is it tagged when the words around it make it the condition studied
  ("patients with hypertension"), a symptom of it ("presented with tachycardia"), the effect
  sought ("to induce sedation", "procedural sedation"), a drug or a habit ("sedative intake") or
  the comparator's ("more common in the placebo group"; in a ketamine record, "more frequent
  after morphine" or "midazolam produced sedation"): the vocabulary's [effect_context]. Words
  that report it as an event ("the commonest adverse events were ...") outweigh that context but
  not a negation. An effect a title names is the record's topic, and does not count anywhere in
  the record, unless the title frames it as an effect ("ketamine-induced hallucinations") or
  names a drug. Anxiety and fatigue, which are also outcomes and conditions, count only when
  reported as experienced or as adverse or side effects. What the rules cannot tell: an effect
  the abstract attributes to no arm, a background sentence in the past tense, a comparator named
  only as "the other drug" or not named as the control, context given in an earlier sentence (a
  challenge drug that provoked the effect, a withdrawal state), a condition's symptoms counted
  at baseline; those are counted. A learned second opinion (tracker.effect_model) then vetoes
  the suggestions from text whose mentions a logistic regression, trained on the hand-labelled
  tuning records, scores below its threshold; the suggestions it keeps keep the rules' spans.
  It is asked only about records that name none of the vocabulary's drugs, like those it was
  trained on.
- A record's own design wins over the designs it mentions: its publication types, its title and
  its own wording ("patients were randomised", "this review", "we searched MEDLINE") count; each
  design's `unless` names the mentions ("several randomised trials have shown", "randomly
  selected", "animal studies suggest"), which are blanked out before its cues are sought, so a
  mention neither makes the design nor cancels the record's own words for it. Text that says
  "randomized trial" does not make a (systematic) review, a guideline or a model an RCT; text
  about rats or mice does not make a study preclinical when MeSH says "Humans" or the abstract
  counts people. MeSH "Animals" without "Humans" is preclinical. An abstract that reports no
  study of its own (no people counted, no "we studied", no methods) and has no design from
  indexing or title is a narrative review. "headache" is not an adverse effect of a headache
  study, and "other chronic pain" means chronic pain that none of the named conditions covers. A
  review's text names the designs of the studies it read, so they are not its own; nor are the
  designs a comment or an editorial names. A protocol reports no results: adverse effects in its
  text are planned outcomes, not findings; and effects in animal work are not effects in people.
- The designs the cues give from text may get a learned second opinion (:mod:`tracker.learned_design`,
  fitted to the hand labels of issue #17; off by default, as held out it did not beat the cues):
  one the model finds very unlikely is dropped when it favours a design the cues did not give,
  and a record left with no design gets the model's when it is confident, its evidence the
  probability and the words that weighed most. Designs from publication types and MeSH are
  never vetoed or added to.
- Sample size is the whole sample. The rules of :mod:`tracker.study_size` say whether a text
  states one (a stated total, the groups added up, a first "n = N" or "N patients" that counts
  no events; numbers in words are read); which of its numbers it is, :mod:`tracker.sample_choice`
  decides, weights fitted to the hand labels ranking every candidate (issue #17: the rules' order
  of trust held on the records it was written from and not beyond them). Designs whose records
  have no sample of their own (vocabulary ``sample = "none"``: reviews, guidelines, letters, preclinical work) get none; those that pool
  studies (``sample = "studies"``: systematic reviews, models) get the number of studies pooled
  instead, as ``studies_pooled``.
- Dose is the first amount stated next to a ketamine name ("0.5 mg/kg", "28 mg"), as written.
The dose extractor stays here and the number readers in :mod:`tracker.study_size`, not in the
vocabulary file: they are machinery (named groups that carry the number, an order of tries),
not words for a tag. The packaged vocabulary is read on first use, not on import.

Cues are RE2 patterns run by Arrow over whole columns, a pass per cue on up to four threads;
100,000 typical records tag in seconds (bench/RESULTS.md, "Evidence tags").
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker import (
    effect_context,
    effect_mentions,
    effect_model,
    learned_design,
    sample_choice,
    stated_counts,
    study_size,
)
from tracker.effect_context import MentionRules
from tracker.effect_mentions import EffectCues
from tracker.learned_design import DesignModel
from tracker.vocabulary import KNOWN_FACETS, Cue, Vocabulary, load_vocabulary


@cache
def default_vocabulary() -> Vocabulary:
    """The packaged vocabulary, read and checked on first use (importing reads no file)."""
    return load_vocabulary(None)


FACETS: tuple[str, ...] = KNOWN_FACETS
"""The facets, in the order the packaged vocabulary lists them (it must list all of these)."""


class _PackagedValues(Mapping[str, tuple[str, ...]]):
    """Every value each facet can take in the packaged vocabulary, read when first asked."""

    def __getitem__(self, facet: str) -> tuple[str, ...]:
        return default_vocabulary().facet_values()[facet]

    def __iter__(self) -> Iterator[str]:
        return iter(default_vocabulary().facet_values())

    def __len__(self) -> int:
        return len(default_vocabulary().facet_values())


FACET_VALUES: Mapping[str, tuple[str, ...]] = _PackagedValues()
"""Every value each facet can take in the packaged vocabulary, in the order filters list them."""

NUMBERS = ("sample_size", "studies_pooled", "dose")
"""The evidence frame's number columns, after the facets."""
RULE_SOURCES: tuple[Path, ...] = (
    *(
        Path(module.__file__ or "")
        for module in (
            sys.modules[__name__],
            study_size,
            effect_context,
            effect_mentions,
            effect_model,
            stated_counts,
            sample_choice,
        )
    ),
    effect_model.MODEL_PATH,
    sample_choice.WEIGHTS,
)
"""The files whose rules the tags depend on, besides the vocabulary, the learned models' weights
among them: a cache of tags is stale when any of them changes (tracker.suggestions,
tracker.evidence_cache). The learned design model is not among them: it runs only when a caller
passes it (:func:`evidence`), and no cached tags are made with it, so refitting it must not
make every library tag itself again."""

_DOSE = r"\b\d+(?:\.\d+)?(?:,\s?\d+(?:\.\d+)?)*(?:\s?(?:-|–|to|or|and)\s?\d+(?:\.\d+)?)?\s?(?:mg|µg|μg|mcg|ug)(?:\s?(?:/|·|per\s)\s?(?:kg|ml)(?:\s?(?:-1|−1))?)?(?:\s?(?:/|·|per\s)\s?(?:h|hr|hour|min|day)(?:\s?(?:-1|−1))?\b)?"
_KETAMINES = r"(?:ketamine|ketalar|spravato)"
_DOSES = (
    rf"{_KETAMINES}[^.;]{{0,50}}?(?P<a>{_DOSE})",
    rf"(?P<a>{_DOSE})[^.;]{{0,30}}?{_KETAMINES}",
)
_OWN_STUDY = r"(?i)\bwe (?:studied|investigated|examined|evaluated|assessed|measured|compared|tested|enrolled|recruited|randomi[sz]ed|treated|analy[sz]ed|report|describe|present|observed|found|determined|conducted|performed|used|developed|designed|hypothesi[sz]ed|sought|aimed|obtained|identified|followed|selected|included|calculated|estimated|surveyed|interviewed|prospectively|retrospectively)\b|\b(?:this|the present|our|the current) (?:study|trial|investigation|analysis|survey|experiment|series|case|cohort)\b|\b(?:aim|purpose|objective|goal)s? (?:of|in) (?:this|the present|our|the) (?:study|work|investigation|trial|analysis)\b|\b(?:were|was) (?:\w+ly )?(?:randomi[sz]ed|enrolled|recruited|included|studied|examined|investigated|measured|evaluated|assessed|analy[sz]ed|treated|given|administered|followed|monitored|performed|conducted|obtained|determined|recorded|collected|tested|selected|divided|allocated|assigned)\b|\bn\s?=\s?\d|\b(?:are|is) reported(?:\.| here)|\b(?:the|our|these) (?:results|findings|data) (?:show|indicate|demonstrate|suggest)\b|\bresults are (?:presented|reported|shown)\b|\b(?:is|are) proposed\b|\bhere,? (?:we|an?)\b"
"""Words by which an abstract reports a study of its own, the contrary of a narrative review."""
_HEADINGS = r"\b(?:METHODS?|RESULTS?|PATIENTS?|DESIGN|SETTING|PARTICIPANTS|SUBJECTS|MATERIALS? AND METHODS|MEASUREMENTS)\s*:"
"""A structured abstract's headings (case matters): a study's, not a review's."""
_NO_STUDY = " (no study of its own reported)"


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
    mentions: MentionRules
    """Whether an adverse-effect mention counts (tracker.effect_context)."""
    samples: Mapping[str, str]
    """Design -> "none" or "studies" (vocabulary ``sample``)."""
    effect_cues: EffectCues
    """The adverse-effect cues for Python's ``re``, for the learned second opinion."""


_TABLES: dict[str, _Tables] = {}


def _tables(vocabulary: Vocabulary | None) -> _Tables:
    vocabulary = vocabulary or default_vocabulary()
    key = f"{vocabulary.path}:{vocabulary.fingerprint}"
    if key not in _TABLES:
        cues = vocabulary.cues()
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
            mentions=MentionRules.of(vocabulary),
            samples=vocabulary.samples(),
            effect_cues=effect_mentions.effect_cues(vocabulary),
        )
    return _TABLES[key]


_T = TypeVar("_T")
_PARALLEL_FROM = 5_000
"""Below this many records, threads cost more than they save."""


@dataclass
class _Finding:
    """The records one source tagged with one value, and the span that justified each.

    For the numbers, ``values`` holds each record's own value (the number, the dose). For an
    adverse effect, ``credited`` holds, per record, the word the mention was credited to
    ("morphine" in "more frequent after morphine"), or "".
    """

    facet: str
    value: str
    field: str
    rows: np.ndarray
    spans: list[str]
    values: list[str] | None = None
    credited: list[str] | None = None

    def drop(self, mask: np.ndarray) -> None:
        """Forget the records where ``mask`` (one bool per record) is set."""
        keep = ~mask[self.rows]
        self.rows = self.rows[keep]
        self.spans = [s for s, k in zip(self.spans, keep, strict=True) if k]
        if self.values is not None:
            self.values = [v for v, k in zip(self.values, keep, strict=True) if k]
        if self.credited is not None:
            self.credited = [c for c, k in zip(self.credited, keep, strict=True) if k]

    @property
    def from_text(self) -> bool:
        return self.field in ("title", "abstract")


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
    design_model: DesignModel | None = None,
) -> dict[str, Any]:
    """The tags of one record, with the evidence behind each: one row of :func:`evidence`."""
    one = pd.DataFrame({
        "record_id": [0], "title": [title], "abstract": [abstract],
        "publication_types": [list(publication_types)], "mesh_terms": [list(mesh_terms)],
        "mesh_qualified": [list(mesh_qualified)],
    })  # fmt: skip
    row = evidence(one, vocabulary=vocabulary, design_model=design_model).iloc[0]
    tags: dict[str, Any] = {facet: row[facet] for facet in _tables(vocabulary).facets}
    for number in ("sample_size", "studies_pooled"):
        tags[number] = None if pd.isna(row[number]) else int(row[number])
    tags["dose"] = row["dose"]
    tags["evidence"] = row["evidence"]
    return tags


def evidence(
    records: pd.DataFrame,
    text: pd.Series | None = None,
    *,
    vocabulary: Vocabulary | None = None,
    learned: bool = True,
    design_model: DesignModel | None = None,
) -> pd.DataFrame:
    """Evidence tags for every record, indexed by PMID.

    Columns: one sorted list per facet (:data:`FACETS`), ``sample_size`` and ``studies_pooled``
    (Int64), ``dose`` (str, "" when not stated), ``evidence`` (list of {facet, value, field,
    span}) and one boolean ``facet:value`` column per vocabulary value, which filters and
    charts use directly. ``text`` is accepted for older callers and not used: spans are taken
    from the original title and abstract, whose case the lower-cased search text has lost.
    ``vocabulary`` is the packaged one when ``None`` (see
    :func:`tracker.vocabulary.load_vocabulary`). The learned veto on adverse effects
    (:mod:`tracker.effect_model`) is on unless ``learned=False`` (the rules alone, as they are
    measured against it). The learned opinion on designs (:mod:`tracker.learned_design`) runs
    only when ``design_model`` is given (``learned_design.packaged()`` is the shipped one): on
    the held-out records of issue #17's fourth round it did not improve on the cues (design precision 0.880
    with it, 0.885 without, on 180 records), so it is off by default.
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
    people = _people_counted(findings, size)
    findings += _no_study_reviews(findings, fields, people)
    commentary = np.zeros(size, dtype=bool)
    for kind in tables.commentary:
        commentary |= types.having(kind, size)
    humans = mesh.having("Humans", size) | people
    _suppress(tables, findings, humans=humans, commentary=commentary)
    if learned:
        _effects_second_opinion(tables, findings, fields)
        if design_model is not None:
            findings += _design_second_opinion(design_model, findings, fields)
    findings += _count_by_design(tables, findings, fields)
    return _frame(tables, records, findings)


def _text_findings(tables: _Tables, fields: Sequence[_Field], size: int) -> list[_Finding]:
    """Every cue, sample size and dose found in titles and abstracts."""
    narrowed = _run([partial(_candidates, cues, fields) for cues in tables.groups], size)
    jobs: list[Callable[[], list[_Finding]]] = [
        partial(_cue_findings, tables, cue, near, size)
        for cues, near in zip(tables.groups, narrowed, strict=True)
        for cue in cues
    ]
    jobs.append(partial(_counted, "sample_size", sample_choice.sample_size, fields, size))
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
    condition = np.zeros(size, dtype=bool)
    for field in fields:
        if cue.title_only and field.name != "title":
            continue
        if cue.facet == "adverse_effects":
            finding, named = _affirmed(tables, cue, field)
            if field.name == "title":  # a title names the condition, or the topic
                condition[named] = True
                condition[_topics(tables, cue, field)] = True
            finding.drop(condition)
        else:
            at, found = _scan(field, cue.pattern)
            spans = found.field("span").to_pylist()
            finding = _Finding(cue.facet, cue.value, field.name, field.rows[at], spans)
        for earlier in findings:
            finding.drop(_mask(earlier.rows, size))
        findings.append(finding)
    return findings


def _topics(tables: _Tables, cue: Cue, field: _Field) -> np.ndarray:
    """The records whose title names the effect as its topic (effect_context.title_topics)."""
    at, _ = _scan(field, cue.pattern)
    titles = field.text.take(pa.array(at, type=pa.int64()))
    return field.rows[at[effect_context.title_topics(tables.mentions, titles)]] if len(at) else at


def _affirmed(tables: _Tables, cue: Cue, field: _Field) -> tuple[_Finding, np.ndarray]:
    """An adverse-effect cue's finding in one field: the first mention that counts; and the
    records whose first mention its context made the condition, the effect sought or a drug.

    A mention does not count when it is negated, when its context makes it the condition, the
    effect sought, a drug or the comparator's ([effect_context]); then a later one may.

    The pattern with its context (up to 160 clause characters before the cue) is too large for
    RE2's fast automaton, which then falls back to a much slower one; it therefore runs only on
    the records the bare cue matches. Real abstracts are long, and scanning every record that
    names any effect with it took 70 s for 8,667 real abstracts.
    """
    hit = pc.match_substring_regex(field.text, pattern="(?i)" + _plain(cue.pattern))
    field = field.where(pc.fill_null(hit, False))
    at, found = _scan(field, effect_context.with_context(cue.pattern))
    spans: list[str] = found.field("span").to_pylist()
    rules = tables.mentions
    blocked, context, credited = effect_context.judge(
        rules, found.field("before"), found.field("after")
    )
    for index in np.flatnonzero(blocked).tolist():
        text = str(field.text[at[index]])
        spans[index], credited[index] = effect_context.later_counted(
            rules, text, cue.pattern, spans[index], same_condition=bool(context[index])
        )
    said = np.array([bool(s) for s in spans], dtype=bool)
    rows = field.rows[at[said]] if len(at) else at
    kept = [c for c, s in zip(credited, said, strict=True) if s]
    finding = _Finding(
        cue.facet, cue.value, field.name, rows, [s for s in spans if s], credited=kept
    )
    return finding, field.rows[at[context]] if len(at) else at


def _counted(
    facet: str,
    read: Callable[[str], study_size.Count | None],
    fields: Sequence[_Field],
    size: int,
) -> list[_Finding]:
    """Sample size or studies pooled, read by :mod:`tracker.study_size` from the abstract, else
    the title. The finding's values are the numbers; spans that count people are marked by a
    value ending in "+" (taken off when the frame is built)."""
    findings: list[_Finding] = []
    taken = np.zeros(size, dtype=bool)
    for field in reversed(fields):  # the abstract first
        rows, spans, values = [], [], []
        for row, text in zip(field.rows.tolist(), field.text.to_pylist(), strict=True):
            count = read(text) if text and not taken[row] else None
            if count is not None:
                rows.append(row)
                spans.append(count.span)
                values.append(f"{count.value}{'+' if count.people else ''}")
        found = np.array(rows, dtype=np.int64)
        taken[found] = True
        findings.append(_Finding(facet, "", field.name, found, spans, values))
    return findings


def _number_findings(
    facet: str, patterns: Sequence[str], fields: Sequence[_Field], size: int
) -> list[_Finding]:
    """Dose: per record, the first pattern (in order) that the abstract, else the title,
    states. Its value is whichever named group took part in the match."""
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


def _people_counted(findings: Sequence[_Finding], size: int) -> np.ndarray:
    """Per record: does its text count people (a human sample, however small)?"""
    people = np.zeros(size, dtype=bool)
    for finding in findings:
        if finding.facet == "sample_size" and finding.values is not None:
            marked = np.array([v.endswith("+") for v in finding.values], dtype=bool)
            people[finding.rows[marked] if len(marked) else finding.rows] = True
    return people


def _no_study_reviews(
    findings: Sequence[_Finding], fields: Sequence[_Field], people: np.ndarray
) -> list[_Finding]:
    """Abstracts that report no study of their own are narrative reviews.

    Only where nothing stronger says what the record is: no design from indexing or the title,
    no people counted, and none of the words by which a study reports itself.
    """
    abstract = fields[1]
    settled = people.copy()
    for finding in findings:  # designs from indexing or title, and the abstract's own cues
        if finding.facet == "design" and (
            finding.field != "abstract" or finding.value != "preclinical"
        ):
            settled[finding.rows] = True
    own = pc.or_(
        pc.match_substring_regex(abstract.text, pattern=_OWN_STUDY),
        pc.match_substring_regex(abstract.text, pattern=_HEADINGS),
    )
    empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(abstract.text)), 0)
    skip = pc.fill_null(pc.or_(own, empty), True).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(~settled & ~np.asarray(skip, dtype=bool))
    texts = abstract.text.take(pa.array(rows, type=pa.int64())).to_pylist()
    spans = [_opening(text) + _NO_STUDY for text in texts]
    return [_Finding("design", "review", "abstract", rows, spans)]


def _opening(text: str) -> str:
    """The first words of an abstract, as the evidence for what the whole of it lacks."""
    first = re.split(r"(?<=[.;])\s", text.strip(), maxsplit=1)[0]
    return first if len(first) <= 80 else first[:80].rsplit(" ", 1)[0]


def _discount(tables: _Tables, findings: list[_Finding], fields: Sequence[_Field]) -> None:
    """Drop a cue's tag where it matches only inside its ``unless`` mentions.

    The mentions are blanked out and the cue counted again in what is left, in the title and
    the abstract: "no clinical studies have evaluated X" elsewhere in the text does not cancel
    "this double-blind study". The evidence span is taken from what is left, so it shows the
    record's own words rather than a mention."""
    for finding in findings:
        rule = tables.unless.get((finding.facet, finding.value))
        if rule is None or not finding.from_text or not len(finding.rows):
            continue
        pattern, unless = rule
        said = np.zeros(len(finding.rows), dtype=np.int64)
        for field in fields:
            own = _without(field.text.take(pa.array(finding.rows)), unless)
            said += _count_matches(own, pattern)
            if field.name == finding.field:
                finding.spans = _first_spans(own, pattern, finding.spans)
        finding.drop(_mask(finding.rows[said <= 0], len(fields[0].rows)))


def _without(text: pa.Array, pattern: str) -> pa.Array:
    """The text with every match of ``pattern`` blanked out."""
    return pc.replace_substring_regex(text, pattern=f"(?i){pattern}", replacement=" ")


def _first_spans(text: pa.Array, pattern: str, spans: list[str]) -> list[str]:
    """Per row, the span it had if ``text`` still holds it, else the first match of
    ``pattern`` left in ``text`` (the span was a mention)."""
    found = pc.extract_regex(text, pattern=f"(?i)(?P<span>{pattern})").field("span").to_pylist()
    kept = zip(text.to_pylist(), found, spans, strict=True)
    return [old if old in (own or "") else (new or "").strip() or old for own, new, old in kept]


def _count_matches(text: pa.Array, pattern: str) -> np.ndarray:
    found = pc.count_substring_regex(text, pattern=pattern, ignore_case=True)
    return np.asarray(pc.fill_null(found, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _suppress(
    tables: _Tables, findings: list[_Finding], *, humans: np.ndarray, commentary: np.ndarray
) -> None:
    """Drop tags that a stronger tag contradicts (see the module docstring)."""
    protocols = np.zeros(len(humans), dtype=bool)
    drugs = np.zeros(len(humans), dtype=bool)
    for finding in findings:
        if finding.facet == "design" and finding.from_text:
            finding.drop(commentary)
        if (finding.facet, finding.value) == ("design", "preclinical") and finding.from_text:
            finding.drop(humans)
        if (finding.facet, finding.value) == ("design", "protocol"):
            protocols[finding.rows] = True
        if finding.facet == "drug":
            drugs[finding.rows] = True
    for finding in findings:
        if finding.facet == "adverse_effects" and finding.from_text:
            finding.drop(protocols)  # planned outcomes, not findings
            if finding.credited:
                elsewhere = effect_context.credited_elsewhere(
                    tables.mentions, finding.rows, finding.credited, drugs
                )
                finding.drop(elsewhere)
    for tag, text_only, cancelled_by in tables.cancelled:
        mask = np.zeros(len(humans), dtype=bool)
        for finding in findings:
            if (finding.facet, finding.value) in cancelled_by:
                mask[finding.rows] = True
        for finding in findings:
            if (finding.facet, finding.value) == tag and (finding.from_text or not text_only):
                finding.drop(mask)
    _drop_effects_in_animals(findings, len(humans))


def _effects_second_opinion(
    tables: _Tables, findings: list[_Finding], fields: Sequence[_Field]
) -> None:
    """Drop the adverse effects from text that the learned model doubts (tracker.effect_model):
    the rules' suggestions that stand keep their spans. Only records with such a suggestion are
    read again, a few in a hundred; and only records that name none of the vocabulary's drugs,
    like every record the model was trained on (drug-class reviews of other drugs): where a
    rise in blood pressure is mostly the condition treated, the model learnt to doubt it,
    which says nothing of a ketamine record, where it is a known effect."""
    model = effect_model.packaged_model()
    size = len(fields[0].rows)
    drugs = np.zeros(size, dtype=bool)
    for finding in findings:
        if finding.facet == "drug":
            drugs[finding.rows] = True
    suggested: dict[int, list[str]] = {}
    for finding in findings:
        if finding.facet == "adverse_effects" and finding.from_text:
            for row in finding.rows[~drugs[finding.rows]].tolist():
                suggested.setdefault(row, []).append(finding.value)
    if not suggested:
        return
    rows = pa.array(sorted(suggested), type=pa.int64())
    titles, abstracts = (field.text.take(rows).to_pylist() for field in fields)
    texts = {
        row: (title or "", abstract or "")
        for row, title, abstract in zip(rows.to_pylist(), titles, abstracts, strict=True)
    }
    vetoed = effect_model.doubted(model, tables.effect_cues, suggested, texts)
    for finding in findings:
        if finding.facet == "adverse_effects" and finding.from_text:
            doubted = [row for row, values in vetoed.items() if finding.value in values]
            finding.drop(_mask(np.array(doubted, dtype=np.int64), size))


def _drop_effects_in_animals(findings: list[_Finding], size: int) -> None:
    """Effects found in the text of animal work are not effects in people (what the tags are
    for): dropped where the record stays preclinical after every other rule."""
    animals = np.zeros(size, dtype=bool)
    for finding in findings:
        if (finding.facet, finding.value) == ("design", "preclinical"):
            animals[finding.rows] = True
    for finding in findings:
        if finding.facet == "adverse_effects" and finding.from_text:
            finding.drop(animals)


def _design_second_opinion(
    model: DesignModel, findings: list[_Finding], fields: Sequence[_Field]
) -> list[_Finding]:
    """The learned model's veto of the cues' designs, and its additions where no source gave
    one (tracker.learned_design). Designs from indexing are left as they are and settle a
    record: the publisher's own statement keeps its precedence."""
    if not model.values:
        return []
    titles, abstracts = fields[0].text, fields[1].text
    probabilities = model.probabilities(titles, abstracts)
    size = len(fields[0].rows)
    settled = np.zeros(size, dtype=bool)
    given = np.zeros((size, len(model.values)), dtype=bool)
    for finding in findings:
        if finding.facet == "design" and finding.value in model.values:
            given[finding.rows, model.values.index(finding.value)] = True
    rivalled = learned_design.rivals(model, probabilities, given)
    for finding in findings:
        if finding.facet != "design":
            continue
        if finding.from_text and finding.value in model.values:
            column = model.values.index(finding.value)
            drop = learned_design.vetoed(
                model, finding.value, probabilities[finding.rows, column], rivalled[finding.rows]
            )
            finding.drop(_mask(finding.rows[drop], size))
        settled[finding.rows] = True
    added = []
    for value, rows in learned_design.additions(model, probabilities, settled):
        column = model.values.index(value)
        spans = [
            model.explain(
                titles[row].as_py() or "",
                abstracts[row].as_py() or "",
                value,
                float(probabilities[row, column]),
            )
            for row in rows.tolist()
        ]
        added.append(_Finding("design", value, "learned", rows, spans))
    return added


def _count_by_design(
    tables: _Tables, findings: list[_Finding], fields: Sequence[_Field]
) -> list[_Finding]:
    """A record whose design has no sample of its own gets no sample size; one whose design
    pools studies gets the number of studies pooled instead (read for those records only)."""
    size = len(fields[0].rows)
    none, pooled = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    for finding in findings:
        kind = tables.samples.get(finding.value) if finding.facet == "design" else None
        if kind is not None:
            (pooled if kind == "studies" else none)[finding.rows] = True
    for finding in findings:
        if finding.facet == "sample_size":
            finding.drop(none | pooled)
    reviews = tuple(field.where(pooled[field.rows]) for field in fields)
    return _counted("studies_pooled", study_size.studies_pooled, reviews, size)


def _frame(tables: _Tables, records: pd.DataFrame, findings: list[_Finding]) -> pd.DataFrame:
    """The evidence frame: facet lists, numbers, evidence, then a flag per vocabulary value."""
    size = len(records)
    flags = {
        f"{f}:{v}": np.zeros(size, dtype=bool) for f in tables.facets for v in tables.values[f]
    }
    proof: list[list[dict[str, str]]] = [[] for _ in range(size)]
    numbers: dict[str, list[str]] = {name: [""] * size for name in NUMBERS}
    for finding in findings:
        if finding.values is None:
            values = [finding.value] * len(finding.rows)
            flags[f"{finding.facet}:{finding.value}"][finding.rows] = True
        else:
            values = [v.rstrip("+") for v in finding.values]
            for row, value in zip(finding.rows.tolist(), values, strict=True):
                numbers[finding.facet][row] = value
        for row, value, span in zip(finding.rows.tolist(), values, finding.spans, strict=True):
            proof[row].append(
                {"facet": finding.facet, "value": value, "field": finding.field, "span": span}
            )
    columns: dict[str, Any] = {
        facet: _lists(flags, tables.values[facet], facet, size) for facet in tables.facets
    }
    for name in ("sample_size", "studies_pooled"):
        columns[name] = pd.array([_count(n) for n in numbers[name]], dtype="Int64")
    columns["dose"] = numbers["dose"]
    columns["evidence"] = proof
    columns.update(sorted(flags.items()))
    index = pd.Index(records["record_id"].astype("int64").to_numpy(), name="record_id")
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
