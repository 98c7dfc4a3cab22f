"""Options shared by several commands, declared once so their names and help never drift."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tracker import export
from tracker.config import Settings
from tracker.store import Store

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(func: F) -> F:
    """``--data-dir``: where the store lives (else TRACKER_DATA_DIR, else ./data); with it,
    ``--database-url``: a PostgreSQL server instead (else TRACKER_DATABASE_URL), which the
    command reads through :func:`settings` rather than as a parameter of its own."""
    with_folder = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder holding the store [env: TRACKER_DATA_DIR; default: ./data].",
    )(func)
    return click.option(
        "--database-url",
        default=None,
        expose_value=False,
        callback=_remember_database_url,
        metavar="URL",
        help="PostgreSQL database holding a team's store, postgresql://user@host/db; wins over"
        " --data-dir [env: TRACKER_DATABASE_URL].",
    )(with_folder)


def _remember_database_url(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[DATABASE_URL] = value


DATABASE_URL = "tracker.database_url"


def settings(**overrides: str | Path | None) -> Settings:
    """The settings of this command: its flags (``--database-url`` included), else the
    environment."""
    ctx = click.get_current_context(silent=True)
    url = ctx.meta.get(DATABASE_URL) if ctx is not None else None
    return Settings.from_env(None, database_url=url, **overrides)


def emit(data: bytes, out: Path | None, saved: str = "") -> None:
    """What ``--out`` means everywhere: the bytes to standard output when it is omitted, else
    saved atomically to the file, then ``saved`` (if any) on stderr so pipes stay clean."""
    if out is None:
        sys.stdout.flush()  # click.echo's text first, then the raw bytes
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    export.save(data, out)
    if saved:
        click.echo(saved, err=True)


def reviewer_option(func: F) -> F:
    """``--reviewer``: who decides (else TRACKER_REVIEWER)."""
    return click.option("--reviewer", default=None, help="Who decides [env: TRACKER_REVIEWER].")(
        func
    )


def out_option(func: F) -> F:
    """``--out``: the file to write (see :func:`emit`)."""
    return click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="File to write; standard output when omitted.",
    )(func)


def open_store(data_dir: Path | None, reviewer: str | None = None) -> tuple[Store, str]:
    """The store and the reviewer's name, from the flags given, else the environment."""
    chosen = settings(data_dir=data_dir, reviewer=reviewer)
    return Store.open(chosen), chosen.reviewer
