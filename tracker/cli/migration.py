"""``tracker migrate``: copy a review between its data folder and a PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.options import data_dir_option
from tracker.cli.options import settings as cli_settings
from tracker.store import Store
from tracker.store_transfer import copy_store


@click.command("migrate")
@click.option(
    "--to",
    "to_url",
    metavar="URL",
    default=None,
    help="Copy the data folder into this empty PostgreSQL database.",
)
@click.option(
    "--from",
    "from_url",
    metavar="URL",
    default=None,
    help="Copy the review in this PostgreSQL database into the empty data folder.",
)
@data_dir_option
def migrate_command(to_url: str | None, from_url: str | None, data_dir: Path | None) -> None:
    """Copy a whole review between the data folder and a team's PostgreSQL server.

    Everything moves as it is (records, every run and event with its id, citation metrics,
    the library's own vocabulary) and is read back and compared before the copy is reported
    done. The target must be empty; a copy into a server is one transaction.

    \b
      tracker migrate --to postgresql://ana@db.example.org/review --data-dir data
      tracker migrate --from postgresql://ana@db.example.org/review --data-dir copy
    """
    if (to_url is None) == (from_url is None):
        raise click.UsageError("give --to URL (folder to server) or --from URL (server to folder)")
    settings = cli_settings(data_dir=data_dir)
    folder = Store(settings.data_dir)
    if to_url is not None:
        done = copy_store(folder, Store.on_server(to_url))
    else:
        assert from_url is not None
        done = copy_store(Store.on_server(from_url), folder)
    click.echo(done.line())


COMMANDS = (migrate_command,)
