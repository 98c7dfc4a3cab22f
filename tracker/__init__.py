"""tracker: a living-review tracker for esketamine/ketamine in chronic pain.

This is the curated public API: the Streamlit app and the notebooks import only from here.
"""

from tracker.config import Settings
from tracker.errors import (
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
from tracker.export import CSV_HEADERS, Annotation, to_csv_bytes, write_csv
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
from tracker.store import Event, RunSummary, Store
from tracker.version import __version__

__all__ = [
    "CSV_HEADERS",
    "Annotation",
    "Article",
    "Author",
    "ConfigError",
    "Decision",
    "Event",
    "ExclusionReason",
    "ExportError",
    "FetchError",
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
    "__version__",
    "import_files",
    "iter_articles",
    "pubmed_url",
    "read_articles",
    "to_csv_bytes",
    "write_csv",
]
