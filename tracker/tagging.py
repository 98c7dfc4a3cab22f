"""Evidence tags: what a study is, from its publication types, MeSH terms and text.

Every tag carries the evidence that justified it (the field and the matching span), so a
reviewer can see why a record was tagged and overrule it. Indexing is trusted first; text cues
in the title and abstract fill in what indexing has not reached (new records carry no MeSH).

Decisions, each made on purpose and tested in tests/expected/tagging_cases.json:
- "ketamine" inside esketamine, arketamine, S-ketamine or norketamine is not racemic ketamine,
  and neither is the phrase "the S-enantiomer of ketamine" that esketamine papers open with.
- An adverse effect is not tagged when a negation ("no", "not", "without", "absence of",
  "free of", "denied", "neither/nor") comes at most 30 characters before it in the same clause,
  unless "but"/"although"/"whereas" intervenes. "No difference in nausea" is therefore not a
  tag: we prefer missing a tag to inventing an adverse effect.
- Text that says "randomized trial" does not make a (systematic) review an RCT; text about rats
  or mice does not make a study preclinical when MeSH says "Humans". MeSH "Animals" without
  "Humans" is preclinical. "headache" is not an adverse effect of a headache study, and
  "other chronic pain" means chronic pain that none of the named conditions covers.
- Sample size is the total the abstract states first: "a total of N", "N patients were
  randomized", "enrolled N"; failing those the first "n = N", then the first "N patients".
  Arms are not added up, and numbers written as words are not read.
- Dose is the first amount stated next to a ketamine name ("0.5 mg/kg", "28 mg"), as written.

Cues are RE2 patterns run by Arrow over whole columns, a pass per cue on both cores; 100,000
typical records tag in a few seconds (bench/RESULTS.md, "Evidence tags").
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

FACETS = ("design", "drug", "route", "condition", "adverse_effects")
FACET_VALUES: Mapping[str, tuple[str, ...]] = {
    "design": ("RCT", "systematic review / meta-analysis", "cohort", "case series", "case report", "cross-over", "open-label", "protocol", "review", "preclinical"),
    "drug": ("esketamine", "ketamine (racemic)", "arketamine"),
    "route": ("intranasal", "intravenous", "oral", "subcutaneous", "intramuscular"),
    "condition": ("neuropathic pain", "CRPS", "fibromyalgia", "cancer pain", "postoperative / chronic post-surgical pain", "headache / migraine", "low back pain", "phantom limb", "other chronic pain"),
    "adverse_effects": ("dizziness or lightheadedness", "headache", "nausea or vomiting", "drowsiness", "confusion", "disorientation", "altered perception (dissociation)", "hallucinations", "raised heart rate or blood pressure", "changes in appetite or sleep"),
}  # fmt: skip
"""Every value each facet can take, in the order filter widgets list them."""


class Cue(NamedTuple):
    """A text cue: an RE2 pattern (matched case-insensitively) that justifies one tag.

    ``unless`` matches mentions that do not count ("the S-enantiomer of ketamine"): the tag
    stands only when the pattern matches more often than ``unless`` does.
    """

    facet: str
    value: str
    pattern: str
    title_only: bool = False
    unless: str = ""


_SR = "systematic review / meta-analysis"
_PEOPLE = r"(?:patients|participants|subjects|volunteers|individuals|people|persons|adults|children|adolescents|women|men|veterans|cases|rats|mice|animals)"
_ADJECTIVES = r"(?:(?:adult|consecutive|eligible|evaluable|hospitali[sz]ed|female|male|healthy|elderly|older|outpatients?|inpatients?|pediatric|paediatric|additional|unique|chronic|pain|cancer|surgical|postoperative|opioid-tolerant|treatment-resistant)\s+){0,2}"
_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
_DOSE = r"\b\d+(?:\.\d+)?(?:\s?(?:-|–|to|or|and)\s?\d+(?:\.\d+)?)?\s?(?:mg|µg|μg|mcg|ug)(?:\s?(?:/|·|per\s)\s?kg(?:\s?(?:-1|−1))?)?(?:\s?(?:/|·|per\s)\s?(?:h|hr|hour|min|day)(?:\s?(?:-1|−1))?\b)?"
_KETAMINES = r"(?:ketamine|ketalar|spravato)"

_CUES: tuple[Cue, ...] = (
    Cue("design", "RCT", r"\brandomi[sz]ed\b[^.;]{0,60}\b(?:trial|study)\b|\brandomly (?:assigned|allocated)\b|\bRCT\b"),
    Cue("design", _SR, r"systematic review|meta-?analys[ie]s|pooled analysis", title_only=True),
    Cue("design", _SR, r"\bsystematic review and meta-?analys[ie]s\b|\b(?:this|our|present|we (?:conducted|performed|undertook)(?: an?)?) (?:systematic review|meta-?analysis)\b|\bmeta-?analys[ie]s of (?:randomi[sz]ed|controlled|clinical|observational|\d+)\b|\bwe searched\b[^.;]{0,80}\b(?:medline|pubmed|embase|cochrane|databases?)\b"),
    Cue("design", "cross-over", r"\bcross-?over\b"),
    Cue("design", "open-label", r"\bopen[- ]label\b"),
    Cue("design", "case series", r"\bcase series\b|\bseries of \d+ (?:patients|cases)\b"),
    Cue("design", "case report", r"\bcase reports?\b|\b(?:a|the) case of an?\b|\bwe (?:report|describe|present) (?:a|an) (?:\d+-year-old |young |elderly |middle-aged )?(?:patient|man|woman|boy|girl|child)\b|\b\d+-year-old (?:man|woman|male|female|patient|boy|girl)\b"),
    Cue("design", "cohort", r"\bcohort\b|\bretrospective(?:ly)?\b[^.;]{0,40}\b(?:study|review|analysis)\b|\bprospective(?:ly)?\b[^.;]{0,20}\b(?:observational|registry)\b"),
    Cue("design", "protocol", r"\bstudy protocol\b|\btrial protocol\b|\bprotocol for (?:a|an|the)\b"),
    Cue("design", "review", r"\breview\b", title_only=True),
    Cue("design", "review", r"\b(?:narrative|literature|scoping|comprehensive|critical|clinical) review\b|\breview of the (?:literature|evidence)\b|\b(?:this|the present) review\b|\bwe review\b"),
    Cue("design", "preclinical", r"\b(?:rats?|mice|mouse|murine|rodents?|in vitro|animal models?|rabbits?|zebrafish|cell lines?)\b"),
    Cue("drug", "esketamine", r"\bes-?ketamine\b|\bs-ketamine\b|\(s\)-ketamine\b|\bs\s?\(\+\)-?\s?ketamine\b|\bs-\(\+\)-ketamine\b|\bspravato\b|\bketanest[- ]s\b"),
    Cue("drug", "arketamine", r"\bar-?ketamine\b|\br-ketamine\b|\(r\)-ketamine\b|\br\s?\(-\)-?\s?ketamine\b|\br-\(-\)-ketamine\b"),
    Cue("drug", "ketamine (racemic)", r"(?:^|[^a-z0-9)+-])(?P<span>ketamine|ketalar|racemic ketamine|\(r,\s?s\)-ketamine|rs-ketamine)\b", unless=r"\benantiomers? of (?:racemic )?ketamine\b|\bketamine'?s? [sr]-enantiomer\b"),
    Cue("route", "intranasal", r"\bintra-?nasal(?:ly)?\b|\bnasal(?:ly)? (?:spray|administ\w*|esketamine|ketamine|route|delivery)\b|\bspravato\b"),
    Cue("route", "intravenous", r"\bintra-?venous(?:ly)?\b|\bi\.v\.|\biv (?:infusion|bolus|ketamine|esketamine|administration|injection)s?\b|\b(?:es|s-)?ketamine infusions?\b|\binfusions? of (?:low-dose |subanesthetic |subanaesthetic )?(?:es|s-)?ketamine\b"),
    Cue("route", "oral", r"\boral(?:ly)? (?:ketamine|esketamine|s-ketamine|administration|dos(?:e|es|ing)|solution|tablets?|capsules?|route|formulation)\b|\borally\b|\bper os\b|\bby mouth\b|\bsublingual(?:ly)?\b"),
    Cue("route", "subcutaneous", r"\bsub-?cutaneous(?:ly)?\b|\bs\.c\. (?:injection|infusion|ketamine)"),
    Cue("route", "intramuscular", r"\bintra-?muscular(?:ly)?\b|\bi\.m\. (?:injection|ketamine)"),
    Cue("condition", "neuropathic pain", r"\bneuropathic\b|\bneuropath(?:y|ies)\b|\bneuralgia\b|\bradiculopathy\b"),
    Cue("condition", "CRPS", r"\bcomplex regional pain\b|\bCRPS\b|\breflex sympathetic dystrophy\b|\bcausalgia\b"),
    Cue("condition", "fibromyalgia", r"\bfibromyalgia\b"),
    Cue("condition", "cancer pain", r"\bcancer[- ]related pain\b|\bcancer pain\b|\bpain (?:in|of) (?:patients with )?(?:advanced )?cancer\b|\bmalignant pain\b", unless=r"\bnon-cancer(?:[- ]related)? pain\b"),
    Cue("condition", "postoperative / chronic post-surgical pain", r"\b(?:post-?operative|post-?surgical|persistent post-?operative) pain\b|\bCPSP\b"),
    Cue("condition", "headache / migraine", r"\bmigraines?\b|\b(?:cluster|tension-type|chronic daily|medication[- ]overuse|post-?traumatic) headaches?\b|\bheadache disorders?\b"),
    Cue("condition", "low back pain", r"\blow(?:er)? back pain\b|\bchronic back pain\b|\blumbar (?:radicular )?pain\b"),
    Cue("condition", "phantom limb", r"\bphantom (?:limb|pain)\b|\b(?:post-?amputation|stump) pain\b"),
    Cue("condition", "other chronic pain", r"\bchronic (?:non-?cancer |widespread |refractory )?pain\b|\bpersistent pain\b|\brefractory pain\b"),
)  # fmt: skip
_ADVERSE: tuple[Cue, ...] = (
    Cue("adverse_effects", "dizziness or lightheadedness", r"\bdizz(?:y|iness)\b|\blight-?headed(?:ness)?\b|\bvertigo\b"),
    Cue("adverse_effects", "headache", r"\bheadaches?\b"),
    Cue("adverse_effects", "nausea or vomiting", r"\bnausea\b|\bvomit(?:ing|ed)?\b|\bemesis\b|\bPONV\b"),
    Cue("adverse_effects", "drowsiness", r"\bdrows(?:y|iness)\b|\bsomnolen(?:ce|t)\b|\bsedation\b|\bsedated\b|\bsleepiness\b"),
    Cue("adverse_effects", "confusion", r"\bconfus(?:ion|ed|ional)\b"),
    Cue("adverse_effects", "disorientation", r"\bdisorient(?:ation|ed)\b"),
    Cue("adverse_effects", "altered perception (dissociation)", r"\bdissociat(?:ion|ive)\b|\bpsychotomimetic\b|\baltered perception\b|\bperceptual (?:changes|disturbances?|alterations?)\b|\bderealization\b|\bdepersonali[sz]ation\b|\bout-of-body\b"),
    Cue("adverse_effects", "hallucinations", r"\bhallucinat(?:ions?|ory|ed|ing)\b"),
    Cue("adverse_effects", "raised heart rate or blood pressure", r"\btachycardi(?:a|c)\b|\bhypertensi(?:on|ve)\b|\bpalpitations?\b|\b(?:increased|elevated|raised|higher|increases? in|elevations? in|rise in) (?:the )?(?:heart rate|blood pressure|pulse)\b|\b(?:heart rate|blood pressure)\b[^.;]{0,30}\b(?:rose|increased)\b"),
    Cue("adverse_effects", "changes in appetite or sleep", r"\b(?:loss of|decreased|increased|reduced|poor|changes? in) appetite\b|\banorexia\b|\binsomnia\b|\bsleep disturbances?\b|\bvivid dreams\b|\bnightmares?\b|\babnormal dreams\b"),
)  # fmt: skip
_NEGATED = r"(?i)\b(?:no|not|without|nor|neither|absence of|free of|denied|never)\b[^.;]{0,30}$"
_UNNEGATED = r"(?i)\b(?:no|not|without|nor|neither|absence of|free of|denied|never)\b[^.;]*\b(?:but|although|though|however|whereas|except)\b[^.;]*$"
_SAMPLE_SIZES = (  # tried in order; the first that a record states wins
    rf"\ba total of (?P<a>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\b|\b(?P<b>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\s+(?:were|was|had been|have been)\s+(?:randomi[sz]ed|enrolled|included|recruited|allocated|assigned|studied|analy[sz]ed)\b|\b(?:randomi[sz]ed|enrolled|included|recruited|studied)\s+(?P<c>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\b|\b(?P<d>{_NUMBER})\s+(?:were|was)\s+randomi[sz]ed\b",
    rf"\bn\s?=\s?(?P<a>{_NUMBER})\b",
    rf"\b(?P<a>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\b",
)
_DOSES = (
    rf"{_KETAMINES}[^.;]{{0,50}}?(?P<a>{_DOSE})",
    rf"(?P<a>{_DOSE})[^.;]{{0,30}}?{_KETAMINES}",
)

_PUBLICATION_TYPES: Mapping[str, tuple[str, str]] = {
    "Randomized Controlled Trial": ("design", "RCT"),
    "Systematic Review": ("design", _SR),
    "Meta-Analysis": ("design", _SR),
    "Case Reports": ("design", "case report"),
    "Review": ("design", "review"),
    "Scoping Review": ("design", "review"),
    "Clinical Trial Protocol": ("design", "protocol"),
}
_MESH: Mapping[str, tuple[str, str]] = {
    "Cohort Studies": ("design", "cohort"), "Prospective Studies": ("design", "cohort"),
    "Retrospective Studies": ("design", "cohort"), "Longitudinal Studies": ("design", "cohort"),
    "Cross-Over Studies": ("design", "cross-over"),
    "Esketamine": ("drug", "esketamine"),
    "Administration, Intranasal": ("route", "intranasal"),
    "Infusions, Intravenous": ("route", "intravenous"), "Injections, Intravenous": ("route", "intravenous"),
    "Administration, Intravenous": ("route", "intravenous"),
    "Administration, Oral": ("route", "oral"), "Administration, Sublingual": ("route", "oral"),
    "Injections, Subcutaneous": ("route", "subcutaneous"), "Infusions, Subcutaneous": ("route", "subcutaneous"),
    "Injections, Intramuscular": ("route", "intramuscular"),
    "Neuralgia": ("condition", "neuropathic pain"), "Neuralgia, Postherpetic": ("condition", "neuropathic pain"),
    "Trigeminal Neuralgia": ("condition", "neuropathic pain"), "Diabetic Neuropathies": ("condition", "neuropathic pain"),
    "Complex Regional Pain Syndromes": ("condition", "CRPS"), "Reflex Sympathetic Dystrophy": ("condition", "CRPS"),
    "Fibromyalgia": ("condition", "fibromyalgia"),
    "Cancer Pain": ("condition", "cancer pain"),
    "Pain, Postoperative": ("condition", "postoperative / chronic post-surgical pain"),
    "Migraine Disorders": ("condition", "headache / migraine"), "Headache Disorders": ("condition", "headache / migraine"),
    "Cluster Headache": ("condition", "headache / migraine"), "Tension-Type Headache": ("condition", "headache / migraine"),
    "Low Back Pain": ("condition", "low back pain"),
    "Phantom Limb": ("condition", "phantom limb"),
    "Chronic Pain": ("condition", "other chronic pain"),
}  # fmt: skip
_MESH_ADVERSE: Mapping[str, tuple[str, str]] = {  # "<descriptor>/chemically induced" in mesh_qualified
    f"{descriptor}/chemically induced": ("adverse_effects", value)
    for value, descriptors in {
        "dizziness or lightheadedness": ("Dizziness", "Vertigo"),
        "headache": ("Headache",),
        "nausea or vomiting": ("Nausea", "Vomiting", "Postoperative Nausea and Vomiting"),
        "drowsiness": ("Sleepiness", "Disorders of Excessive Somnolence"),
        "confusion": ("Confusion",),
        "altered perception (dissociation)": ("Dissociative Disorders", "Depersonalization"),
        "hallucinations": ("Hallucinations",),
        "raised heart rate or blood pressure": ("Tachycardia", "Hypertension"),
        "changes in appetite or sleep": ("Sleep Initiation and Maintenance Disorders", "Appetite"),
    }.items()
    for descriptor in descriptors
}  # fmt: skip
_SUPPRESSED_BY: Sequence[tuple[tuple[str, str], bool, tuple[tuple[str, str], ...]]] = (
    # (tag, only when it came from text, tags that cancel it)
    (("design", "RCT"), True, (("design", _SR), ("design", "review"))),
    (("adverse_effects", "headache"), False, (("condition", "headache / migraine"),)),
    (
        ("condition", "other chronic pain"),
        False,
        tuple(("condition", v) for v in FACET_VALUES["condition"][:-1]),
    ),
)
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


def tag_vocabulary() -> dict[str, list[str]]:
    """Every value each facet can take, for building filter widgets."""
    return {facet: list(values) for facet, values in FACET_VALUES.items()}


def tag_record(
    title: str,
    abstract: str,
    publication_types: Iterable[str],
    mesh_terms: Iterable[str],
    mesh_qualified: Iterable[str] = (),
) -> dict[str, Any]:
    """The tags of one record, with the evidence behind each: one row of :func:`evidence`."""
    one = pd.DataFrame({
        "pmid": [0], "title": [title], "abstract": [abstract],
        "publication_types": [list(publication_types)], "mesh_terms": [list(mesh_terms)],
        "mesh_qualified": [list(mesh_qualified)],
    })  # fmt: skip
    row = evidence(one).iloc[0]
    tags: dict[str, Any] = {facet: row[facet] for facet in FACETS}
    size = row["sample_size"]
    tags["sample_size"] = None if pd.isna(size) else int(size)
    tags["dose"] = row["dose"]
    tags["evidence"] = row["evidence"]
    return tags


def evidence(records: pd.DataFrame, text: pd.Series | None = None) -> pd.DataFrame:
    """Evidence tags for every record, indexed by PMID.

    Columns: one sorted list per facet (:data:`FACETS`), ``sample_size`` (Int64), ``dose``
    (str, "" when not stated), ``evidence`` (list of {facet, value, field, span}) and one
    boolean ``facet:value`` column per vocabulary value, which filters and charts use directly.
    ``text`` is accepted for older callers and not used: spans are taken from the original
    title and abstract, whose case the lower-cased search text has lost.
    """
    del text
    size = len(records)
    fields = tuple(
        _Field(name, np.arange(size), _text_column(records, name)) for name in ("title", "abstract")
    )
    mesh = _flatten(records, "mesh_terms")
    findings = [
        *_indexed(_flatten(records, "publication_types"), _PUBLICATION_TYPES, "publication type"),
        *_indexed(mesh, _MESH, "MeSH"),
        *_indexed(_flatten(records, "mesh_qualified"), _MESH_ADVERSE, "MeSH"),
        *_preclinical(mesh, size),
        *_text_findings(fields, size),
    ]
    _discount(findings, fields)
    _suppress(findings, humans=mesh.having("Humans", size))
    return _frame(records, findings)


def _text_findings(fields: Sequence[_Field], size: int) -> list[_Finding]:
    """Every cue, sample size and dose found in titles and abstracts."""
    groups = [tuple(c for c in (*_CUES, *_ADVERSE) if c.facet == facet) for facet in FACETS]
    narrowed = _run([partial(_candidates, cues, fields) for cues in groups], size)
    jobs: list[Callable[[], list[_Finding]]] = [
        partial(_cue_findings, cue, near, size)
        for cues, near in zip(groups, narrowed, strict=True)
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


def _cue_findings(cue: Cue, fields: Sequence[_Field], size: int) -> list[_Finding]:
    """A cue's findings: in the title, else in the abstract (one span per record)."""
    findings: list[_Finding] = []
    for field in fields:
        if cue.title_only and field.name != "title":
            continue
        if cue.facet == "adverse_effects":
            finding = _affirmed(cue, field)
        else:
            at, found = _scan(field, cue.pattern)
            spans = found.field("span").to_pylist()
            finding = _Finding(cue.facet, cue.value, field.name, field.rows[at], spans)
        for earlier in findings:
            finding.drop(_mask(earlier.rows, size))
        findings.append(finding)
    return findings


def _affirmed(cue: Cue, field: _Field) -> _Finding:
    """An adverse-effect cue's finding in one field, leaving out negated mentions."""
    at, found = _scan(field, rf"(?P<before>[^.;]{{0,40}})(?P<span>{cue.pattern})")
    spans = found.field("span").to_pylist()
    for index in np.flatnonzero(_negated(found.field("before"))).tolist():
        spans[index] = _later_affirmed(str(field.text[at[index]]), cue.pattern, spans[index])
    said = np.array([bool(s) for s in spans], dtype=bool)
    kept = [s for s in spans if s]
    return _Finding(cue.facet, cue.value, field.name, field.rows[at[said]] if len(at) else at, kept)


def _negated(before: pa.Array) -> np.ndarray:
    """Per mention: does a negation end the text just before it, with no "but" since?"""
    negated = pc.match_substring_regex(before, pattern=_NEGATED)
    released = pc.match_substring_regex(before, pattern=_UNNEGATED)
    both = pc.and_(negated, pc.invert(released))
    return np.asarray(both.to_numpy(zero_copy_only=False), dtype=bool)


def _later_affirmed(text: str, pattern: str, negated: str) -> str:
    """The first mention after a negated one that no negation governs, or "".

    Rare enough for Python's regex, which starts just after the negated mention.
    """
    start = text.find(negated) + 1
    for match in re.compile(pattern, flags=re.I).finditer(text, start):
        before = re.split(r"[.;]", text[max(0, match.start() - 40) : match.start()])[-1]
        if not re.search(_NEGATED, before) or re.search(_UNNEGATED, before):
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


def _discount(findings: list[_Finding], fields: Sequence[_Field]) -> None:
    """Drop a cue's tag where its ``unless`` mentions are as many as its own."""
    unless = {(c.facet, c.value): c for c in _CUES if c.unless}
    for finding in findings:
        cue = unless.get((finding.facet, finding.value))
        if cue is None or finding.field not in ("title", "abstract"):
            continue
        said = np.zeros(len(finding.rows), dtype=np.int64)
        for field in fields:
            text = field.text.take(pa.array(finding.rows))
            said += _count_matches(text, _plain(cue.pattern)) - _count_matches(text, cue.unless)
        finding.drop(_mask(finding.rows[said <= 0], len(fields[0].rows)))


def _count_matches(text: pa.Array, pattern: str) -> np.ndarray:
    found = pc.count_substring_regex(text, pattern=pattern, ignore_case=True)
    return np.asarray(pc.fill_null(found, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _suppress(findings: list[_Finding], *, humans: np.ndarray) -> None:
    """Drop tags that a stronger tag contradicts (see the module docstring)."""
    for finding in findings:
        if (finding.facet, finding.value) == ("design", "preclinical") and finding.field != "MeSH":
            finding.drop(humans)
    for tag, text_only, cancelled_by in _SUPPRESSED_BY:
        mask = np.zeros(len(humans), dtype=bool)
        for finding in findings:
            if (finding.facet, finding.value) in cancelled_by:
                mask[finding.rows] = True
        for finding in findings:
            from_text = finding.field in ("title", "abstract")
            if (finding.facet, finding.value) == tag and (from_text or not text_only):
                finding.drop(mask)


def _frame(records: pd.DataFrame, findings: list[_Finding]) -> pd.DataFrame:
    """The evidence frame: facet lists, n, dose, evidence, then a flag per vocabulary value."""
    size = len(records)
    flags = {f"{f}:{v}": np.zeros(size, dtype=bool) for f in FACETS for v in FACET_VALUES[f]}
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
    columns: dict[str, Any] = {facet: _lists(flags, facet, size) for facet in FACETS}
    columns["sample_size"] = pd.array([_count(n) for n in numbers["sample_size"]], dtype="Int64")
    columns["dose"] = numbers["dose"]
    columns["evidence"] = proof
    columns.update(sorted(flags.items()))
    index = pd.Index(records["pmid"].astype("int64").to_numpy(), name="pmid")
    return pd.DataFrame(columns, index=index)


def _lists(flags: Mapping[str, np.ndarray], facet: str, size: int) -> list[list[str]]:
    """Per record, the sorted values of a facet whose flag is set."""
    lists: list[list[str]] = [[] for _ in range(size)]
    for value in sorted(FACET_VALUES[facet]):
        for row in np.flatnonzero(flags[f"{facet}:{value}"]).tolist():
            lists[row].append(value)
    return lists


def _count(text: str) -> int | None:
    number = int(text.replace(",", "")) if text else 0
    return number if 0 < number < 10_000_000 else None
