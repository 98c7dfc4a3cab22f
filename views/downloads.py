"""File buttons: one per file, side by side; the file type follows the file's name.

Pressing one does not rerun the page (``on_click="ignore"``), and a callable ``data`` is built
only when its button is pressed: 100,000 records make large files. Owns the button keys,
``dl_<file name>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

MIME_TYPES = {".csv": "text/csv", ".ris": "application/x-research-info-systems",
              ".bib": "application/x-bibtex", ".txt": "text/plain", ".json": "application/json",
              ".md": "text/markdown"}  # fmt: skip


@dataclass(frozen=True)
class Download:
    label: str
    name: str
    data: str | bytes | Callable[[], str | bytes]


def key_of(file: Download) -> str:
    return f"dl_{file.name}"


def downloads(files: Sequence[Download]) -> None:
    for column, file in zip(st.columns(len(files)), files, strict=True):
        column.download_button(
            file.label, file.data, file_name=file.name, mime=MIME_TYPES[Path(file.name).suffix],
            key=key_of(file), on_click="ignore",
        )  # fmt: skip
