"""Readers for every export a review brings in, behind one call: :func:`read_file`.

Formats are told from content (:mod:`tracker.formats.sniff`); each has its reader module (RIS
through rispy, MEDLINE through Bio.Medline, the tables through the standard csv module) and
every reader gives :class:`~tracker.source_record.SourceRecord` values, a whole file or an
:class:`~tracker.formats.refusal.ImportRefusedError`.
"""

from tracker.formats.reader import MAX_IMPORT_BYTES, from_article, read_file
from tracker.formats.refusal import ACCEPTED, FileTooLargeError, ImportRefusedError
from tracker.formats.sniff import Format, sniff

__all__ = [
    "ACCEPTED",
    "MAX_IMPORT_BYTES",
    "FileTooLargeError",
    "Format",
    "ImportRefusedError",
    "from_article",
    "read_file",
    "sniff",
]
