"""tracker: a living-review tracker for esketamine/ketamine in chronic pain.

This is the curated public API: the Streamlit app and the notebooks import only from here.
"""

from tracker import (
    citations,
    claims,
    dashboard,
    evidence_map,
    fetch,
    prisma,
    ranking,
    screening,
    screening_progress,
    search_log,
    simulation,
    stopping,
    suggestions,
    tagging,
)
from tracker.bibliography import to_bibtex, to_ris
from tracker.config import Settings
from tracker.errors import (
    CitationError,
    ConfigError,
    ExportError,
    FetchError,
    NCBIQueryError,
    NCBIUnavailableError,
    ParseError,
    ScreeningError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    TrackerError,
)
from tracker.export import CSV_HEADERS, Annotation, table_to_csv, to_csv_bytes, write_csv
from tracker.fetch import DEFAULT_QUERY, FetchSummary
from tracker.fetch import Progress as FetchProgress
from tracker.importer import import_files
from tracker.parse import ParseResult, iter_articles, read_articles
from tracker.records import (
    Article,
    Author,
    Decision,
    ExclusionReason,
    Grant,
    MeshHeading,
    MeshQualifier,
    Stage,
    pubmed_url,
)
from tracker.selection import Filters, select
from tracker.store import Event, RunSummary, Store
from tracker.version import __version__
from tracker.vocabulary import Vocabulary, VocabularyError, load_vocabulary

__all__ = [
    "CSV_HEADERS",
    "DEFAULT_QUERY",
    "Annotation",
    "Article",
    "Author",
    "CitationError",
    "ConfigError",
    "Decision",
    "Event",
    "ExclusionReason",
    "ExportError",
    "FetchError",
    "FetchProgress",
    "FetchSummary",
    "Filters",
    "Grant",
    "MeshHeading",
    "MeshQualifier",
    "NCBIQueryError",
    "NCBIUnavailableError",
    "ParseError",
    "ParseResult",
    "RunSummary",
    "ScreeningError",
    "Settings",
    "Stage",
    "Store",
    "StoreError",
    "StoreFullError",
    "StoreLockedError",
    "TrackerError",
    "Vocabulary",
    "VocabularyError",
    "__version__",
    "citations",
    "claims",
    "dashboard",
    "evidence_map",
    "fetch",
    "import_files",
    "iter_articles",
    "load_vocabulary",
    "prisma",
    "pubmed_url",
    "ranking",
    "read_articles",
    "screening",
    "screening_progress",
    "search_log",
    "select",
    "simulation",
    "stopping",
    "suggestions",
    "table_to_csv",
    "tagging",
    "to_bibtex",
    "to_csv_bytes",
    "to_ris",
    "write_csv",
]
