"""The evidence-tag vocabulary, read from a TOML file a researcher can edit.

What tags exist and which words justify them is knowledge about the field, not code: it lives
in ``tracker/vocabulary.toml`` (the packaged default, whose comments explain how to add a
synonym). A library can carry its own copy, ``<data_dir>/vocabulary.toml``, which wins over the
default when present; :func:`write_default` makes that copy.

The file is checked whole when loaded: every facet known, every value declared once, every
reference to a value resolved, every pattern accepted by Python's ``re`` and by Arrow's RE2
(which does the scanning). A mistake is a :class:`VocabularyError` naming the file and the
entry, so an edit never silently stops tagging. How the patterns are run lives in
:mod:`tracker.tagging`; the sample-size and dose extractors stay there too, because they are
machinery (numbered groups, an order of tries, number formats) rather than vocabulary.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tracker.errors import TrackerError
from tracker.records import Facet
from tracker.store import Store

DEFAULT_PATH = Path(__file__).resolve().parent / "vocabulary.toml"
FILE_NAME = "vocabulary.toml"
KNOWN_FACETS = tuple(facet.value for facet in Facet)
"""The facets the rest of tracker knows how to show; a file may not invent others."""

CLAIMED = ("common", "less common", "")
SAMPLES = ("", "none", "studies")
"""What a design's records count: people (""), nothing ("none"), or the studies they pool."""
_VALUE_KEYS = frozenset({
    "value", "text", "title", "unless", "publication_types", "mesh", "chemically_induced",
    "cancelled_by", "cancelled_in_text_by", "claimed", "sample",
})  # fmt: skip
_NEGATION_KEYS = frozenset({"words", "except", "reach"})
_CONTEXT_KEYS = frozenset({"before", "after", "comparators", "title", "affirm"})
_SECTIONS = (*KNOWN_FACETS, "negation", "commentary", "effect_context")


class VocabularyError(TrackerError):
    """The vocabulary file cannot be used: it names the file and the faulty entry."""


@dataclass(frozen=True, slots=True)
class Cue:
    """A text cue: an RE2 pattern (matched case-insensitively) that justifies one tag.

    ``unless`` matches mentions that do not count: the tag stands only when the value's cues
    match more often than ``unless`` does.
    """

    facet: str
    value: str
    pattern: str
    title_only: bool = False
    unless: str = ""


@dataclass(frozen=True, slots=True)
class Value:
    """One tag a facet can take, with everything that can justify or cancel it."""

    facet: str
    name: str
    text: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    unless: str = ""
    publication_types: tuple[str, ...] = ()
    mesh: tuple[str, ...] = ()
    chemically_induced: tuple[str, ...] = ()
    cancelled_by: tuple[tuple[str, str], ...] = ()
    cancelled_in_text_by: tuple[tuple[str, str], ...] = ()
    claimed: str = ""
    sample: str = ""
    """(designs) "none": no sample of its own; "studies": the studies pooled instead."""

    def cues(self) -> tuple[Cue, ...]:
        """Title-only cues, then cues for either field.

        A field's patterns are joined into one alternation (one scan, the leftmost mention as
        evidence), except a pattern naming its own ``span`` group, which is scanned alone.
        """
        cues = []
        for title_only, patterns in ((True, self.title), (False, self.text)):
            alone = [p for p in patterns if "(?P<span>" in p]
            joined = [p for p in patterns if "(?P<span>" not in p]
            if joined:
                pattern = joined[0] if len(joined) == 1 else "|".join(f"(?:{p})" for p in joined)
                cues.append(Cue(self.facet, self.name, pattern, title_only, self.unless))
            cues.extend(Cue(self.facet, self.name, p, title_only, self.unless) for p in alone)
        return tuple(cues)


_CLAUSE_VERBS = (
    "was", "were", "is", "are", "occurred", "reported", "experienced", "developed", "had",
    "has", "have", "caused", "induced", "produced", "showed", "complained",
)  # fmt: skip
"""Verbs that open a new clause inside a list: a negation before them does not reach past."""


@dataclass(frozen=True, slots=True)
class Negation:
    """Words that negate an adverse effect named at most ``reach`` characters later, unless
    one of ``exceptions`` ("but") comes between them."""

    words: tuple[str, ...]
    exceptions: tuple[str, ...]
    reach: int

    @property
    def negated(self) -> str:
        """RE2: text that ends within reach of a negation, in the same sentence."""
        return rf"(?i)\b(?:{_alternation(self.words)})\b[^.;]{{0,{self.reach}}}$"

    @property
    def released(self) -> str:
        """RE2: text where an exception follows the last negation, or a clause the negation
        governs ends ("no serious events were recorded, and ")."""
        words, exceptions = _alternation(self.words), _alternation(self.exceptions)
        verbs = _alternation(_CLAUSE_VERBS)
        return (
            rf"(?i)\b(?:{words})\b[^.;]*(?:\b(?:{exceptions})\b[^.;]*"
            rf"|\b(?:{verbs})\b[^.;]*,[^.;]*)$"
        )

    @property
    def negated_list(self) -> str:
        """RE2: text that ends in a list a negation heads, beyond its reach ("not associated
        with EPS, dystonia, akathisia or excessive "): the negation covers every item."""
        first, item = r"[^,.;]{0,100},\s*", r"[^,.;]{0,60}"
        return rf"(?i)\b(?:{_alternation(self.words)})\b{first}(?:{item},\s*){{0,8}}{item}$"

    @property
    def released_list(self) -> str:
        """RE2: a list after a negation that a verb or an exception breaks ("no serious events
        were reported, and headache"): a new clause the negation does not reach."""
        words = _alternation(self.words)
        breaks = _alternation((*self.exceptions, *_CLAUSE_VERBS))
        return rf"(?i)\b(?:{words})\b[^.;]*\b(?:{breaks})\b[^.;]*$"


@dataclass(frozen=True, slots=True)
class EffectContext:
    """Words around an adverse-effect mention that make it something other than an effect of
    the intervention: the condition studied, the effect sought, a drug taken, the comparator's.
    """

    before: tuple[str, ...] = ()
    """RE2 patterns for the text that ends at the mention ("patients with ")."""
    after: tuple[str, ...] = ()
    """RE2 patterns for the text that starts right after it (" intake")."""
    comparators: tuple[str, ...] = ()
    """Words naming what an intervention is compared with ("placebo")."""
    title: tuple[str, ...] = ()
    """RE2 patterns that frame an effect a title names as an effect ("-induced", "adverse");
    without one of them (or a drug of the vocabulary) the effect is the record's topic."""
    affirm: tuple[str, ...] = ()
    """RE2 patterns for the text before a mention that report it as an effect that occurred
    ("the commonest adverse events were "): they outweigh ``before``, ``after`` and a
    comparator, not a negation."""

    @property
    def preceding(self) -> str:
        """RE2: text whose end makes the mention that follows it no effect; "" if none. A
        hyphenated prefix may come between ("treatment of moderate-to-")."""
        return rf"(?i)(?:{'|'.join(self.before)})(?:\w+-)*\s*$" if self.before else ""

    @property
    def following(self) -> str:
        """RE2: text whose start makes the mention before it no effect; "" if none."""
        return rf"(?i)^\s*(?:{'|'.join(self.after)})" if self.after else ""

    @property
    def affirming(self) -> str:
        """RE2: text whose end reports the mention that follows as an effect; "" if none."""
        return rf"(?i)(?:{'|'.join(self.affirm)})(?:\w+-)*\s*$" if self.affirm else ""

    @property
    def framing(self) -> str:
        """RE2: a title that frames the effects it names as effects; "" if none."""
        return rf"(?i)(?:{'|'.join(self.title)})" if self.title else ""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """A whole vocabulary file, checked: facets in display order, each with its values."""

    path: Path
    fingerprint: str
    """sha256 of the file's bytes: cache tags per vocabulary with it."""
    facets: tuple[tuple[str, tuple[Value, ...]], ...]
    negation: Negation
    commentary: tuple[str, ...] = ()
    """Publication types whose records discuss others' studies: no design tags from text."""
    effect_context: EffectContext = EffectContext()

    @property
    def facet_names(self) -> tuple[str, ...]:
        return tuple(facet for facet, _ in self.facets)

    def values(self) -> tuple[Value, ...]:
        """Every value of every facet, in display order."""
        return tuple(value for _, values in self.facets for value in values)

    def facet_values(self) -> dict[str, tuple[str, ...]]:
        """Each facet's value names, in display order."""
        return {facet: tuple(v.name for v in values) for facet, values in self.facets}

    def cues(self) -> tuple[Cue, ...]:
        return tuple(cue for value in self.values() for cue in value.cues())

    def publication_types(self) -> dict[str, tuple[str, str]]:
        """Publication type -> (facet, value)."""
        return {t: (v.facet, v.name) for v in self.values() for t in v.publication_types}

    def mesh(self) -> dict[str, tuple[str, str]]:
        """MeSH descriptor -> (facet, value)."""
        return {m: (v.facet, v.name) for v in self.values() for m in v.mesh}

    def chemically_induced(self) -> dict[str, tuple[str, str]]:
        """``"<descriptor>/chemically induced"`` -> (facet, value)."""
        return {
            f"{m}/chemically induced": (v.facet, v.name)
            for v in self.values()
            for m in v.chemically_induced
        }

    def samples(self) -> dict[str, str]:
        """Design values whose records count no people -> "none" or "studies"."""
        return {v.name: v.sample for v in self.values() if v.sample}

    def claimed_effects(self) -> dict[str, str]:
        """Adverse effects the patient leaflet names -> "common" or "less common"."""
        return {v.name: v.claimed for v in self.values() if v.claimed}


VocabularyOwner = Store | Path | None
"""Whose vocabulary: a store, a data folder (opened as a store), or None for the default."""


def vocabulary_path(library: VocabularyOwner) -> Path:
    """The file in use: the library's own copy when it has one, else the packaged default."""
    own = _own(library)
    return own[0] if own is not None else DEFAULT_PATH


def load_vocabulary(library: VocabularyOwner = None) -> Vocabulary:
    """The vocabulary in use for ``library`` (the packaged default when it has none).

    Parsed once per file content: an edited file is read anew, an unchanged one is not.
    """
    own = _own(library)
    if own is not None:
        return _parse(*own)
    return _parse(DEFAULT_PATH, DEFAULT_PATH.read_bytes())


def write_default(library: Store | Path) -> Path:
    """Give the library its own copy of the packaged vocabulary, to edit."""
    store = library if isinstance(library, Store) else Store(library)
    try:
        return store.create_vocabulary(DEFAULT_PATH.read_bytes())
    except FileExistsError:
        path = vocabulary_path(store)
        raise VocabularyError(
            f"{path} already exists and was left as it is; edit it, or delete it first to "
            "start again from the default"
        ) from None


def vocabulary_bytes(library: VocabularyOwner) -> bytes:
    """The vocabulary in use, as its file's bytes (to save a copy for editing)."""
    own = _own(library)
    return own[1] if own is not None else DEFAULT_PATH.read_bytes()


def load_file(library: Store, path: Path) -> Path:
    """Make the file at ``path`` the library's own vocabulary, once it has been checked whole:
    a mistake is a :class:`VocabularyError` naming the file, and the one in use stays."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    _parse(path, content)
    return library.replace_vocabulary(content)


def _own(library: VocabularyOwner) -> tuple[Path, bytes] | None:
    if library is None:
        return None
    store = library if isinstance(library, Store) else Store(library)
    try:
        return store.own_vocabulary()
    except OSError as exc:
        raise VocabularyError(
            f"{exc.filename or 'vocabulary.toml'}: cannot be read ({exc.strerror}); fix the"
            " file or delete it to go back to the default"
        ) from exc


@cache
def _parse(path: Path, content: bytes) -> Vocabulary:
    where = _Where(path)
    try:
        document = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise where.error("", f"is not valid TOML ({exc})") from exc
    unknown = [key for key in document if key not in _SECTIONS]
    if unknown:
        raise where.error(
            f"[[{unknown[0]}]]", f"is not a facet; the facets are {', '.join(KNOWN_FACETS)}"
        )
    facets = tuple((facet, _facet(where, facet, document)) for facet in _ordered(where, document))
    declared = {(v.facet, v.name) for _, values in facets for v in values}
    for _, values in facets:
        for value in values:
            for facet, name in (*value.cancelled_by, *value.cancelled_in_text_by):
                if (facet, name) not in declared:
                    raise where.error(
                        _entry(value), f"is cancelled by {facet}:{name}, which is not declared"
                    )
    negation = _negation(where, document.get("negation"))
    commentary = document.get("commentary", {})
    if not isinstance(commentary, dict) or set(commentary) - {"publication_types"}:
        raise where.error("[commentary]", "may hold only publication_types = [...]")
    types = _strings(where, "[commentary]", commentary, "publication_types")
    context = _effect_context(where, document.get("effect_context", {}))
    fingerprint = hashlib.sha256(content).hexdigest()
    return Vocabulary(path, fingerprint, facets, negation, types, context)


class _Where:
    """Where a mistake is, for messages that send the user to the right line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, entry: str, problem: str) -> VocabularyError:
        at = f" {entry}" if entry else ""
        return VocabularyError(
            f"{self.path}:{at} {problem}; fix the file or delete it to go back to the default"
        )


def _ordered(where: _Where, document: Mapping[str, Any]) -> list[str]:
    missing = [facet for facet in KNOWN_FACETS if facet not in document]
    if missing:
        raise where.error(f"[[{missing[0]}]]", "is missing: every facet needs at least one value")
    return [key for key in document if key in KNOWN_FACETS]


def _facet(where: _Where, facet: str, document: Mapping[str, Any]) -> tuple[Value, ...]:
    entries = document[facet]
    if not isinstance(entries, list) or not entries:
        raise where.error(f"[[{facet}]]", "must be a list of [[" + facet + "]] blocks")
    values: list[Value] = []
    for number, entry in enumerate(entries, start=1):
        value = _value(where, facet, number, entry)
        if any(v.name == value.name for v in values):
            raise where.error(_entry(value), "is declared twice")
        values.append(value)
    return tuple(values)


def _value(where: _Where, facet: str, number: int, entry: Any) -> Value:
    label = f"[[{facet}]] number {number}"
    if not isinstance(entry, dict):
        raise where.error(label, "must be a table of keys")
    name = entry.get("value")
    if not isinstance(name, str) or not name.strip():
        raise where.error(label, 'has no `value = "…"` naming the tag')
    label = f'[[{facet}]] "{name}"'
    extra = sorted(set(entry) - _VALUE_KEYS)
    if extra:
        raise where.error(label, f"has an unknown key {extra[0]!r}")
    claimed = _text(where, label, entry, "claimed")
    if claimed not in CLAIMED or (claimed and facet != "adverse_effects"):
        raise where.error(label, 'has claimed = "common", "less common" or "" (adverse effects)')
    sample = _text(where, label, entry, "sample")
    if sample not in SAMPLES or (sample and facet != "design"):
        raise where.error(label, 'has sample = "none" or "studies" (designs only)')
    cancelled_by = _strings(where, label, entry, "cancelled_by")
    cancelled_in_text_by = _strings(where, label, entry, "cancelled_in_text_by")
    value = Value(
        facet=facet,
        name=name,
        text=_patterns(where, label, entry, "text"),
        title=_patterns(where, label, entry, "title"),
        unless=_pattern(where, label, "unless", _text(where, label, entry, "unless")),
        publication_types=_strings(where, label, entry, "publication_types"),
        mesh=_strings(where, label, entry, "mesh"),
        chemically_induced=_strings(where, label, entry, "chemically_induced"),
        cancelled_by=tuple(_reference(where, label, r) for r in cancelled_by),
        cancelled_in_text_by=tuple(_reference(where, label, r) for r in cancelled_in_text_by),
        claimed=claimed,
        sample=sample,
    )
    sources = (value.text, value.title, value.publication_types, value.mesh)
    if not any(sources) and not value.chemically_induced:
        raise where.error(label, "has nothing that could justify it (text, title, mesh, …)")
    for cue in value.cues():
        _pattern(where, label, "text", cue.pattern)
    return value


def _negation(where: _Where, entry: Any) -> Negation:
    if not isinstance(entry, dict):
        raise where.error("[negation]", "is missing: it needs words, except and reach")
    missing = sorted(_NEGATION_KEYS - set(entry))
    extra = sorted(set(entry) - _NEGATION_KEYS)
    if missing or extra:
        problem = f"lacks {missing[0]!r}" if missing else f"has an unknown key {extra[0]!r}"
        raise where.error("[negation]", problem)
    reach = entry["reach"]
    if not isinstance(reach, int) or isinstance(reach, bool) or not 1 <= reach <= 200:
        raise where.error("[negation] reach", "must be a whole number of characters, 1 to 200")
    negation = Negation(
        _strings(where, "[negation]", entry, "words"),
        _strings(where, "[negation]", entry, "except"),
        reach,
    )
    if not negation.words or not negation.exceptions:
        raise where.error("[negation]", "needs at least one word in `words` and in `except`")
    _pattern(where, "[negation]", "words", negation.negated)
    _pattern(where, "[negation]", "except", negation.released)
    return negation


def _effect_context(where: _Where, entry: Any) -> EffectContext:
    label = "[effect_context]"
    if not isinstance(entry, dict) or set(entry) - _CONTEXT_KEYS:
        raise where.error(
            label, "may hold only before, after, affirm, title (lists of patterns) and comparators"
        )
    context = EffectContext(
        _patterns(where, label, entry, "before"),
        _patterns(where, label, entry, "after"),
        _strings(where, label, entry, "comparators"),
        _patterns(where, label, entry, "title"),
        _patterns(where, label, entry, "affirm"),
    )
    checks = (
        ("before", context.preceding),
        ("after", context.following),
        ("title", context.framing),
        ("affirm", context.affirming),
    )
    for key, pattern in checks:
        _pattern(where, label, key, pattern)
    return context


def _entry(value: Value) -> str:
    return f'[[{value.facet}]] "{value.name}"'


def _strings(where: _Where, label: str, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
    items = entry.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise where.error(label, f"{key} must be a list of non-empty strings")
    return tuple(items)


def _text(where: _Where, label: str, entry: Mapping[str, Any], key: str) -> str:
    item = entry.get(key, "")
    if not isinstance(item, str):
        raise where.error(label, f"{key} must be a string")
    return item


def _reference(where: _Where, label: str, reference: str) -> tuple[str, str]:
    facet, _, name = reference.partition(":")
    if facet not in KNOWN_FACETS or not name:
        raise where.error(label, f'"{reference}" must read "facet:value"')
    return facet, name


def _patterns(where: _Where, label: str, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(_pattern(where, label, key, p) for p in _strings(where, label, entry, key))


def _pattern(where: _Where, label: str, key: str, pattern: str) -> str:
    """``pattern`` unchanged, once both Python's ``re`` and Arrow's RE2 accept it."""
    if not pattern:
        return pattern
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise where.error(label, f"{key} pattern {pattern!r} is not a valid regex: {exc}") from exc
    if set(compiled.groupindex) - {"span"}:
        raise where.error(label, f"{key} pattern {pattern!r} may name only the group 'span'")
    if not _re2_accepts(pattern):
        raise where.error(
            label,
            f"{key} pattern {pattern!r} is not accepted by RE2 (no look-behind, look-ahead or "
            "back-references)",
        )
    return pattern


@cache
def _re2_accepts(pattern: str) -> bool:
    try:
        pc.match_substring_regex(pa.array(["x"]), pattern=f"(?i){pattern}")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(word) for word in words)
