"""The shape of the data: an article as PubMed describes it, and the screening vocabulary.

Declared once here; the parser produces these, the store flattens them into one row per record,
and the exporters read the rows back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PUBMED = "PubMed"
"""The source name of a record PubMed gave (by a fetch, a PubMed XML or MEDLINE file)."""


@dataclass(frozen=True, slots=True)
class Author:
    """One author: a person (last name + initials) or a group (CollectiveName)."""

    last_name: str = ""
    fore_name: str = ""
    initials: str = ""
    collective_name: str = ""
    affiliations: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """``"Smith JA"``, or the group's name; the form PubMed itself shows."""
        if self.collective_name:
            return self.collective_name
        return f"{self.last_name} {self.initials}".strip()

    @property
    def full(self) -> str:
        """``"Smith, John A"`` for RIS and BibTeX, which want the family name first."""
        if self.collective_name:
            return self.collective_name
        given = self.fore_name or self.initials
        return f"{self.last_name}, {given}" if given else self.last_name


@dataclass(frozen=True, slots=True)
class MeshQualifier:
    name: str
    major: bool = False


@dataclass(frozen=True, slots=True)
class MeshHeading:
    """A MeSH descriptor with its major-topic flag and qualifiers."""

    descriptor: str
    ui: str = ""
    major: bool = False
    qualifiers: tuple[MeshQualifier, ...] = ()

    @property
    def is_major(self) -> bool:
        """Major topic if the descriptor or any of its qualifiers is flagged so."""
        return self.major or any(q.major for q in self.qualifiers)


@dataclass(frozen=True, slots=True)
class Grant:
    grant_id: str = ""
    acronym: str = ""
    agency: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Article:
    """One PubMed record (journal article or book/chapter), as plain text fields.

    ``pub_date`` is ISO 8601 to the precision PubMed gives: ``"1990"``, ``"2017-06"`` or
    ``"1976-09-28"``. Titles and abstracts are plain text: inline markup removed, its text kept.
    """

    pmid: int
    title: str = ""
    abstract: str = ""
    authors: tuple[Author, ...] = ()
    journal: str = ""
    journal_abbrev: str = ""
    year: int | None = None
    pub_date: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    issn: str = ""
    doi: str = ""
    pmcid: str = ""
    publication_types: tuple[str, ...] = ()
    mesh: tuple[MeshHeading, ...] = ()
    keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()
    vernacular_title: str = ""
    record_type: str = "article"
    """``"article"`` for PubmedArticle; for PubmedBookArticle ``"chapter"`` (a chapter of a
    Bookshelf book, ``journal`` holding the book's title) or ``"book"`` (a whole book,
    ``journal`` holding its publisher)."""

    @property
    def url(self) -> str:
        return pubmed_url(self.pmid)


def pubmed_url(pmid: int) -> str:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


class Decision(StrEnum):
    """Where a record stands at a stage. Reviewers record include, exclude or maybe
    (:data:`DECIDABLE`); the other two are derived: ``unscreened`` before any decision, and
    ``conflict`` when reviewers disagree and nobody has resolved it."""

    UNSCREENED = "unscreened"
    INCLUDE = "include"
    EXCLUDE = "exclude"
    MAYBE = "maybe"
    CONFLICT = "conflict"


DECIDABLE = (Decision.INCLUDE, Decision.EXCLUDE, Decision.MAYBE)
"""The decisions a person can record."""


class Action(StrEnum):
    """What one event in the log records; the log holds nothing else.

    ``decide`` (stage, value = decision, reason, note), ``resolve`` (the same, by whoever
    settles a conflict), ``tag-add``/``tag-remove`` (value = tag), ``note`` (note), ``undo``
    (target_id = the event reversed), ``duplicate-confirm``/``duplicate-reject`` (value = the
    record id duplicated), ``reason-add`` (value = a new exclusion reason, no record), and
    ``suggestion-accept``/``suggestion-reject`` (value = ``"facet: value"``), and
    ``stopping-check`` (no record; value = stop or continue, note = the rule's inputs and
    verdict as JSON).
    """

    DECIDE = "decide"
    RESOLVE = "resolve"
    TAG_ADD = "tag-add"
    TAG_REMOVE = "tag-remove"
    NOTE = "note"
    UNDO = "undo"
    DUPLICATE_CONFIRM = "duplicate-confirm"
    DUPLICATE_REJECT = "duplicate-reject"
    REASON_ADD = "reason-add"
    SUGGESTION_ACCEPT = "suggestion-accept"
    SUGGESTION_REJECT = "suggestion-reject"
    STOPPING_CHECK = "stopping-check"


NOT_UNDONE = frozenset({Action.REASON_ADD, Action.STOPPING_CHECK})
"""Actions an undo passes over: decisions may cite an added reason, and a stopping check is a
report of what was seen at the time, not a change to take back."""


DECISION_ACTIONS = frozenset({Action.DECIDE, Action.RESOLVE})
"""The actions that record a decision at a stage."""


class Facet(StrEnum):
    """What an evidence tag is about; a vocabulary file gives each facet its values."""

    DESIGN = "design"
    DRUG = "drug"
    ROUTE = "route"
    CONDITION = "condition"
    ADVERSE_EFFECTS = "adverse_effects"

    @property
    def label(self) -> str:
        """How tags, exports and screens name it: ``"adverse effects"``."""
        return self.value.replace("_", " ")


class Stage(StrEnum):
    TITLE_ABSTRACT = "title-abstract"
    FULL_TEXT = "full-text"


class ExclusionReason(StrEnum):
    """The seed of the controlled list; users may add their own reasons to it."""

    WRONG_POPULATION = "wrong population"
    NOT_CHRONIC_PAIN = "not chronic pain"
    WRONG_INTERVENTION = "wrong intervention (no esketamine/ketamine)"
    WRONG_STUDY_DESIGN = "wrong study design"
    ANIMAL_OR_IN_VITRO = "animal or in-vitro study"
    DUPLICATE = "duplicate"
    NO_OUTCOME_DATA = "no outcome data"
    NOT_RETRIEVABLE = "not retrievable"
    OTHER = "other"
