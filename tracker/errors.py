"""The one exception hierarchy of tracker.

Every error a user can cause or meet derives from :class:`TrackerError`, and its message says
what happened and what to do next. The CLI turns these into ``Error: …`` and exit code 1 in one
place; the app shows them with ``st.error`` in one place. Anything else is a bug.

Messages are neutral: they never name a CLI flag, a ``tracker`` command or an app widget, because
the library does not know who called it. An error whose remedy is "give this input" is its own
class carrying what is missing (:class:`ReviewerRequired`, :class:`ReasonRequired`, …); each edge
words the remedy in its own terms (``tracker.cli.remedies`` with flags, the app with the names
of its widgets), as sqlite-utils keeps its CLI wording in ``cli.py`` and not in ``db.py``.

    TrackerError
    ├── ConfigError          a missing or invalid setting (no email, empty query, bad data dir)
    │   ├── EmailRequired    no contact email for NCBI or iCite
    │   ├── QueryRequired    an empty search query
    │   └── BatchSizeInvalid a download batch size out of range
    ├── ParseError           PubMed XML that is malformed or cut off; names the file and line
    │   └── ImportRefusedError  (tracker.formats) a file that is none of the accepted exports,
    │                        or is damaged; names the file, the line and the format expected
    ├── StoreError           the data directory cannot be read or written
    │   ├── StoreLockedError another process holds the store's lock for too long
    │   ├── StoreFullError   the disk is full; the previous state is kept
    │   ├── StoreUnavailable the database server cannot be reached; nothing was saved
    │   ├── DataDirUnusable  the data directory cannot be created or written
    │   └── MetricsDamaged   the stored citation metrics cannot be read
    ├── TransientError       one answer worth retrying (429, 5xx, reset, cut-off body); the retry
    │                        loop in courtesy.py catches it, users meet the service's own error
    ├── FetchError           a PubMed search or download that could not complete
    │   ├── NCBIQueryError   NCBI refused the query itself (permanent: change the query)
    │   ├── NCBIUnavailableError  NCBI kept failing after every retry (transient faults)
    │   └── ClinicalTrialsError  (tracker.clinicaltrials) the registry's studies could not all
    │                        be fetched; nothing was returned
    ├── CitationError        NIH iCite's metrics could not be fetched; stored metrics are kept
    │   └── WholeRebuildRequired  a partial fetch into damaged metrics (fetch them all instead)
    ├── ScreeningError       an unknown PMID, decision, stage, reason or reviewer
    │   ├── ReviewerRequired no reviewer name given
    │   ├── ReasonRequired   an exclusion without a reason (carries the reasons to choose from)
    │   ├── UnknownReason    a reason not in the list (carries the list)
    │   ├── ReasonNotAllowed a reason given with a decision other than exclude
    │   ├── NoteRequired     a reason that needs a note ('other') without one
    │   └── TagRequired      a tag action without exactly one tag to add or remove
    ├── TeamError            (tracker.team) who may act in a review served for a team
    │   ├── NotAMember       an account not on the review's allow-list (when it has one)
    │   ├── RoleRequired     an action for a role the account does not have (carries the role)
    │   ├── AccountInvalid   a team member named by something other than an email address
    │   └── LastLead         a change that would leave the team without a lead
    ├── RankingError         a stopping rule or simulation that cannot run as asked
    │   └── DatasetError     a labelled dataset that cannot be simulated (names the problem)
    └── ExportError          a format or destination that cannot be written
        └── DestinationUnwritable  the file to write cannot be written
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class TrackerError(Exception):
    """Base of every error tracker raises on purpose."""


class ConfigError(TrackerError):
    """A setting is missing or invalid."""


class EmailRequired(ConfigError):
    """NCBI (and iCite) ask every client for a contact email, and none was given."""

    def __init__(self, service: str = "NCBI") -> None:
        self.service = service
        super().__init__(f"{service} asks for a contact email with every request: give yours.")


class QueryRequired(ConfigError):
    """The search query is empty; leaving it out altogether means the default query."""

    def __init__(self) -> None:
        super().__init__("The query is empty: give a query, or leave it out for the default.")


class BatchSizeInvalid(ConfigError):
    """A download batch size outside what NCBI accepts in one request."""

    def __init__(self, value: int, *, low: int, high: int) -> None:
        self.value, self.low, self.high = value, low, high
        super().__init__(f"The batch size must be between {low:,} and {high:,}, not {value}.")


class ParseError(TrackerError):
    """PubMed XML could not be read; no record from the faulty document is kept."""

    def __init__(self, message: str, *, source: str | Path | None = None, line: int | None = None):
        self.source = str(source) if source is not None else None
        self.line = line
        where = ""
        if self.source is not None:
            where = f"{self.source}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(f"{where}{message}")


class StoreError(TrackerError):
    """The store in the data directory cannot be read or written."""


class StoreLockedError(StoreError):
    """Another process holds the store's lock."""


class StoreFullError(StoreError):
    """The disk filled up during a write; the previous state is intact."""


class StoreUnavailable(StoreError):
    """The review's database server cannot be reached (down, restarting, network gone).

    Whatever was being written when this is raised was not saved: the server rolls back a
    transaction whose connection is lost, and nothing is retried behind the user's back (a
    retried decision could be saved twice).
    """

    def __init__(self, location: str, problem: str) -> None:
        self.location, self.problem = location, problem
        super().__init__(
            f"Cannot reach the review's database {location} ({problem}). Nothing of this"
            " action was saved. Check that the database server is running and reachable, then"
            " try again."
        )


class DataDirUnusable(StoreError):
    """The data directory cannot be created or written; another folder is needed."""

    def __init__(self, path: str | Path, problem: str, *, doing: str = "create") -> None:
        self.path, self.problem, self.doing = str(path), problem, doing
        super().__init__(
            f"Cannot {doing} the data directory {path}: {problem}. Nothing was changed."
            " Choose a folder you can write to."
        )


class TransientError(TrackerError):
    """One answer from an outside service worth retrying, with the wait it asked for (seconds)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FetchError(TrackerError):
    """A search run could not complete; the store is unchanged."""


class NCBIQueryError(FetchError):
    """NCBI rejected the query itself; retrying will not help."""


class NCBIUnavailableError(FetchError):
    """NCBI kept failing after every retry."""


class CitationError(TrackerError):
    """Citation metrics could not be fetched from iCite; the stored ones are unchanged."""


class MetricsDamaged(StoreError):
    """The stored citation metrics cannot be read; fetching them all again rebuilds them."""

    def __init__(self, where: str, reason: object) -> None:
        self.where = where
        super().__init__(
            f"{where} is damaged or not a citation table ({reason}). Fetch the citation metrics"
            " again to rebuild it: it holds only metrics fetched from iCite."
        )


class WholeRebuildRequired(CitationError):
    """Some PMIDs' metrics cannot be merged into a damaged table; only a full fetch mends it."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"{where} is damaged, so these PMIDs' metrics cannot be merged into it. Nothing was"
            " changed. Fetch the metrics of every record, not only some PMIDs, to rebuild it."
        )


class ScreeningError(TrackerError):
    """A screening action names something that does not exist."""


class ReviewerRequired(ScreeningError):
    """Every decision, tag and note is signed: the reviewer's name is missing."""

    def __init__(self) -> None:
        super().__init__("Who is screening? Give a reviewer name (your initials will do).")


class ReasonRequired(ScreeningError):
    """An exclusion must say why; ``reasons`` is the controlled list to choose from."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("Say why it is excluded, with one of: " + "; ".join(self.reasons))


class UnknownReason(ScreeningError):
    """An exclusion reason not in the controlled list (which can be extended)."""

    def __init__(self, reason: str, reasons: Sequence[str]) -> None:
        self.reason, self.reasons = reason, tuple(reasons)
        super().__init__(
            f"Unknown exclusion reason {reason!r}: use one of: {'; '.join(self.reasons)} "
            "(or add it to the list of exclusion reasons first)."
        )


class ReasonNotAllowed(ScreeningError):
    """A reason was given with a decision that is not an exclusion."""

    def __init__(self, decision: str) -> None:
        self.decision = decision
        super().__init__(f"An exclusion reason goes with an exclude decision only, not {decision}.")


class NoteRequired(ScreeningError):
    """The reason ``reason`` (the catch-all 'other') means nothing without a note."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The reason {reason!r} needs a note saying what it is.")


class TagRequired(ScreeningError):
    """A tag action needs exactly one tag, to add or to remove."""

    def __init__(self) -> None:
        super().__init__("Give exactly one tag, to add or to remove, with a tag name.")


class TeamError(TrackerError):
    """Who may act in a review: its allow-list of accounts and their roles (:mod:`tracker.team`)."""


class NotAMember(TeamError):
    """The review has an allow-list, and ``account`` is not on it."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(
            f"{account} is not on this review's team. A lead of the review can add the account."
        )


class RoleRequired(TeamError):
    """Only a member with ``role`` may do this, and ``account`` has another role."""

    def __init__(self, role: str, account: str) -> None:
        self.role, self.account = role, account
        super().__init__(f"Only a {role} of the review may do this, and {account} is not one.")


class AccountInvalid(TeamError):
    """Team members are named by the email address their identity provider gives."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(
            f"{text!r} is not an email address: name a team member by the address they sign in"
            " with."
        )


class LastLead(TeamError):
    """Removing ``account`` (or making it a reviewer) would leave the team without a lead, so
    no one could resolve conflicts or bring records in."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(
            f"That change to {account} would leave the team without a lead: the first member"
            " must be a lead, and the last lead stays until another member is made one, so"
            " someone can always resolve conflicts and bring records in."
        )


class RankingError(TrackerError):
    """Ranking, the stopping rule or a simulation was asked for something it cannot do."""


class DatasetError(RankingError):
    """A labelled dataset is missing a column, has labels other than 0/1, or has no relevant
    (or no irrelevant) record."""


class ExportError(TrackerError):
    """An export could not be written."""


class DestinationUnwritable(ExportError):
    """The file an export was asked to write cannot be written; nothing was written."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path, self.problem = str(path), problem
        super().__init__(f"Cannot write {path}: {problem}. Choose another file to write to.")
