"""Why a file is refused: :class:`ImportRefusedError` names the file, the line, the format.

A refused file gives no record at all (readers return a whole file or raise), so whoever
imports it stores nothing. Messages are neutral: they say what is wrong and what to do, never
which command or widget to use.
"""

from __future__ import annotations

from pathlib import Path

from tracker.errors import ParseError

ACCEPTED = (
    "RIS (Embase, CENTRAL, Web of Science, Scopus, EndNote, Zotero), PubMed MEDLINE/.nbib text, "
    "PubMed XML, Web of Science tab-delimited, Scopus CSV, or a Rayyan, Covidence or ASReview CSV"
)
"""Every format :func:`tracker.formats.read_file` accepts, as a message lists them."""


_AGAIN = "export it again from the database or tool, whole and unchanged"


class ImportRefusedError(ParseError):
    """A file that is not one of the accepted formats, or is damaged; nothing was read from it.

    ``expected`` names the format the file was read as (or every accepted format when the
    file is none of them).
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        expected: str = ACCEPTED,
        advice: str = _AGAIN,
    ) -> None:
        self.expected, self.problem = expected, problem
        super().__init__(
            f"{problem}; expected {expected}. Nothing was imported from this file: {advice}.",
            source=path,
            line=line,
        )


class FileTooLargeError(ImportRefusedError):
    """A file over the size cap, refused before a byte of it is read."""

    def __init__(self, path: str | Path, size: int, cap: int) -> None:
        self.size, self.cap = size, cap
        problem = (
            f"the file holds {size / 2**20:,.0f} MiB, more than the {cap / 2**20:,.0f} MiB an"
            " export is read in one go"
        )
        super().__init__(
            path,
            problem,
            expected=f"an export of at most {cap / 2**20:,.0f} MiB",
            advice="export the results in several smaller files",
        )
