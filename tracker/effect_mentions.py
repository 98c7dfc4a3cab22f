"""Every mention of an adverse effect in a record, described by the words around it.

The rules of :mod:`tracker.effect_context` read one mention at a time and say yes or no. The
learned second opinion (:mod:`tracker.effect_model`) reads the same mentions, all of them, and
weighs the words a reviewer weighs: a negation and how near it is, "patients with" before it,
"placebo" or "adverse" in its sentence, the title's words (the record's condition and design),
and what the rules themselves said of it. This module turns one mention into those features, a
set of short strings, so that training (scripts/train_effect_model.py) and scoring read a
mention the same way.

Mentions are found with Python's ``re`` per record: the model is asked only about records the
rules already gave an effect, a few in a hundred, so a loop costs little.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tracker import effect_context
from tracker.effect_context import MentionRules
from tracker.vocabulary import Vocabulary

_WORD = re.compile(r"[a-z][a-z-]*[a-z]|[a-z]")
_NEGATION = re.compile(
    r"\b(?:no|not|without|nor|neither|absence of|lack of|free of|denied|never|none)\b|n't\b", re.I
)
_STOP = frozenset({
    "a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "with", "by", "from",
    "as", "is", "are", "was", "were", "be", "been", "this", "that", "these", "those", "it",
    "its", "their", "there", "which", "who", "whom", "than", "then", "also",
})  # fmt: skip
"""Words too common to say anything in a bag of words (kept next to the mention, where
"with" and "of" do matter)."""
BEFORE_WORDS = 5
"""Words before a mention whose place is kept (the nearest first)."""
AFTER_WORDS = 4
"""Words after a mention whose place is kept."""


@dataclass(frozen=True, slots=True)
class Mention:
    """One mention of an adverse effect: where it is and what surrounds it."""

    value: str
    field: str
    start: int
    span: str
    features: frozenset[str]


@dataclass(frozen=True, slots=True)
class EffectCues:
    """A vocabulary's adverse-effect cues, compiled for Python's ``re``, per value."""

    rules: MentionRules
    cues: tuple[tuple[str, re.Pattern[str], bool], ...]
    """(value, pattern, title only)."""
    unless: dict[str, re.Pattern[str]]
    framing: re.Pattern[str] | None


def effect_cues(vocabulary: Vocabulary) -> EffectCues:
    """The vocabulary's adverse-effect cues, ready to find every mention."""
    cues = tuple(
        (cue.value, re.compile(cue.pattern, re.I), cue.title_only)
        for cue in vocabulary.cues()
        if cue.facet == "adverse_effects"
    )
    unless = {
        value.name: re.compile(value.unless, re.I)
        for value in vocabulary.values()
        if value.facet == "adverse_effects" and value.unless
    }
    rules = MentionRules.of(vocabulary)
    framing = re.compile(rules.framing) if rules.framing else None
    return EffectCues(rules, cues, unless, framing)


def mentions(
    cues: EffectCues, title: str, abstract: str, values: Sequence[str] | None = None
) -> list[Mention]:
    """Every mention of an effect (of ``values`` only, when given) in the title and abstract,
    in order, each with its features. Overlapping matches of one value count once."""
    found: list[Mention] = []
    record = _bag(title, "t:")
    for name, text in (("title", title), ("abstract", abstract)):
        if not text:
            continue
        taken: dict[str, int] = {}
        for value, _, _, match in _matches(cues, text, name, values):
            if match.start() < taken.get(value, -1):
                continue
            taken[value] = match.end()
            features = _features(cues, value, name, text, match, title, record)
            found.append(Mention(value, name, match.start(), match.group(0), features))
    return _with_counts(found)


def _with_counts(found: list[Mention]) -> list[Mention]:
    """Each mention also told how often its effect is named in the record and whether the
    title names it: an effect named throughout is more often the record's topic."""
    counts = Counter(m.value for m in found)
    titled = {m.value for m in found if m.field == "title"}
    described = []
    for m in found:
        many = counts[m.value]
        extra = {"named:once" if many == 1 else "named:twice" if many == 2 else "named:often"}
        if m.value in titled:
            extra.add("named:in title")
        described.append(Mention(m.value, m.field, m.start, m.span, m.features | extra))
    return described


def _matches(
    cues: EffectCues, text: str, field: str, values: Sequence[str] | None
) -> Iterator[tuple[str, re.Pattern[str], bool, re.Match[str]]]:
    hits = []
    for value, pattern, title_only in cues.cues:
        if (values is not None and value not in values) or (title_only and field != "title"):
            continue
        hits += [(m.start(), value, pattern, title_only, m) for m in pattern.finditer(text)]
    hits.sort(key=lambda hit: (hit[0], hit[1]))
    for _, value, pattern, title_only, match in hits:
        yield value, pattern, title_only, match


def _features(
    cues: EffectCues,
    value: str,
    field: str,
    text: str,
    match: re.Match[str],
    title: str,
    record: frozenset[str],
) -> frozenset[str]:
    """What a reviewer would look at around one mention, as feature names."""
    rules = cues.rules
    start, end = match.span()
    before = effect_context.last_clause(text[max(0, start - effect_context.BEFORE) : start])
    after = effect_context.first_clause(text[end : end + effect_context.AFTER])
    sentence = _sentence(text, start, end)
    said = effect_context.said(rules, before, after)
    features = {f"v={value}", f"f={field}", *said, *(f"{s}&v={value}" for s in said)}
    features.update(f"m:{w}" for w in _WORD.findall(match.group(0).casefold()))
    if not said:
        features.add("rules:counted")
    left = _WORD.findall(before.casefold())[-BEFORE_WORDS:][::-1]
    right = _WORD.findall(after.casefold())[:AFTER_WORDS]
    features.update(f"b{i}={w}" for i, w in enumerate(left[:2], start=1))
    features.update(f"b:{w}" for w in left)
    features.update(f"a{i}={w}" for i, w in enumerate(right[:2], start=1))
    features.update(f"a:{w}" for w in right)
    features.update(_bag(sentence, "s:"))
    features.update(record)
    negation = [m.end() for m in _NEGATION.finditer(before)]
    if negation:
        distance = len(before) - negation[-1]
        features.add("neg<=15" if distance <= 15 else "neg<=50" if distance <= 50 else "neg>50")
    unless = cues.unless.get(value)
    if unless is not None and any(
        m.start() <= start and end <= m.end() for m in unless.finditer(text)
    ):
        features.add("unless")
    if field == "title" and cues.framing is not None and not cues.framing.search(title):
        features.add("title:unframed")
    return frozenset(features)


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]`` (ends at ". " or ";")."""
    left = max(text.rfind(". ", 0, start), text.rfind(";", 0, start))
    right = [i for i in (text.find(". ", end), text.find(";", end)) if i >= 0]
    return text[left + 1 : min(right) if right else len(text)]


def _bag(text: str, prefix: str) -> frozenset[str]:
    return frozenset(prefix + w for w in _WORD.findall(text.casefold()) if w not in _STOP)
