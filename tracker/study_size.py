"""How many people a study had, and how many studies a review pooled, read from its abstract.

The sample size is the whole sample as the abstract states it, in this order of trust:

1. a stated total, the first in the text: "a total of N patients", "N patients were
   randomised / enrolled / studied …", "we enrolled N …", "the study group consisted of N",
   "… was determined in N patients". Numbers screened for eligibility are no sample ("133 were
   screened, of which 121 were enrolled" gives 121), and neither is "N of the patients", a part.
2. the groups of one sentence, added up, when they come before any total: "dexmedetomidine
   (n = 22) or placebo (n = 19)" is 41; "69 men and 39 women" is 108; "386 cases and 896
   controls" is 1,282; "627 were randomized to ramipril and 428 to placebo" is 1,055. A sentence
   that counts events rather than groups ("two died and two were lost") is not a list of groups.
3. failing both, the first "n = N", then the first "N patients" that does not count events
   ("dizziness in 2 patients", "7 of 42 patients", "15 (88%) patients").

The tagger no longer takes that order as final: :func:`readings` hands every rule's reading to
tracker.sample_choice, which ranks them with the other numbers of the text by weights fitted to
the hand labels (this order of trust held on the records it was written from, 0.94, and not
beyond them, 0.84). The rules still decide whether a text states a sample at all.

People only: patients, volunteers, women, cases … ; not eyes, visits, doses or animals (an
animal study has no sample size in the labelled sets, tests/expected/tagging_real_rules.md).
Numbers may be written in words ("One hundred and eighty-two patients"). Whether a record has a
sample at all (a review, a model, a guideline has none) is the design's business: tracker.tagging
drops the number for those designs.

The number of studies pooled is read for reviews and models: "Twenty-one randomised trials
(1,094 participants) met the inclusion criteria" gives 21.

This is plain Python ``re`` over one record at a time: the rules need look-ahead, sums and
word numbers, which Arrow's RE2 has not; a record takes tens of microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_WORD = rf"(?:{'|'.join(sorted(_UNITS, key=len, reverse=True))}|hundred|thousand)"
_NUMBER = (
    rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d{{1,3}}(?:[ \u2009\u00a0]\d{{3}})+(?![\d.,])|\d+"
    rf"|{_WORD}(?:[\s-]+(?:and[\s-]+)?{_WORD})*)"
)
"""A number: "1,204", "33 357" (JAMA writes thousands apart by a space), "12", "forty-two"."""
_PEOPLE = (
    r"(?:patients|participants|subjects|volunteers|individuals|people|persons|adults|children"
    r"|adolescents|infants|neonates|women|men|males?|females?|boys|girls|veterans|cases|controls"
    r"|outpatients|out-patients|inpatients|in-patients|pts|students|runners|smokers|recipients"
    r"|respondents|responders|non-?responders|siblings|users|victims|entrants"
    r"|applicators|workers|residents|survivors|nonsmokers|hypertensives|diabetics"
    r"|physicians|doctors|nurses|clinicians|pharmacists|practitioners|surgeons|psychiatrists)"
)
_ADJECTIVES = (  # words between a number and its noun, but no unit, time or joining word
    r"(?:(?:type\s+(?:1|2|I|II)\s+)|(?:\d+-?\s*(?:to|-)[\s-]*\d+-year-old\s+|\d+-year-old\s+)|(?!(?:mg|mcg|µg|g|kg|ml|mmol|mm|hg|mmhg|cm|units?|years?|yrs?|weeks?|wk"
    r"|days?|months?|hours?|min|times|per|of|in|with|from|at|on|for|who|were|was|had)\b)"
    r"(?!h(?:[\s,;)]|$))(?:[A-Za-z]{1,2}\.|[A-Za-z][\w'/-]*(?:\.[\w'/-]+)*),?\s+){0,6}?"
)
_ITEM = rf"(?P<n>{_NUMBER})\s+(?:\((?![^)]*%)[^)]*\)\s+)?{_ADJECTIVES}{_PEOPLE}\b"
_ENTERED = (
    r"(?:randomi[sz]ed|enrolled|included|recruited|allocated|assigned|studied|analy[sz]ed"
    r"|evaluated|examined|investigated|treated|selected|entered|followed|observed|tested|assessed"
    r"|qualified|divided|monitored|interviewed|surveyed|reviewed|involved|given|administered"
    r"|exposed|re-?examined|re-?evaluated)"
)
_GAP = (
    r"(?:[^.;\d(]|\([^()]*\)|\b[A-Z]\.\s|\b(?:[a-z]\.){1,3}|\b(?:19|20)\d\d\b"
    r"|\baged?\s+\d+(?:\s*(?:-|to)\s*\d+)?|\b\d+ [a-z-]+(?=,| and\b)"
    r"|[<>]?\s*\d+(?:\.\d+)?\s*(?:%|mm\s?hg|cm|mg|years?|yrs?|kg/m2|kg|ml/min|g/dl|mmol/l)"
    r"|[<>=]\s*\d+(?:\.\d+)?)"
)
"""What may stand between "N patients" and the verb that enters them: a description with
its parentheses, abbreviations ("H. pylori", "b.i.d."), the groups it is made of ("8 whites and
8 blacks") and measurements ("< 40%", "160 mmHg", "> 4")."""


class _Rule(NamedTuple):
    """A way of stating a total: what must come just before the number, and what from it on;
    ``item`` when that starts with "N people" (:data:`_ITEM`), so a number not followed by
    people is passed over after one test instead of one per rule."""

    before: re.Pattern[str] | None
    at: re.Pattern[str]
    item: bool


def _rule(before: str | None, at: str) -> _Rule:
    return _Rule(
        re.compile(rf"(?:{before})\s*$", re.I) if before else None,
        re.compile(at, re.I),
        at.startswith(_ITEM),
    )


_TOTALS = (
    _rule(
        r"\b(?:a total of|in total,?|overall,?|altogether,?)",
        rf"(?P<n>{_NUMBER})\s+{_ADJECTIVES}(?:{_PEOPLE}\b|(?-i:[A-Z][a-z]+s)\b)",
    ),
    _rule(
        None,
        rf"{_ITEM}(?:\s*\([^)]*\))?(?:(?!\b(?:were|was|had|have)\b){_GAP}){{0,160}}?"
        rf"\b(?:were|was|had been|have been)\s+(?:\w+\s+)?{_ENTERED}\b",
    ),
    # "Of 193 patients at 16 centres, 111 had ...": the sentence opens with the whole
    _rule(r"(?:^|(?<=[.;])\s+)Of\s+(?:the\s+|a total of\s+|all\s+)?", _ITEM),
    _rule(None, rf"{_ITEM}\s+had (?:complete|full|evaluable|available|adequate) (?:data|records)"),
    _rule(
        r"\b(?:enrolled|enrolling|randomi[sz]ed|randomly assigned|randomly allocated|recruited"
        r"|studied|included|evaluated|examined|investigated|involving|involved|comprising"
        r"|comprised|consisted of|consisting of|identified|treated|analy[sz]ed|describe|report"
        r"|(?:survey|study|trial|cohort|series|sample|evaluation|analysis) of"
        r"|(?:completed|answered|returned) by)\s+(?:a total of\s+|the\s+)?",
        _ITEM,
    ),
    _rule(None, rf"(?P<n>{_NUMBER})\s+(?:were|was)\s+randomi[sz]ed\b"),
    _rule(
        r"\bstudy (?:population|group|sample) (?:consisted of|comprised|included|was)\s+"
        r"(?:\w+\s+){0,2}",
        rf"(?P<n>{_NUMBER})\b",
    ),
    _rule(
        None,
        rf"{_ITEM}(?:\s*\([^)]*\))?(?:(?!\b(?:were|was|had|have)\b){_GAP}){{0,160}}?"
        rf"\b(?:participated|took part|completed|underwent|entered|joined|began|started"
        rf"|received(?!\s+(?:ratings?|scores?|a diagnosis|diagnoses|questionnaires?|letters?)))\b",
    ),
    _rule(
        r"\b(?:studied|study|trial|determined|measured|assessed|evaluated|examined|investigated"
        r"|compared|tested|performed|conducted|carried out|undertaken|recorded|obtained"
        r"|we report|investigate|evaluate|assess|examine|compare|determine|taken|collected)\b"
        r"[^.;]{0,80}?\b(?:in|from|among)",
        rf"(?P<n>{_NUMBER})\s+{_ADJECTIVES}(?:{_PEOPLE}|(?-i:[A-Z][a-z]+s))\b",
    ),
)
"""The ways of stating a total, tried at each number of the text in turn."""
_ITEM_AT = re.compile(_ITEM, re.I)
_NUMBERS = re.compile(
    rf"(?<![\w/:.-]){_NUMBER}(?=[\s(),;\]]|$)(?!\s*(?:mg|µg|mcg|g|kg|ml|mmol|mm|hg|mmhg|years?|yrs?"
    rf"|weeks?|wk|days?|months?|hours?|h|hr|min|times|per|and\s+\d+\s*%)\b)",
    re.I,
)
"""Where numbers stand in a text: the places the totals are tried."""
_GROUPS_OF = re.compile(
    rf"(?P<k>{_NUMBER})\s+groups\s*,?\s+(?:each\s+)?(?:of|with|comprising|containing)\s+"
    rf"(?P<n>{_NUMBER})\s+{_ADJECTIVES}{_PEOPLE}\b",
    re.I,
)
"""Equal groups: "two groups of 12 patients" is 24, as is "two groups, each with 12 patients"."""
_SCREENED = re.compile(
    r"[^.;]{0,30}?\b(?:screened|assessed for eligibility|approached|invited|eligible)\b", re.I
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
_PARENTHESES = re.compile(r"\([^()]*\)")
_ABBREVIATIONS = re.compile(r"\b(?:vs|e\.g|i\.e|al|approx|Fig|no|Dr|ca|resp)\.", re.I)
_GROUP_N = re.compile(rf"[(\[,;]\s*n\s*=\s*(?P<n>{_NUMBER})\s*[,;)\]]", re.I)
_GROUP_ITEM = re.compile(rf"(?<![\w/:.-]){_ITEM}", re.I)
_GROUP_PAIR = re.compile(
    rf"(?<![\w/:.-])(?P<n>{_NUMBER})\s+(?:[A-Za-z-]+\s+)?and\s+(?P<m>{_NUMBER})\s+{_ADJECTIVES}"
    rf"{_PEOPLE}\b",
    re.I,
)
"""Two groups sharing one noun: "2371 and 862 hospitalized patients", "3591 white and 506
black men"."""
_GROUP_MORE = re.compile(
    rf"(?:,|;|:|\band\b|\bor\b)\s+(?P<n>{_NUMBER})\s+(?:\([^)]*\)\s*)?(?:to|in|on|received|with)\b"
    rf"(?!\s+\d)",
    re.I,
)
_ALLOCATED = re.compile(
    r"\b(?:randomi[sz]ed|randomi[sz]ation|randomly|assigned|allocated|administered|received"
    r"|receiving|treated|included"
    r"|enrolled|group|arm|given|studied|compared|controls?|cases|men|women|males?|females?"
    r"|white|black)\b",
    re.I,
)
_EVENTS = re.compile(
    r"\b(?:died|withdr[ae]w\w*|discontinued|dropped|lost to|relapsed|responded|reported"
    r"|experienced|developed|occurred|complained|improved|healed|achieved|eradicated|had|were"
    r" lost|were excluded|deaths?|screened|eligible|excluded|did not complete|failed to complete"
    r"|dropped out|from which|of whom|of which|of these|among whom|among them|among these"
    r"|out of which)\b|%",
    re.I,
)
_COMPARED = re.compile(
    r"\bhad\s+(?=(?:significantly\s+|a\s+)?(?:higher|lower|greater|smaller|more|less|similar"
    r"|longer|shorter|better|worse)\b)",
    re.I,
)
_EACH = re.compile(r"\s*(?:\w+\s+)?(?:in each|each|per)\b", re.I)
"""Words after a group's number that make it a size per group ("120 in each group")."""
_APPROXIMATE = re.compile(r"\b(?:more than|over|about|approximately|nearly|almost|up to)\s*$", re.I)
_FIRST_N = re.compile(rf"(?<!%)(?<!%\))\bn\s?=\s?(?P<n>{_NUMBER})\b", re.I)
_LABEL_BEFORE = re.compile(
    r"\b(?:type|grade|class|stage|phase|day|week|visit|step|level|cycle|lead|figure|table|version"
    r"|NYHA|group|arm|study|trial)\s*$",
    re.I,
)
"""A label, not a count: "type 2", "day 3", "study 302"; but see :data:`_OWN_STUDY_BEFORE`."""
_OWN_STUDY_BEFORE = re.compile(
    r"\b(?:this|our|the present|present)\s+(?:[\w-]+\s+){0,4}(?:study|trial)\s*$", re.I
)
"""The record's own study just before a number: "in this double-blind study 45 patients were
divided" counts the 45."""


def _labelled(text: str, start: int, end: int) -> bool:
    """Whether the words just before a number make it a label rather than a count."""
    return bool(_LABEL_BEFORE.search(text, start, end)) and not _OWN_STUDY_BEFORE.search(
        text, max(0, end - 80), end
    )


_EVENT_BEFORE = re.compile(
    r"\b(?:occurr\w*|observed|seen|noted|found|reported|developed|present|detected|recorded"
    r"|experienced|common|frequent|happened|appeared|resolved|withdr\w*|stopped"
    r"|fell|rose|improved|worsened|decreased|declined|increased|healed|achieved)\b[^.;]{0,20}"
    r"\b(?:in|among|by|from)\s+(?:only\s+)?(?:the\s+)?$",
    re.I,
)
_PART_BEFORE = re.compile(rf"{_NUMBER}\s+of\s+(?:all\s+|the\s+)?$", re.I)
_EVENT_AFTER = re.compile(
    r"\s*(?:\([^)]*\)\s*)?(?:had|have|reported|developed|experienced|died|withdr[ae]w|discontinued"
    r"|dropped|were lost|were excluded|responded|relapsed|showed|achieved|complained)\b",
    re.I,
)
_STUDIES = r"(?:trials|studies|RCTs|reports|articles|papers|publications)"
_POOLED = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rf"(?<![\w/:.-])(?P<n>{_NUMBER})\s+(?:[\w-]+,?\s+){{0,4}}?{_STUDIES}\b[^.;]{{0,80}}?"
        rf"\b(?:included|pooled|analy[sz]ed|eligible|combined|identified|selected|reviewed|met)\b",
        rf"\b(?:included|pooled|analy[sz]ed|identified|selected|combined|reviewed)\s+"
        rf"(?:data from\s+)?(?P<n>{_NUMBER})\s+(?:[\w-]+,?\s+){{0,4}}?{_STUDIES}\b",
        rf"\bin\s+(?P<n>{_NUMBER})\s+(?:[\w-]+,?\s+){{0,4}}?(?:trials|studies)\b",
        rf"(?<![\w/:.-])(?P<n>{_NUMBER})\s+(?:[\w-]+,?\s+){{0,4}}?{_STUDIES}\b",
    )
)


class Count(NamedTuple):
    """A number read from a text: its value, the words that gave it, and whether they name
    people (a count of animals or of anything else is no human sample)."""

    value: int
    span: str
    people: bool


def number(words: str) -> int | None:
    """A number written in digits ("1,204") or words ("one hundred and eighty-two")."""
    words = words.strip().lower()
    digits = re.sub(r"[,\s]", "", words)
    if digits.isdigit():
        return int(digits)
    total = current = 0
    for word in re.split(r"[\s-]+", words):
        if word in _UNITS:
            current += _UNITS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word == "thousand":
            total, current = total + (current or 1) * 1000, 0
        elif word != "and":
            return None
    return total + current or None


class Readings(NamedTuple):
    """What each rule read in a text, and which of them :func:`sample_size` chose: the
    learned choice (tracker.sample_choice) weighs them as evidence among other candidates."""

    total: Count | None
    groups: Count | None
    mention: Count | None
    chosen: Count | None


def readings(text: str) -> Readings:
    """Every rule's reading of a text, and the rules' choice (see the module docstring)."""
    numbers = [found.start() for found in _NUMBERS.finditer(text)]
    total = _first_total(text, numbers)
    until = total[0] if total else len(text)
    groups = _first_groups(text, until) if len(numbers) >= 2 else None
    mention = _first_mention(text) if numbers and groups is None and total is None else None
    counted = total[1] if total else None
    chosen = groups[1] if groups else counted or mention
    return Readings(counted, groups[1] if groups else None, mention, chosen)


def sample_size(text: str) -> Count | None:
    """The whole sample a text states (see the module docstring for the order of rules)."""
    return readings(text).chosen


def studies_pooled(text: str) -> Count | None:
    """How many studies a review or model says it pooled: the first statement that counts
    included studies, else the first number of studies."""
    for pattern in _POOLED:
        match = pattern.search(text)
        value = number(match.group("n")) if match else None
        if match and value:
            return Count(value, match.group(0), False)
    return None


def _first_total(text: str, numbers: list[int]) -> tuple[int, Count] | None:
    """The earliest stated total: (where its number starts, the count)."""
    for at in numbers:
        if _labelled(text, max(0, at - 20), at):  # "type 2", "day 3"
            continue
        if (equal := _GROUPS_OF.match(text, at)) and (groups := number(equal.group("k"))):
            each = number(equal.group("n")) or 0
            return at, Count(groups * each, equal.group(0), True)
        people = _ITEM_AT.match(text, at) is not None
        for rule in _TOTALS:
            match = rule.at.match(text, at) if people or not rule.item else None
            if match is None or not (value := number(match.group("n"))):
                continue
            lead = rule.before.search(text, max(0, at - 160), at) if rule.before else None
            if rule.before is not None and lead is None:
                continue
            if _SCREENED.match(text, match.end()) or _EVENT_AFTER.match(text, match.end()):
                continue
            begin = lead.start() if lead else at
            return at, Count(value, text[begin : match.end()].strip(), True)
    return None


def _first_groups(text: str, until: int) -> tuple[int, Count] | None:
    """The first sentence that lists two or more groups, starting no later than ``until``:
    (where the list starts, their sum)."""
    for offset, body in _sentences(text):
        if offset > until:
            break
        items = _groups(body)
        paired = len(items) == 2 and _GROUP_PAIR.search(body) is not None  # two groups, named
        listed = paired or _ALLOCATED.search(body) is not None
        if len(items) >= 2 and listed and not _counts_events(body, items):
            start, end = items[0][0], items[-1][1]
            total = sum(value for _, _, value in items)
            first, rest = items[0][2], total - items[0][2]
            if len(items) > 2 and rest <= first <= rest * 1.1:  # a total, then its groups
                total = first
            if offset + start <= until:
                return offset + start, Count(total, body[start:end].strip(), True)
    return None


def _sentences(text: str) -> Iterator[tuple[int, str]]:
    """The sentences of a text and where each starts. A full stop ends one only before a
    capital, so decimals and "H. pylori" do not; nor does anything inside parentheses."""
    masked = _PARENTHESES.sub(lambda m: re.sub(r"[.!?]", ",", m.group(0)), text)
    masked = _ABBREVIATIONS.sub(lambda m: m.group(0)[:-1] + ",", masked)
    start = 0
    for end in _SENTENCE_END.finditer(masked):
        yield start, text[start : end.start()]
        start = end.end()
    yield start, text[start:]


def _groups(sentence: str) -> list[tuple[int, int, int]]:
    """The group sizes a sentence states: (start, end, size), in order. "(n = 22)" marks a
    group wherever it is; "N patients" only outside parentheses, which describe a group. A size
    per group ("240 patients, 120 in each group") is no group to add to the others."""
    found = [  # (start, end, size, where the number ends)
        (m.start(), m.end(), number(m.group("n")), m.end("n"))
        for m in _GROUP_N.finditer(sentence)
        if "%" not in sentence[max(0, m.start() - 3) : m.start()]
    ]
    pair = _GROUP_PAIR.search(sentence)
    if len(found) < 2 and pair:
        found = [
            (pair.start(), pair.start("m"), number(pair.group("n")), pair.end("n")),
            (pair.start("m"), pair.end(), number(pair.group("m")), pair.end("m")),
        ]
    if len(found) < 2:
        found = []
        outside = _PARENTHESES.sub(lambda m: " " * len(m.group(0)), sentence)
        items = list(_GROUP_ITEM.finditer(outside))
        spans = [(m.start(), m.end()) for m in items]
        for parenthesis in _PARENTHESES.finditer(sentence):  # "(14 patients) or placebo (12 …)"
            if not spans:  # not "N patients … (19 male …)", a breakdown of a group named outside
                inner = _GROUP_ITEM.match(sentence, parenthesis.start() + 1, parenthesis.end())
                items += [inner] if inner else []
        for match in sorted(items, key=lambda m: m.start()):
            if not _APPROXIMATE.search(sentence, 0, match.start()):
                found.append((match.start(), match.end(), number(match.group("n")), match.end("n")))
        if found:  # "and 428 to placebo", outside the parentheses that describe a group
            more = _GROUP_MORE.finditer(outside, found[-1][1])
            found += [
                (m.start(), m.end(), number(m.group("n")), m.end("n")) for m in more if not _year(m)
            ]
    return sorted(
        (start, end, value)
        for start, end, value, after in found
        if value and not _EACH.match(sentence, after)
    )


def _year(match: re.Match[str]) -> bool:
    """Is the number a year ("between 2012 and 2020")?"""
    return bool(re.fullmatch(r"(?:19|20)\d\d", match.group("n")))


def _counts_events(sentence: str, items: list[tuple[int, int, int]]) -> bool:
    """Does the sentence count what happened to people rather than who was in each group?
    ("Two died and two were lost"; but "52 patients had higher levels" compares groups.)"""
    first, last = items[0][0], items[-1][1]
    words = _COMPARED.sub("", sentence[first:last] + " " + sentence[last : last + 60])
    return bool(_EVENTS.search(words)) and not _GROUP_N.search(sentence)


def _first_mention(text: str) -> Count | None:
    """The first "n = N", else the first "N patients" that does not count events."""
    match = _FIRST_N.search(text)
    if match and (value := number(match.group("n"))):
        return Count(value, match.group(0), False)
    for match in _GROUP_ITEM.finditer(text):
        before, after = text[max(0, match.start() - 50) : match.start()], text[match.end() :]
        if _EVENT_BEFORE.search(before) or _EVENT_AFTER.match(after):
            continue
        if _labelled(text, 0, match.start()):  # "type 2 diabetics"
            continue
        if _PART_BEFORE.search(text, max(0, match.start() - 40), match.start()):
            continue
        if (value := number(match.group("n"))) and not _year(match):
            return Count(value, match.group(0), True)
    return None
