"""Whether an adverse-effect mention counts: the words around it, read as a reviewer reads them.

An effect counts only when the record reports it as happening with the intervention (issue
#17). :mod:`tracker.tagging` finds each mention of an effect and the text around it; this module
decides, for a whole column of mentions at once (Arrow's RE2), whether the mention
- is negated ("no dizziness", the vocabulary's [negation]);
- is, by the words just before or after it, the condition studied, a symptom of it, the effect
  sought, a drug or a habit, an outcome measured or a possibility (the vocabulary's
  [effect_context]: "patients with hypertension", "to induce sedation", "sedative intake",
  "sedation scores", "may cause headache");
- is credited to the comparator ("more common in the placebo group"), or, in a ketamine record,
  to another drug named in its place ("more frequent after morphine", "midazolam produced
  sedation").
A mention that does not count lets a later one in the same field count, which Python's ``re``
looks for (rare enough). What these rules cannot tell apart is listed in tracker/tagging.py.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracker.vocabulary import Vocabulary

AFTER = 60
"""Characters after a mention that its context is read from."""
BEFORE = 160
"""Characters before it (a negation must be nearer: the vocabulary's reach)."""
_CREDITED_AFTER = (
    r"(?i)^[^.;]{0,30}?\b(?:more|most|only|mainly|higher|greater)\b(?:\s+[\w-]+){0,3}?\s+"
    r"(?:with|after|in|on|among|following|by)\s+(?:the\s+)?(?P<who>[a-z][\w-]*)"
)
"""The word an effect is credited to after it: "more frequent after morphine"."""
_CREDITED_BEFORE = (
    r"(?i)\b(?P<who>[a-z][\w-]*)(?:\s+(?:group|arm|recipients|infusions?|treatment))?\s+"
    r"(?:produced|caused|induced)\s+(?:[\w,-]+\s+){0,4}$"
)
"""The word an effect is credited to before it: "midazolam produced sedation"."""
_NOT_A_DRUG = frozenset({
    "the", "a", "an", "this", "these", "those", "that", "patients", "women", "men", "children",
    "subjects", "participants", "group", "groups", "arm", "arms", "doses", "dose", "higher",
    "lower", "older", "younger", "elderly", "first", "second", "both", "all", "each", "either",
    "combination", "active", "treated", "treatment", "drug", "drugs", "study", "trial", "week",
    "weeks", "day", "days", "month", "months", "year", "years", "time", "cases", "total",
    "overall", "particular", "general", "addition", "contrast", "comparison",
})  # fmt: skip
"""Words after "more common with/in" that name no comparator drug."""


class MentionRules(NamedTuple):
    """A vocabulary's rules for mentions, as patterns ready to run."""

    negated: str
    released: str
    window: int
    """How far back a negation reaches, in characters."""
    preceding: str
    """RE2 for the text before a mention that makes it no effect ("" when none)."""
    following: str
    """RE2 for the text after a mention that makes it no effect ("" when none)."""
    comparators: frozenset[str]
    drugs: str
    """Any drug cue of the vocabulary, to tell a ketamine from the drug it was compared with."""

    @classmethod
    def of(cls, vocabulary: Vocabulary) -> MentionRules:
        negation, context = vocabulary.negation, vocabulary.effect_context
        drugs = [
            c.pattern.replace("(?P<span>", "(?:") for c in vocabulary.cues() if c.facet == "drug"
        ]
        return cls(
            negated=negation.negated,
            released=negation.released,
            window=negation.reach + max(len(word) for word in negation.words),
            preceding=context.preceding,
            following=context.following,
            comparators=frozenset(word.casefold() for word in context.comparators),
            drugs="|".join(drugs),
        )


def with_context(pattern: str) -> str:
    """A cue's pattern with the text before (group ``before``) and after (``after``) it, in the
    same sentence; the mention itself is the group ``span``."""
    return rf"(?P<before>[^.;]{{0,{BEFORE}}})(?P<span>{pattern})(?P<after>[^.;]{{0,{AFTER}}})"


def judge(
    rules: MentionRules, before: pa.Array, after: pa.Array
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per mention: does it not count; is that because of its context (not negation or a
    comparator); and the word it is credited to, lower-cased, or ""."""
    credited = _credited(before, after)
    context = np.zeros(len(before), dtype=bool)
    if rules.preceding:
        context |= _matches(before, rules.preceding)
    if rules.following:
        context |= _matches(after, rules.following)
    comparator = np.array([word in rules.comparators for word in credited], dtype=bool)
    return _negated(rules, before) | comparator | context, context, credited


def later_counted(rules: MentionRules, text: str, pattern: str, blocked: str) -> tuple[str, str]:
    """The first mention after a blocked one that counts, and whom it is credited to; or "".

    Python's regex, which starts just after the blocked mention.
    """
    compiled = _python_rules(rules.negated, rules.released, rules.preceding, rules.following)
    start = text.find(blocked) + 1
    for match in re.compile(pattern, flags=re.I).finditer(text, start):
        before = re.split(r"[.;]", text[max(0, match.start() - BEFORE) : match.start()])[-1]
        after = re.split(r"[.;]", text[match.end() : match.end() + AFTER])[0]
        near = before[-rules.window :]
        if compiled.negated.search(near) and not compiled.released.search(near):
            continue
        if any(rule and rule.search(part) for rule, part in compiled.context(before, after)):
            continue
        credit = compiled.credited_after.search(after) or compiled.credited_before.search(before)
        who = credit.group("who").casefold() if credit else ""
        if who not in rules.comparators:
            return match.group(0), who
    return "", ""


def credited_elsewhere(
    rules: MentionRules, rows: np.ndarray, credited: list[str], drugs: np.ndarray
) -> np.ndarray:
    """Records (a mask as long as ``drugs``) where a mention was credited to another drug than
    the vocabulary's, in a record that names one of the vocabulary's: the comparator's."""
    mask = np.zeros(len(drugs), dtype=bool)
    if not rules.drugs or not credited:
        return mask
    ours = _compiled(rules.drugs)
    for row, word in zip(rows.tolist(), credited, strict=True):
        if drugs[row] and word and word not in _NOT_A_DRUG and not ours.search(word):
            mask[row] = True
    return mask


def _matches(text: pa.Array, pattern: str) -> np.ndarray:
    hit = pc.fill_null(pc.match_substring_regex(text, pattern=pattern), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def _credited(before: pa.Array, after: pa.Array) -> list[str]:
    """Per mention, the word it is credited to ("more common in the placebo group", "midazolam
    produced sedation"), lower-cased, or ""."""
    words = []
    for pattern, text in ((_CREDITED_AFTER, after), (_CREDITED_BEFORE, before)):
        who = pc.extract_regex(text, pattern=pattern).field("who")
        words.append([w.casefold() if w else "" for w in who.to_pylist()])
    return [a or b for a, b in zip(*words, strict=True)]


def _negated(rules: MentionRules, before: pa.Array) -> np.ndarray:
    """Per mention: does a negation end the text just before it, with no "but" since?"""
    near = pc.utf8_slice_codeunits(before, start=-rules.window)
    negated = pc.match_substring_regex(near, pattern=rules.negated)
    released = pc.match_substring_regex(near, pattern=rules.released)
    both = pc.and_(negated, pc.invert(released))
    return np.asarray(both.to_numpy(zero_copy_only=False), dtype=bool)


class _PythonRules(NamedTuple):
    """The mention rules compiled for Python's ``re``; a context the vocabulary lacks is None."""

    negated: re.Pattern[str]
    released: re.Pattern[str]
    preceding: re.Pattern[str] | None
    following: re.Pattern[str] | None
    credited_after: re.Pattern[str]
    credited_before: re.Pattern[str]

    def context(
        self, before: str, after: str
    ) -> tuple[tuple[re.Pattern[str] | None, str], tuple[re.Pattern[str] | None, str]]:
        return (self.preceding, before), (self.following, after)


@cache
def _python_rules(negated: str, released: str, preceding: str, following: str) -> _PythonRules:
    return _PythonRules(
        re.compile(negated),
        re.compile(released),
        re.compile(preceding) if preceding else None,
        re.compile(following) if following else None,
        re.compile(_CREDITED_AFTER),
        re.compile(_CREDITED_BEFORE),
    )


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)
