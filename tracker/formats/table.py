"""A delimited export read as rows of named cells, each row knowing the line it starts on.

Web of Science's tab-delimited files and every CSV (Scopus, Rayyan, Covidence, ASReview) are
tables; the readers differ only in their column names. A table must have a title column
(whatever the tool calls it): a record without a title cannot be screened or matched, so such
a file is refused rather than read as empty records.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tracker.formats.refusal import ImportRefusedError

csv.field_size_limit(2**27)  # an abstract or a cited-reference list can be long


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its cells by lower-cased column name, and the line it starts on."""

    line: int
    cells: dict[str, str]

    def get(self, *names: str) -> str:
        """The first named column that has a value, stripped; ``""`` when none has one."""
        for name in names:
            value = self.cells.get(name.casefold(), "").strip()
            if value:
                return value
        return ""


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]

    def has(self, *names: str) -> bool:
        return any(name.casefold() in self.columns for name in names)


def read_table(
    text: str, path: Path, *, expected: str, title_columns: tuple[str, ...], delimiter: str = ","
) -> Table:
    """Rows of a CSV (quoted) or tab-delimited (unquoted) file; refused when it is damaged.

    A row with more cells than the header, or fewer than the header up to its last non-empty
    column, means quoting went wrong or the file was cut off mid-row.
    """
    source = io.StringIO(text.lstrip("\ufeff"))
    if delimiter == "\t":  # Web of Science quotes nothing: a quote is part of a title
        reader = csv.reader(source, delimiter="\t", quoting=csv.QUOTE_NONE, strict=True)
    else:
        reader = csv.reader(source, delimiter=delimiter, strict=True)
    rows = _rows(reader, path, expected)
    header = next(rows, None)
    if header is None:
        raise ImportRefusedError(path, "the file is empty", line=1, expected=expected)
    columns = tuple(cell.strip().casefold() for cell in header[1])
    if not any(name.casefold() in columns for name in title_columns):
        raise ImportRefusedError(
            path,
            f"no title column ({' or '.join(title_columns)}) among the"
            f" columns {', '.join(columns[:10])}",
            line=header[0],
            expected=expected,
        )
    return Table(
        columns,
        tuple(
            _named(columns, line, cells, path, expected)
            for line, cells in rows
            if any(c.strip() for c in cells)
        ),
    )


def _rows(
    reader: Iterator[list[str]], path: Path, expected: str
) -> Iterator[tuple[int, list[str]]]:
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1  # type: ignore[attr-defined]
    except csv.Error as exc:
        raise ImportRefusedError(
            path, f"the file is damaged ({exc})", line=line, expected=expected
        ) from exc


def _named(columns: tuple[str, ...], line: int, cells: list[str], path: Path, expected: str) -> Row:
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        raise ImportRefusedError(
            path,
            f"a row with {len(cells)} cells under {len(columns)} columns",
            line=line,
            expected=expected,
        )
    last_named = max((i for i, c in enumerate(columns) if c), default=0)
    if len(cells) < last_named:
        raise ImportRefusedError(
            path,
            f"a row with {len(cells)} of {len(columns)} cells: the file is"
            " cut off or a quote is unbalanced",
            line=line,
            expected=expected,
        )
    return Row(line, dict(zip(columns, (c.strip() for c in cells), strict=False)))
