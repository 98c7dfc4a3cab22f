"""Author names as exports write them → :class:`~tracker.records.Author`.

Vendors disagree on one name: RIS and MEDLINE's FAU write "Family, Given" ("Rivera, Ana M"),
MEDLINE's AU and Scopus write the initials after the family name ("Rivera AM",
"Rivera A.M."), Web of Science writes "Rivera, AM". A name with a comma is split at it; one
without is split before its trailing run of initials. Groups ("ESKETINTRD Study Group") are
kept whole as a collective name.
"""

from __future__ import annotations

import re

from tracker.records import Author

_GROUP = re.compile(
    r"\b(group|consortium|investigators|collaborat\w*|committee|network|society|"
    r"association|trial|study)\b",
    re.IGNORECASE,
)
_TRAILING_INITIALS = re.compile(r"^(?P<family>.+?)\s+(?P<initials>(?:[A-Z]\.?-?){1,4})$")


def author_from_name(text: str) -> Author:
    """One author from one name as written; an empty name gives an empty Author."""
    name = " ".join(text.split()).strip(" ;,")
    if not name:
        return Author()
    if "," not in name and _GROUP.search(name):
        return Author(collective_name=name)
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return _person(family, given)
    match = _TRAILING_INITIALS.match(name)
    if match:
        return _person(match.group("family"), match.group("initials"))
    return Author(last_name=name)


def authors_from_names(names: list[str] | tuple[str, ...]) -> tuple[Author, ...]:
    """Every non-empty name, in order."""
    found = (author_from_name(name) for name in names)
    return tuple(author for author in found if author != Author())


def split_names(text: str, separator: str = ";") -> list[str]:
    """A list of names in one field ("Rivera A.; Chen B."), split on ``separator``."""
    return [part.strip() for part in text.split(separator) if part.strip()]


def _person(family: str, given: str) -> Author:
    compact = given.replace(".", "").replace(" ", "").replace("-", "")
    if compact.isupper() and len(compact) <= 4:  # "J.A." or "JA": initials only
        return Author(last_name=family, initials=compact)
    initials = "".join(word[0] for word in re.split(r"[\s.\-]+", given) if word)
    return Author(last_name=family, fore_name=given.rstrip("."), initials=initials.upper())
