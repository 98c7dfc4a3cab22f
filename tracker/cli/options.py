"""Options shared by several commands, declared once so their names and help never drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(func: F) -> F:
    """``--data-dir``: where the store lives (else TRACKER_DATA_DIR, else ./data)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder holding the store [env: TRACKER_DATA_DIR; default: ./data].",
    )(func)
