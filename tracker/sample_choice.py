"""Which of the numbers an abstract states is its sample: a learned choice among candidates.

The rules of :mod:`tracker.study_size` read a sample size in a fixed order of trust. They were
written from the labelled tuning records and read 0.94 of them right, but only 0.84 of
abstracts they had not seen (tests/expected/tagging_real_rules.md): each cue fixed one record.
Here every number that could be the sample is listed with the words around it
(:mod:`tracker.stated_counts`) and scored by a linear model fitted to the hand labels, pairwise
(the right candidate of a record against each wrong one), by scripts/train_sample_size_model.py;
bench/sample_size_cv.py chose it by cross-validation on the tuning records only.

What stays with the rules: whether a text states a sample at all (a record where the rules
read none gets none here either: the learned part only chooses among numbers, so it cannot add
a false sample size to a record the rules left without one), and whether it counts people,
which the design rules of tracker.tagging use. Whether a design has a sample at all stays with
tracker.tagging too.

Scoring is a sum of weights over a candidate's features: the weights are a JSON table
(tracker/learned/sample_size.json), read once, and no scikit-learn is needed at run time.
The evidence span is the words that state the chosen number; where the choice differs from
the rules', it says so and names the cues that weighed most, so a reviewer can see why.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from tracker import stated_counts, study_size

WEIGHTS = Path(__file__).resolve().parent / "learned" / "sample_size.json"
"""The fitted weights (scripts/train_sample_size_model.py writes them)."""


@cache
def weights(path: Path = WEIGHTS) -> dict[str, float]:
    """The feature weights of the shipped model, read on first use."""
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {str(name): float(value) for name, value in model["weights"].items()}


def score(features: frozenset[str], table: dict[str, float]) -> float:
    """A candidate's score: the sum of its features' weights (unknown features weigh 0)."""
    return sum(table.get(feature, 0.0) for feature in features)


def sample_size(text: str, table: dict[str, float] | None = None) -> study_size.Count | None:
    """The whole sample a text states: the rules say whether there is one; the model says which
    number it is. ``table`` is the shipped weights unless given (training and tests pass their
    own)."""
    return _shipped(text) if table is None else _chosen(text, table)


@lru_cache(maxsize=4096)
def _shipped(text: str) -> study_size.Count | None:
    """The shipped model's answer, remembered per text: a library holds each database's copy of
    an article as its own record, and listing and weighing the candidates costs about twice what
    the rules alone do (bench/tagging_bench.py)."""
    return _chosen(text, weights())


def _chosen(text: str, table: dict[str, float]) -> study_size.Count | None:
    found = study_size.readings(text)
    if found.chosen is None:
        return None
    if len(study_size._NUMBERS.findall(text)) < 2:
        return found.chosen  # one number: nothing to choose between
    listed = stated_counts.candidates(text, found)
    if not listed:
        return found.chosen
    scores = [score(candidate.features, table) for candidate in listed]
    best = max(range(len(listed)), key=lambda at: (scores[at], -at))  # ties: the earlier one
    chosen = listed[best]
    if chosen.value == found.chosen.value:
        return found.chosen
    return study_size.Count(
        chosen.value, _explained(chosen, found.chosen, table), found.chosen.people
    )


def _explained(
    chosen: stated_counts.Candidate, rules: study_size.Count, table: dict[str, float]
) -> str:
    """The evidence for a learned choice: its words, the rules' reading it replaced, and the
    cues that weighed most for it, in words a reviewer reads (not the model's feature names)."""
    cues = sorted(
        (feature for feature in chosen.features if table.get(feature, 0.0) > 0),
        key=lambda feature: -table[feature],
    )
    said = list(dict.fromkeys(text for text in map(plain_cue, cues) if text))[:3]
    why = f"; it {', '.join(said)}" if said else ""
    return f"{chosen.span} (chosen by the learned model over the rules' {rules.value}{why})"


_CUES = {
    "largest_people": "is the largest count of people",
    "above_people": "is larger than the other counts of people",
    "repeated": "is stated more than once",
    "noun=people": "counts people",
    "whole_after_part": "is the whole a part was counted from",
    "whole_of_subset": "is the whole a subset was taken from",
    "n_equals": 'is written "n = N"',
    "in_parentheses": "is given in brackets",
    "in_sum": "is one of the groups added up",
    "several_reports": "adds up the trials the abstract reports",
}
_WORDS = {"l1": "after", "l2": "after", "lw": "after", "r1": "before", "r2": "before",
          "rw": "before", "after_noun": "before"}  # fmt: skip


_FILLER = {"with", "were", "that", "this", "from", "their", "which", "been", "have", "they"}
"""Words too common to explain a choice to a reader."""


def plain_cue(feature: str) -> str:
    """A candidate feature in words: 'is the largest count of people', 'adds up 2 groups',
    'comes after "randomised"'; "" for those that say nothing to a reader (its size, the
    constant term)."""
    if feature in _CUES:
        return _CUES[feature]
    name, _, value = feature.partition("=")
    if name == "items" and value.isdigit():
        return f"adds up {value} groups"
    if name in _WORDS and value.isalpha() and len(value) > 3 and value not in _FILLER:
        return f'comes {_WORDS[name]} "{value}"'
    return ""
