"""``tracker enrich``: citation metrics from NIH iCite for the stored records."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from tracker.citations import enrich
from tracker.cli.fetching import _progress_bar
from tracker.cli.options import data_dir_option
from tracker.cli.options import settings as cli_settings
from tracker.store import Store


@click.command("enrich")
@click.option(
    "--pmid",
    "pmids",
    type=click.IntRange(min=1),
    multiple=True,
    help="Only this PMID (repeat for more) [default: every stored record].",
)
@click.option(
    "--email",
    default=None,
    help="Contact email sent to iCite in the User-Agent [env: NCBI_EMAIL]. Optional.",
)
@data_dir_option
@click.option("--quiet", is_flag=True, help="No progress bar; only the summary line.")
def enrich_command(
    pmids: tuple[int, ...], email: str | None, data_dir: Path | None, quiet: bool
) -> None:
    """Fetch citation metrics from NIH iCite and store them beside the records.

    For each PMID: citation count, relative citation ratio (RCR, empty for papers too recent
    to have one), NIH percentile, year, and the clinical and provisional flags, asked
    200 PMIDs per request and kept in citations.parquet. PMIDs iCite does not know are
    counted and left without metrics. All or nothing: if any request fails after its
    retries, the stored metrics stay exactly as they were.
    """
    settings = cli_settings(data_dir=data_dir, email=email)
    console = Console(stderr=True)
    with _progress_bar(console, quiet) as report:
        summary = enrich(Store.open(settings), settings, pmids=pmids or None, progress=report)
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if not summary.asked:
        click.echo("No records in the store yet: run `tracker fetch` or `tracker import` first.")
        return
    click.echo(summary.line())


COMMANDS = (enrich_command,)
