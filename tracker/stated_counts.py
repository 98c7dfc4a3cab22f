"""Every number an abstract states that could be its sample, each with the words around it.

The rules of :mod:`tracker.study_size` pick one reading in a fixed order of trust (a stated
total, else the groups added up, else the first mention). On abstracts they were not written
from, that order is wrong about one time in six (tests/expected/tagging_real_rules.md): the
first arm instead of all arms, the comparison group, the first "n =" of a subgroup. So the
choice is also put as a ranking (tracker.sample_choice): list every candidate and describe
each by what a reader weighs (the noun after it, the verbs around it, where it stands, whether
it is the sum of listed groups, whether a rule read it), and let weights fitted to the labelled
abstracts pick one.

A candidate is:
- every standalone number in digits or words that is not a measurement ("40 mg", "6 weeks"),
  a fraction ("89/107") or a decimal;
- the sum of the groups one sentence lists ("placebo (n = 133) ... active (n = 111)" is 244);
- each rule's reading (a stated total, the groups, the first mention), marked as such.

Features are plain strings (``"l1=total"``, ``"noun=people"``, ``"rule=total"``) so that the
fitted weights are a readable table (tracker/learned/sample_size.json).
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from typing import NamedTuple

from tracker import study_size

_TOKEN = re.compile(r"[a-z]+|[=%()]|\d+")


def _words(text: str) -> list[str]:
    """The lower-cased words and signs of a text, every number written "#": which number
    stands near a candidate says nothing about it, only that one does."""
    return ["#" if token.isdigit() else token for token in _TOKEN.findall(text.lower())]


_ANIMALS = re.compile(
    r"\s+(?:[\w-]+\s+){0,3}?(?:rats?|mice|dogs?|rabbits?|pigs?|cats?|monkeys?|animals|sheep"
    r"|guinea|hamsters?|baboons?|eyes|ears|hearts|samples|specimens|visits|prescriptions"
    r"|tablets|doses|centres|centers|sites|hospitals|practices|countries|studies|trials"
    r"|articles|reports|episodes|events|cycles|lesions|cells|strains|isolates)\b",
    re.I,
)
"""What a count that is no person counts: animals, body parts, visits, places, studies."""
_PERCENT_AFTER = re.compile(r"\s*(?:%|\(\s*\d+(?:\.\d+)?\s*%|percent)", re.I)
_OF_AFTER = re.compile(
    r"\s+of\s+(?:the\s+|all\s+|these\s+)?(?:\d|[a-z]+\s+(?:patients|subjects))", re.I
)
_OF_BEFORE = re.compile(r"\b(?:of|from|among|in)\s+(?:the\s+|all\s+|these\s+)?$", re.I)
_PART_BEFORE = re.compile(
    rf"{study_size._NUMBER}\s*(?:\([^)]*\)\s*)?of\s+(?:the\s+|all\s+)?$", re.I
)
_SUBSET_AFTER = re.compile(r"\s*(?:\([^)]*\)\s*)?(?:of\s+(?:them|whom|these|those|which))\b", re.I)
_YEAR = re.compile(r"(?:19|20)\d\d")
_WINDOW = 60
"""Characters read on each side of a number for its context words."""


class Candidate(NamedTuple):
    """One number that could be the sample: its value, where it stands, the words that state
    it (the evidence a reviewer reads) and what describes it for the ranking."""

    value: int
    start: int
    span: str
    features: frozenset[str]


def candidates(
    text: str, found: study_size.Readings | None = None, *, rules: bool = False
) -> list[Candidate]:
    """Every candidate a text states (see the module docstring), in text order; ``found`` is
    the rules' readings of the same text when the caller has them already.

    ``rules`` adds features saying which rule read a candidate's value ("rule=total"). The
    shipped choice does without them: the rules were written from the labelled records, so
    weights fitted to those records would trust the rules more than unseen abstracts bear out
    (bench/sample_size_cv.py measures both)."""
    found = found if found is not None else study_size.readings(text)
    sentences = list(study_size._sentences(text))
    listed: list[tuple[int, int, str, set[str]]] = []
    numbers = list(study_size._NUMBERS.finditer(text))
    for match in numbers:
        value = study_size.number(match.group(0))
        if not value or value >= 1_000_000:
            continue
        item = study_size._ITEM_AT.match(text, match.start())  # "69 men": the words to show
        span = item.group(0) if item else match.group(0)
        features = _number_features(text, match)
        # "133 were screened, of which 121 ...", "pain fell in 33 patients": never the sample
        if not features & {"screened", "event_before"}:
            listed.append((value, match.start(), span, features))
    starts = [match.start() for match in numbers]
    for offset, body in sentences:
        if bisect.bisect_left(starts, offset + len(body)) - bisect.bisect_left(starts, offset) < 2:
            continue  # a list of groups needs two numbers
        items = study_size._groups(body)
        if len(items) >= 2 and not study_size._counts_events(body, items):  # "two died, ..."
            listed.append(_sum(text, offset, body, items))
            listed += _neighbours(text, offset, body, items)
            members = {offset + start for start, _, _ in items}
            for _, at, _, features in listed:
                if at in members:
                    features.add("in_sum")
    listed += _across(text)
    read = (("total", found.total), ("groups", found.groups), ("mention", found.mention))
    for name, count in read:  # a rule's reading is a candidate of its own: "two groups of 12"
        if count is not None and not (name == "total" and _first_arm(text, count, found)):
            at = max(0, text.find(count.span))
            listed.append((count.value, at, count.span, {f"kind=rule_{name}"} if rules else set()))
    return _described(text, listed, sentences, found if rules else None)


def _first_arm(text: str, total: study_size.Count, found: study_size.Readings) -> bool:
    """Whether a total the rules read is the first group of the list they added up instead
    ("We randomly assigned 41 patients to drug A, 47 to drug B and 86 to placebo": the 41 of
    "assigned 41 patients" is an arm of 174). The number stays a candidate as itself."""
    groups = found.groups
    if groups is None or found.chosen is not groups or total.value >= groups.value:
        return False
    start = text.find(groups.span)
    at = text.find(total.span)
    return start >= 0 and at >= 0 and at <= start < at + len(total.span)


def _described(
    text: str,
    listed: list[tuple[int, int, str, set[str]]],
    sentences: list[tuple[int, str]],
    found: study_size.Readings | None,
) -> list[Candidate]:
    """The candidates with the features that compare them with each other and the rules."""
    listed.sort(key=lambda item: item[1])
    people = [value for value, _, _, features in listed if "noun=people" in features]
    largest = max(people, default=0)
    values = [value for value, *_ in listed]
    starts = [start for start, _ in sentences]
    out = []
    people_seen = 0
    for value, start, span, features in listed:
        described = set(features)
        described.add("bias")
        for name, count in _rule_readings(found):
            if count is not None and count.value == value:
                described.add(f"rule={name}")
        sentence = sum(1 for s in starts if s <= start) - 1
        described.add(f"sentence={min(sentence, 4)}")
        described.add(f"place={min(int(4 * start / max(len(text), 1)), 3)}")
        described.add(f"size={_size_bin(value)}")
        if "noun=people" in features:
            described.add(f"people_rank={min(people_seen, 3)}")
            people_seen += 1
        if value == largest and largest:
            described.add("largest_people")
        elif largest and value > largest:
            described.add("above_people")
        if values.count(value) > 1:
            described.add("repeated")
        out.append(Candidate(value, start, span, frozenset(described)))
    return out


def _rule_readings(found: study_size.Readings | None) -> list[tuple[str, study_size.Count | None]]:
    if found is None:
        return []
    return [("total", found.total), ("groups", found.groups), ("mention", found.mention),
            ("chosen", found.chosen)]  # fmt: skip


def _number_features(text: str, match: re.Match[str]) -> set[str]:
    """What the words around one standalone number say about it."""
    start, end = match.start(), match.end()
    features = {"kind=number"}
    if not match.group(0)[0].isdigit():
        features.add("word_number")
    if _YEAR.fullmatch(match.group(0)):
        features.add("year")
    before, after = _context(text, start, end, features)
    item = study_size._ITEM_AT.match(text, start)
    if item is not None:
        features.add("noun=people")
        tail = _words(text[item.end() : item.end() + _WINDOW])
        for token in tail[:4]:
            features.add(f"after_noun={token}")
    elif _ANIMALS.match(text, end):
        features.add("noun=other")
    if re.match(r"\s*\)", after) and re.search(r"\bn\s*=\s*$", before, re.I):
        features.add("n_equals")
    if re.search(r"\(\s*(?:n\s*=\s*)?$", before, re.I):
        features.add("in_parentheses")
    if _PERCENT_AFTER.match(after):
        features.add("percent_after")
    if _OF_AFTER.match(after):
        features.add("part_of")
    if _SUBSET_AFTER.match(after):
        features.add("whole_of_subset")
    if _PART_BEFORE.search(before):
        features.add("whole_after_part")
    elif _OF_BEFORE.search(before):
        features.add("of_before")
    if study_size._SCREENED.match(text, end):
        features.add("screened")
    if study_size._EVENT_AFTER.match(text, item.end() if item else end):
        features.add("event_after")
    if study_size._EVENT_BEFORE.search(before[-50:]):
        features.add("event_before")
    if study_size._LABEL_BEFORE.search(before[-20:]):
        features.add("label_before")
    return features


def _context(text: str, start: int, end: int, features: set[str]) -> tuple[str, str]:
    """The words just before and after a stretch of text, within its sentence, added to
    ``features`` by their distance; returns the text either side."""
    before, after = text[max(0, start - _WINDOW) : start], text[end : end + _WINDOW]
    before = re.split(r"[.;:]\s", before)[-1]
    after = re.split(r"[.;]\s", after)[0]
    left = _words(before)
    right = _words(after)
    for place, token in enumerate(reversed(left[-5:])):
        features.add(f"l{place + 1}={token}" if place < 2 else f"lw={token}")
    for place, token in enumerate(right[:6]):
        features.add(f"r{place + 1}={token}" if place < 2 else f"rw={token}")
    return before, after


def _sum(
    text: str, offset: int, body: str, items: list[tuple[int, int, int]]
) -> tuple[int, int, str, set[str]]:
    """The groups one sentence lists, added up, described by the words around the list and
    by what the rules of tracker.study_size would say of the sentence."""
    start, end = items[0][0], items[-1][1]
    features = {"kind=sum", f"items={min(len(items), 4)}"}
    _context(text, offset + start, offset + end, features)
    if study_size._ALLOCATED.search(body):
        features.add("allocated")
    if study_size._GROUP_PAIR.search(body):
        features.add("pair")
    if study_size._GROUP_N.search(body):
        features.add("n_equals")
    total = sum(size for _, _, size in items)
    first = items[0][2]
    if len(items) > 2 and total - first <= first <= (total - first) * 1.1:
        features.add("first_is_total")
    return total, offset + start, body[start:end].strip(), features


_SAME_NOUN_PAIR = re.compile(
    rf"(?<![\w/:.-])(?P<n>{study_size._NUMBER})\s+(?:[\w'-]+\s+){{0,3}}?(?P<noun>[a-z]{{4,}}s)\s+"
    rf"and\s+(?:another\s+)?(?P<m>{study_size._NUMBER})\s+(?:[\w'-]+\s+){{0,3}}?(?P=noun)\b",
    re.I,
)
"""Two groups counted in the same noun, whatever it is: "five poor metabolizers and five
extensive metabolizers", "289 Barrett's patients and 217 GERD control patients"."""


_ENROLLED = re.compile(
    rf"(?<![\w/:.-])(?P<n>{study_size._NUMBER})\s+(?:[\w'-]+\s+){{0,3}}?{study_size._PEOPLE}\s+"
    r"(?:were|was|had been)\s+(?:\w+\s+)?(?:randomi[sz]ed|enrolled|included|recruited|allocated|"
    r"assigned|entered|studied)\b",
    re.I,
)
"""A count of people said to be enrolled: a trial described one arm or one study per sentence
("In study I, 88 patients were randomised ... In study II, 84 patients were randomised")."""


_SEVERAL_REPORTS = re.compile(
    r"\b(?:two|three|four|both) (?:[\w-]+ ){0,3}(?:trials|studies)\b"
    r"|\bstud(?:y|ies) (?:I|II|III|1|2|3)\b|\b(?:first|second|third) (?:trial|study)\b",
    re.I,
)
"""An abstract that reports two or more trials or studies of its own, or names them apart."""


def _across(text: str) -> list[tuple[int, int, str, set[str]]]:
    """Sums that no single list of groups states: every "n = N" of the text added up (the
    arms are often described one sentence each) and two groups that share a noun."""
    found: list[tuple[int, int, str, set[str]]] = []
    arms = [
        (m.start(), study_size.number(m.group("n")) or 0)
        for m in study_size._GROUP_N.finditer(text)
    ]
    # a total stated beside its arms ("n = 101 ... (n = 51) ... (n = 50)") is no arm to add
    total = sum(n for _, n in arms)
    arms = [(at, n) for at, n in arms if n * 2 != total] if len(arms) >= 3 else arms
    if len(arms) >= 2 and len({at for at, _ in arms}) >= 2:
        features = {"kind=sum_n_text", f"items={min(len(arms), 4)}"}
        _context(text, arms[0][0], arms[0][0] + 1, features)
        words = " + ".join(str(n) for _, n in arms)
        found.append((sum(n for _, n in arms), arms[0][0], f"the arms' n = {words}", features))
    enrolled = [(m.start(), study_size.number(m.group("n")) or 0) for m in _ENROLLED.finditer(text)]
    if len(enrolled) >= 2:
        features = {"kind=sum_enrolled", f"items={min(len(enrolled), 4)}"}
        if _SEVERAL_REPORTS.search(text):  # two trials reported together: one sample, summed
            features.add("several_reports")
        _context(text, enrolled[0][0], enrolled[0][0] + 1, features)
        words = " + ".join(str(n) for _, n in enrolled)
        found.append((sum(n for _, n in enrolled), enrolled[0][0], f"enrolled {words}", features))
    for match in _SAME_NOUN_PAIR.finditer(text):
        first, second = study_size.number(match.group("n")), study_size.number(match.group("m"))
        if first and second:
            features = {"kind=sum_pair"}
            _context(text, match.start(), match.end(), features)
            found.append((first + second, match.start(), match.group(0), features))
    return found


def _neighbours(
    text: str, offset: int, body: str, items: list[tuple[int, int, int]]
) -> list[tuple[int, int, str, set[str]]]:
    """Two neighbouring groups of a list of three or more, added up."""
    found: list[tuple[int, int, str, set[str]]] = []
    for one, two in itertools.pairwise(items[1:]):
        features = {"kind=sum_neighbours"}
        _context(text, offset + one[0], offset + two[1], features)
        found.append((one[2] + two[2], offset + one[0], body[one[0] : two[1]], features))
    return found


def _size_bin(value: int) -> int:
    """The order of magnitude, in half steps: small samples and large ones read differently."""
    return min(int(2 * math.log10(value)), 9) if value > 0 else 0
