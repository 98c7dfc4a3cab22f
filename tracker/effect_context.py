"""Whether an adverse-effect mention counts: the words around it, read as a reviewer reads them.

An effect counts only when the record reports it as happening with the intervention (issue
#17). :mod:`tracker.tagging` finds each mention of an effect and the text around it; this module
decides, for a whole column of mentions at once (Arrow's RE2), whether the mention
- is negated ("no dizziness", the vocabulary's [negation]), or is an item of a list a
  negation heads ("not associated with EPS, dystonia or sedation");
- is, by the words just before or after it, the condition studied, a symptom of it, the effect
  sought, a drug or a habit, an outcome measured or a possibility (the vocabulary's
  [effect_context]: "patients with hypertension", "to induce sedation", "sedative intake",
  "sedation scores", "may cause headache");
- is credited to the comparator ("more common in the placebo group"), or, in a ketamine record,
  to another drug named in its place ("more frequent after morphine", "midazolam produced
  sedation");
- is, in a title, the record's topic rather than an effect ("Migraine-associated dizziness");
and whether words before it report it as an event ("the commonest adverse events were"), which
outweighs the context and the comparator, though not a negation.
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

AFTER = 160
"""Characters after a mention that its context is read from: enough to reach the verb at the end
of a long list of what was measured ("nausea, pruritus, sedation, motor block, ... and oxygen
saturation were assessed"), which 60 did not (issue #17, round seven). The other `after`
patterns are anchored at the mention and bounded, so the longer window reaches no further for
them."""
BEFORE = 160
"""Characters before it (a negation must be nearer: the vocabulary's reach)."""
_CREDITED_AFTER = (
    r"(?i)^(?:[^.;]{0,30}?\b(?:more|most|only|mainly|higher|greater)\b(?:\s+[\w-]+){0,3}?\s+"
    r"|\s*(?:was|were)?\s*(?:\w+\s+)?from [\d.,]+ to [\d.,]+ [\w/]+\s+)"
    r"(?:with|after|in|on|among|following|by)\s+(?:the\s+)?(?P<who>[a-z][\w-]*)"
)
"""The word an effect is credited to after it: "more frequent after morphine", "increased from
130 to 134 mmHg in the placebo group"."""
_CLAUSE = r"(?:[^.;]|\.\d|(?i:e\.g|i\.e|vs|approx|ca)\.)"
"""A character of the same clause: a full stop ends it, but not one inside a number ("51.2")
or an abbreviation ("e.g.")."""
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
    negated_list: str
    """RE2: a list a negation heads ("no EPS, dystonia or "), however long (Negation)."""
    released_list: str
    preceding: str
    """RE2 for the text before a mention that makes it no effect ("" when none)."""
    following: str
    """RE2 for the text after a mention that makes it no effect ("" when none)."""
    comparators: frozenset[str]
    drugs: str
    """Any drug cue of the vocabulary, to tell a ketamine from the drug it was compared with."""
    framing: str
    """RE2 for a title that frames the effects it names as effects ("" when none)."""
    affirming: str
    """RE2 for the text before a mention that reports it as an effect ("" when none)."""

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
            negated_list=negation.negated_list,
            released_list=negation.released_list,
            preceding=context.preceding,
            following=context.following,
            comparators=frozenset(word.casefold() for word in context.comparators),
            drugs="|".join(drugs),
            framing=context.framing,
            affirming=context.affirming,
        )


def with_context(pattern: str) -> str:
    """A cue's pattern with the text before (group ``before``) and after (``after``) it, in the
    same sentence; the mention itself is the group ``span``."""
    return (
        rf"(?P<before>{_CLAUSE}{{0,{BEFORE}}})(?P<span>{pattern})(?P<after>{_CLAUSE}{{0,{AFTER}}})"
    )


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
    if rules.affirming:  # "the commonest adverse events were ..." outweighs the context
        affirmed = _matches(before, rules.affirming)
        context &= ~affirmed
        comparator &= ~affirmed
        credited = ["" if a else c for a, c in zip(affirmed.tolist(), credited, strict=True)]
    return _negated(rules, before) | comparator | context, context, credited


def later_counted(
    rules: MentionRules, text: str, pattern: str, blocked: str, *, same_condition: bool = False
) -> tuple[str, str]:
    """The first mention after a blocked one that counts, and whom it is credited to; or "".

    With ``same_condition`` (the blocked mention was the condition, the effect sought or a
    drug), a later mention of the same thing is that too: once "patients with hypertension"
    names the condition, "severe hypertension" later in the text is no effect either. Python's
    regex, which starts just after the blocked mention.
    """
    compiled = _python_rules(rules)
    start = text.find(blocked) + 1
    stem = _stem(blocked) if same_condition else ""
    for match in re.compile(pattern, flags=re.I).finditer(text, start):
        if stem and stem in match.group(0).casefold():
            continue
        before = last_clause(text[max(0, match.start() - BEFORE) : match.start()])
        after = first_clause(text[match.end() : match.end() + AFTER])
        if compiled.negates(before, rules.window):
            continue
        if compiled.affirming and compiled.affirming.search(before):
            return match.group(0), ""
        if any(rule and rule.search(part) for rule, part in compiled.context(before, after)):
            continue
        credit = compiled.credited_after.search(after) or compiled.credited_before.search(before)
        who = credit.group("who").casefold() if credit else ""
        if who not in rules.comparators:
            return match.group(0), who
    return "", ""


_NOT_AN_END = re.compile(r"\.\d|\b(?:e\.g|i\.e|vs|approx|ca)\.", re.I)
"""Full stops that end no clause, for Python's ``re``: the twin of :data:`_CLAUSE`."""


def _ends(text: str) -> list[int]:
    """Where the clauses of ``text`` end (each ``.`` or ``;`` that ends one)."""
    inside = {m.start() + i for m in _NOT_AN_END.finditer(text) for i in range(len(m.group()))}
    return [i for i, char in enumerate(text) if char in ".;" and i not in inside]


def said(rules: MentionRules, before: str, after: str) -> list[str]:
    """What the rules say of one mention, as feature names for the learned second opinion
    (tracker.effect_mentions): "rules:negated", "rules:context" (the condition, the effect
    sought, a drug, an outcome), "rules:comparator", "rules:affirmed" (reported as an event).
    ``before`` and ``after`` are the clause's text either side of it. Empty: it counts."""
    compiled = _python_rules(rules)
    found = []
    if compiled.negates(before, rules.window):
        found.append("rules:negated")
    if compiled.affirming and compiled.affirming.search(before):
        return [*found, "rules:affirmed"]
    if any(rule and rule.search(part) for rule, part in compiled.context(before, after)):
        found.append("rules:context")
    credit = compiled.credited_after.search(after) or compiled.credited_before.search(before)
    if credit and credit.group("who").casefold() in rules.comparators:
        found.append("rules:comparator")
    return found


def last_clause(text: str) -> str:
    """The last clause of ``text``: what a mention at its end shares a clause with."""
    ends = _ends(text)
    return text[ends[-1] + 1 :] if ends else text


def first_clause(text: str) -> str:
    """The first clause of ``text``."""
    ends = _ends(text)
    return text[: ends[0]] if ends else text


def _stem(span: str) -> str:
    """The first seven letters of a mention's longest word ("hyperten" of "severe
    hypertension"): what later mentions of the same thing share."""
    words = re.findall(r"[a-z]+", span.casefold())
    return max(words, key=len)[:7] if words else ""


def title_topics(rules: MentionRules, titles: pa.Array) -> np.ndarray:
    """Per title that names an effect: is the effect its topic rather than an effect of the
    intervention? It is unless the title frames it ("captopril-induced", "adverse effects of")
    or names a drug of the vocabulary ("hallucinations after ketamine"). Without framing
    patterns in the vocabulary, no title is a topic."""
    if not rules.framing:
        return np.zeros(len(titles), dtype=bool)
    framed = _matches(titles, rules.framing)
    if rules.drugs:
        framed |= _matches(titles, f"(?i){rules.drugs}")
    return ~framed


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
    """Per mention: does a negation end the text just before it, with no "but" since, or head
    the list it ends, with no new clause since?"""
    near = pc.utf8_slice_codeunits(before, start=-rules.window)
    negated = _matches(near, rules.negated) & ~_matches(near, rules.released)
    listed = _matches(before, rules.negated_list) & ~_matches(before, rules.released_list)
    both: np.ndarray = negated | listed
    return both


class _PythonRules(NamedTuple):
    """The mention rules compiled for Python's ``re``; a context the vocabulary lacks is None."""

    negated: re.Pattern[str]
    released: re.Pattern[str]
    negated_list: re.Pattern[str]
    released_list: re.Pattern[str]
    preceding: re.Pattern[str] | None
    following: re.Pattern[str] | None
    affirming: re.Pattern[str] | None
    credited_after: re.Pattern[str]
    credited_before: re.Pattern[str]

    def context(
        self, before: str, after: str
    ) -> tuple[tuple[re.Pattern[str] | None, str], tuple[re.Pattern[str] | None, str]]:
        return (self.preceding, before), (self.following, after)

    def negates(self, before: str, window: int) -> bool:
        """The Python twin of :func:`_negated`, for one mention."""
        near = before[-window:]
        if self.negated.search(near) and not self.released.search(near):
            return True
        return bool(self.negated_list.search(before) and not self.released_list.search(before))


@cache
def _python_rules(rules: MentionRules) -> _PythonRules:
    return _PythonRules(
        re.compile(rules.negated),
        re.compile(rules.released),
        re.compile(rules.negated_list),
        re.compile(rules.released_list),
        re.compile(rules.preceding) if rules.preceding else None,
        re.compile(rules.following) if rules.following else None,
        re.compile(rules.affirming) if rules.affirming else None,
        re.compile(_CREDITED_AFTER),
        re.compile(_CREDITED_BEFORE),
    )


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)
