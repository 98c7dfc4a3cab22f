"""``tracker fetch``: run the review's PubMed (or ClinicalTrials.gov) search and store every
record, as one run."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tracker.cli.options import data_dir_option
from tracker.cli.options import settings as cli_settings
from tracker.clinicaltrials import TrialQuery
from tracker.config import Settings
from tracker.defaults import EFETCH_BATCH_SIZE
from tracker.errors import QueryRequired
from tracker.fetch import DEFAULT_QUERY, RetryPolicy, fetch
from tracker.fetch import Progress as FetchProgress
from tracker.registry_fetch import describe, fetch_registry
from tracker.store import Store


def _query_epilog() -> str:
    """The default query, one term per line; ``\b`` stops click from re-wrapping it."""
    lines = DEFAULT_QUERY.replace(" OR ", " OR\n    ").replace(") AND (", ")\n  AND (")
    return (
        "\b\nThe default query (MeSH terms plus title/abstract words, no date limit):\n  " + lines
    )


@click.command("fetch", epilog=_query_epilog())
@click.option(
    "--source",
    type=click.Choice(["pubmed", "clinicaltrials"]),
    default="pubmed",
    show_default=True,
    help="Search PubMed (through NCBI E-utilities) or the ClinicalTrials.gov registry (API v2).",
)
@click.option(
    "--query",
    default=None,
    help="The query to run [default: the PubMed query below; for ClinicalTrials.gov, ketamine"
    " or esketamine as the intervention and chronic pain conditions]. For ClinicalTrials.gov it"
    " is the registry's own search expression (query.term) and replaces the default.",
)
@click.option("--email", default=None, help="Contact email NCBI asks for [env: NCBI_EMAIL].")
@click.option(
    "--api-key",
    default=None,
    help="NCBI API key: 10 requests/s instead of 3 [env: NCBI_API_KEY]. Never stored.",
)
@click.option(
    "--batch-size", default=EFETCH_BATCH_SIZE, show_default=True, help="Records per efetch request."
)
@click.option(
    "--max-tries",
    default=RetryPolicy().max_tries,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Attempts per request before the run fails.",
)
@data_dir_option
@click.option("--quiet", is_flag=True, help="No progress bar; only the summary line.")
def fetch_command(
    source: str,
    query: str | None,
    email: str | None,
    api_key: str | None,
    batch_size: int,
    max_tries: int,
    data_dir: Path | None,
    quiet: bool,
) -> None:
    """Fetch every PubMed record (or ClinicalTrials.gov study) matching the query, as one run.

    The run is all or nothing: if any batch fails after its retries, nothing is stored and
    the run is logged as failed with the reason (see `tracker runs`).
    """
    settings = cli_settings(data_dir=data_dir, email=email, api_key=api_key)
    settings.require_email()
    if source == "clinicaltrials":
        _fetch_registry(settings, query, max_tries)
        return
    query = DEFAULT_QUERY if query is None else query
    console = Console(stderr=True)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with _progress_bar(console, quiet) as report:
        summary = fetch(
            settings,
            store=Store.open(settings),
            query=query,
            batch_size=batch_size,
            progress=report,
            policy=RetryPolicy(max_tries=max_tries),
        )
    for warning in summary.warnings[:20]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    click.echo(summary.line())


def _fetch_registry(settings: Settings, query: str | None, max_tries: int) -> None:
    chosen = TrialQuery() if query is None else TrialQuery(conditions="", interventions="",
                                                           term=query)  # fmt: skip
    if not describe(chosen):
        raise QueryRequired()
    done = fetch_registry(Store.open(settings), settings, query=chosen,
                          policy=RetryPolicy(max_tries=max_tries))  # fmt: skip
    s = done.summary
    click.echo(
        f"ClinicalTrials.gov: {s.retrieved:,} studies: {s.new:,} new, {s.known:,} already known,"
        f" {s.gone:,} no longer returned; {done.pages} pages, {done.requests} requests,"
        f" {done.retries} retries, {done.seconds:.1f} s"
    )
    if done.merges.merged:
        click.echo(f"{done.merges.merged:,} registrations merged with another database's copy.")


class _progress_bar:  # noqa: N801 - used as a context manager, reads like a function
    """A rich progress bar fed by the fetcher's progress callback, on stderr."""

    def __init__(self, console: Console, quiet: bool) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("batches {task.fields[batches]} · retries {task.fields[retries]}"),
            TimeRemainingColumn(),
            console=console,
            disable=quiet or not console.is_terminal,
        )
        self.task = self.bar.add_task("searching", total=None, batches="0/0", retries=0)

    def __enter__(self) -> _progress_bar:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def __call__(self, progress: FetchProgress) -> None:
        self.bar.update(
            self.task,
            description=progress.stage,
            completed=progress.records,
            total=progress.total or None,
            batches=f"{progress.batches}/{progress.batches_total}",
            retries=progress.retries,
        )


COMMANDS = (fetch_command,)
