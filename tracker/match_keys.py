"""What two records are compared by: their title, first author, journal and first page, each
reduced to the form two databases would agree on.

Databases print one article differently: PubMed ends titles with a full stop and brackets
translated ones, Scopus capitalises words, Web of Science writes journals in capitals, Embase
abbreviates them, a British database spells "randomised". Each key below removes one such
difference and nothing more, so equal keys mean the sources agree, not that they look alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from difflib import SequenceMatcher

from rapidfuzz import fuzz

_TAG = re.compile(r"<[^>]{1,40}>")
_TRANSLATED = re.compile(r"^\[(.+)\]\.?$")
_LEADING_ARTICLE = re.compile(r"^(the|a|an) ")
_QUALIFIER = re.compile(r"\([^)]*\)")
_BRITISH = {"anaesth": "anesth", "paediatr": "pediatr", "haem": "hem", "oesoph": "esoph"}
_SPELLING = re.compile(
    r"\b(?:(randomi|organi|characteri|categori|standardi|optimi|minimi|utili)s"
    r"|(tumo|behavio|colo|favo|labo)ur|analys(e|ed|ing)\b|(anaesth|paediatr|haem|oesoph))"
)
_STOCK = re.compile(
    r"^(reply|response|in reply|authors? reply|letter|comment|commentary|editorial|erratum|"
    r"errata|correction|corrigendum|retraction|re|note|foreword|preface|introduction|"
    r"abstracts?|poster|news|book review)\b"
)
_JOURNAL_FILLER = frozenset({"the", "of", "and", "in", "for", "on", "de", "la", "und"})


def fold(text: str) -> str:
    """Lower case, accents and markup removed, punctuation to spaces, spacing collapsed."""
    text = unicodedata.normalize("NFKD", _TAG.sub(" ", text)).encode("ascii", "ignore").decode()
    text = text.casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def title_key(title: str) -> str:
    """A title as every database would agree on it: ``"[Ketamine in pain]."`` →
    ``"ketamine in pain"``; "The", British spellings and punctuation gone."""
    stripped = title.strip()
    translated = _TRANSLATED.match(stripped)
    key = _SPELLING.sub(_american, fold(translated.group(1) if translated else stripped))
    return _LEADING_ARTICLE.sub("", key)


def _american(match: re.Match[str]) -> str:
    ize, our, analyse, stem = match.groups()
    if ize:
        return ize + "z"
    if our:
        return our + "r"
    if analyse:
        return "analyz" + analyse
    return _BRITISH[stem]


def is_stock_title(key: str) -> bool:
    """A title key too short (under five words) or too generic ("reply to …", "erratum", "letter
    to the editor") to tell two records apart, however well the rest agrees."""
    return len(key.split()) < 5 or bool(_STOCK.match(key))


def title_similarity(left: str, right: str, *, floor: float = 0.0) -> float:
    """How alike two title keys are, 0 to 1 (difflib's ratio: matching characters in order).

    Pairs that cannot reach ``floor`` get 0 without the full comparison, from an upper bound:
    RapidFuzz's ratio (:func:`similarity_bound`), then difflib's own cheap ones.
    """
    if not left or not right:
        return 0.0
    if floor > 0 and similarity_bound(left, right) < floor:
        return 0.0
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def similarity_bound(left: str, right: str) -> float:
    """An upper bound of :func:`title_similarity`, computed in C++ by RapidFuzz.

    Both are 2·M / (len(left) + len(right)); RapidFuzz's M is the longest common subsequence,
    difflib's the characters of the matching blocks it finds, which are a common subsequence
    and so never more. A pair below a floor here is below it in difflib too, so the bound
    rules pairs out without changing any answer; a small margin covers float rounding.
    """
    return float(fuzz.ratio(left, right, processor=None)) / 100 + BOUND_MARGIN


BOUND_MARGIN = 1e-6
"""Added to :func:`similarity_bound` so that rounding never rules out a pair difflib keeps."""


def family_key(name: str) -> str:
    """A family name without case, accents, spaces or hyphens: "Pérez-Ruiz" → "perezruiz"."""
    return fold(name).replace(" ", "")


@functools.lru_cache(maxsize=65_536)  # a table names a few thousand journals many times over
def journal_words(journal: str) -> tuple[str, ...]:
    """A journal's words without qualifiers ("(Malden, Mass.)") or filler ("of", "the")."""
    words = fold(_QUALIFIER.sub(" ", journal)).split()
    return tuple(word for word in words if word not in _JOURNAL_FILLER)


def journals_agree(left: tuple[str, ...], right: tuple[str, ...]) -> bool:
    """True when one name is the other or its abbreviation, word for word ("Br J Anaesth" and
    "British Journal of Anaesthesia"): each word of the shorter begins the other's."""
    if not left or not right or len(left) != len(right):
        return False
    return all(a.startswith(b) or b.startswith(a) for a, b in zip(left, right, strict=True))


def first_page(pages: str) -> str:
    """The first page as printed: "1301-1310" → "1301", "e123" → "e123", "S45–S46" → "s45"."""
    found = re.match(r"\s*([A-Za-z]?\d+[A-Za-z]?)", pages)
    return found.group(1).casefold() if found else ""
