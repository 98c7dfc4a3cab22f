"""The one exception hierarchy of tracker.

Every error a user can cause or meet derives from :class:`TrackerError`, and its message says
what happened and what to do next. The CLI turns these into ``Error: …`` and exit code 1 in one
place; the app shows them with ``st.error`` in one place. Anything else is a bug.

    TrackerError
    ├── ConfigError          a missing or invalid setting (no email, empty query, bad data dir)
    ├── ParseError           PubMed XML that is malformed or cut off; names the file and line
    ├── StoreError           the data directory cannot be read or written
    │   ├── StoreLockedError another process holds the store's lock for too long
    │   └── StoreFullError   the disk is full; the previous state is kept
    ├── FetchError           a PubMed search or download that could not complete
    │   ├── NCBIQueryError   NCBI refused the query itself (permanent: change the query)
    │   └── NCBIUnavailableError  NCBI kept failing after every retry (transient faults)
    ├── CitationError        NIH iCite's metrics could not be fetched; stored metrics are kept
    ├── ScreeningError       an unknown PMID, decision, stage, reason or reviewer
    ├── RankingError         a stopping rule or simulation that cannot run as asked
    │   └── DatasetError     a labelled dataset that cannot be simulated (names the problem)
    └── ExportError          a format or destination that cannot be written
"""

from __future__ import annotations

from pathlib import Path


class TrackerError(Exception):
    """Base of every error tracker raises on purpose."""


class ConfigError(TrackerError):
    """A setting is missing or invalid."""


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


class FetchError(TrackerError):
    """A search run could not complete; the store is unchanged."""


class NCBIQueryError(FetchError):
    """NCBI rejected the query itself; retrying will not help."""


class NCBIUnavailableError(FetchError):
    """NCBI kept failing after every retry."""


class CitationError(TrackerError):
    """Citation metrics could not be fetched from iCite; the stored ones are unchanged."""


class ScreeningError(TrackerError):
    """A screening action names something that does not exist."""


class RankingError(TrackerError):
    """Ranking, the stopping rule or a simulation was asked for something it cannot do."""


class DatasetError(RankingError):
    """A labelled dataset is missing a column, has labels other than 0/1, or has no relevant
    (or no irrelevant) record."""


class ExportError(TrackerError):
    """An export could not be written."""
