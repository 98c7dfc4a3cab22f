"""Commands over the stored library: ``import``, ``export`` and ``runs``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from tracker import bibliography, export, screening, search_log, study_groups, suggestions
from tracker.cli.options import data_dir_option, emit
from tracker.cli.options import settings as cli_settings
from tracker.errors import ConfigError
from tracker.importer import import_exports
from tracker.selection import Filters, select
from tracker.store import Store


def _store(data_dir: Path | None) -> Store:
    return Store.open(cli_settings(data_dir=data_dir))


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--source",
    default=None,
    help="The database the files come from (Embase, CENTRAL, Web of Science, Scopus…), when"
    " the files do not say it themselves.",
)
@click.option(
    "--reviewer",
    envvar="TRACKER_REVIEWER",
    default="",
    help="Who signs the decisions a Rayyan, Covidence or ASReview export carries (a Rayyan"
    " export's own reviewer names are kept) [env: TRACKER_REVIEWER].",
)
@data_dir_option
def import_command(
    files: tuple[Path, ...], source: str | None, reviewer: str, data_dir: Path | None
) -> None:
    """Import exports FILES from any database or screening tool, told apart by content.

    Accepted: RIS (Embase on Ovid or Embase.com, Cochrane CENTRAL, Web of Science, Scopus,
    EndNote, Zotero), PubMed MEDLINE/.nbib text, PubMed XML (efetch output, "Save → PubMed
    XML", baseline .xml.gz), Web of Science tab-delimited, Scopus CSV, and Rayyan, Covidence
    or ASReview CSV with their decisions.

    All files are read before anything is stored: one bad file changes nothing. Each
    database's files become one run in the search log; records two databases both hold are
    merged when the match is certain (same DOI or PMID), and listed by `tracker duplicates`
    when it is not.
    """
    outcome = import_exports(_store(data_dir), files, source=source, reviewer=reviewer)
    for part in outcome.sources:
        s = part.summary
        click.echo(
            f"{part.source}: {s.retrieved:,} records: {s.new:,} new, {s.updated:,} updated"
            + (f", {s.unchanged:,} unchanged" if s.unchanged else "")
            + (f"; {part.decisions:,} decisions moved in" if part.decisions else "")
        )
    merges = outcome.merges
    if merges.merged or merges.waiting:
        click.echo(
            f"{merges.merged:,} records merged with another database's copy;"
            f" {merges.waiting:,} possible duplicates wait for a person (`tracker duplicates`)."
        )
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    if outcome.deleted:
        click.echo(f"{len(outcome.deleted):,} PMIDs are listed as deleted by NCBI; they were kept.")


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ris", "bibtex"]),
    default="csv",
    show_default=True,
    help="csv opens in Excel (UTF-8 with BOM, formulas made inert); ris for Zotero/EndNote; "
    "bibtex for LaTeX.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write; standard output when omitted.",
)
@click.option("--decision", "decisions", multiple=True,
              type=click.Choice(["unscreened", "include", "exclude", "maybe", "conflict"]),
              help="Only records with this decision (repeat for several).")  # fmt: skip
@click.option("--stage", default="", type=click.Choice(["", "title-abstract", "full-text"]),
              help="Stage the --decision applies to [default: the latest reached].")  # fmt: skip
@click.option("--tag", "tags", multiple=True, help="Only records carrying this tag (all given).")
@click.option("--reviewer", default="", help="Only records this reviewer decided.")
@click.option("--year", "years", default=None, metavar="FROM-TO",
              help="Only records published in these years: 2015-2020, or one: 2018.")  # fmt: skip
@click.option("--keep-duplicates", is_flag=True,
              help="One entry per stored record, each with its own source; by default a record "
              "confirmed as a duplicate is folded into its original, which lists every "
              "source.")  # fmt: skip
@data_dir_option
def export_command(
    fmt: str,
    out: Path | None,
    decisions: tuple[str, ...],
    stage: str,
    tags: tuple[str, ...],
    reviewer: str,
    years: str | None,
    keep_duplicates: bool,
    data_dir: Path | None,
) -> None:
    """Export records as a bibliography, one entry per study, sorted by record id.

    Decision, exclusion reason, tags and notes come from screening; the filters choose which
    records are written. A record confirmed as a duplicate (the same study from another
    database, say) is folded into its original unless --keep-duplicates is given.
    """
    store = _store(data_dir)
    chosen = Filters(
        decisions=decisions, stage=stage, tags=tags, reviewer=reviewer, years=year_range(years)
    )
    state = screening.summary(store)
    picked = select(store.records(), chosen, screening=state)
    records = study_groups.entries(picked, store, keep_duplicates=keep_duplicates)
    notes = screening.annotations(store, state=state)
    if fmt == "csv":
        data = export.to_csv_bytes(records, notes, suggestions.export_cells(store))
    elif fmt == "ris":
        data = bibliography.to_ris(records, notes).encode("utf-8")
    else:
        data = bibliography.to_bibtex(records, notes).encode("utf-8")
    emit(data, out, f"{len(records):,} records written to {out}")


def year_range(text: str | None) -> tuple[int, int] | None:
    """``"2015-2020"`` as (2015, 2020), ``"2018"`` as (2018, 2018), nothing as no limit."""
    if text is None:
        return None
    found = re.fullmatch(r"\s*(\d{4})\s*(?:[-–:]\s*(\d{4})\s*)?", text)
    if not found:
        raise ConfigError(f"--year {text!r} is not a year range: write FROM-TO, e.g. 2015-2020.")
    low, high = int(found.group(1)), int(found.group(2) or found.group(1))
    if low > high:
        raise ConfigError(f"--year {text}: the first year is after the second; swap them.")
    return low, high


@click.command("runs")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "csv"]),
              default="text", show_default=True,
              help="text: a table; json: every logged field; markdown: the PRISMA-S "
              "search log with a methods sentence per search; csv: it for Excel.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (json, markdown, csv); standard output if omitted.")  # fmt: skip
@data_dir_option
def runs_command(fmt: str, as_json: bool, out: Path | None, data_dir: Path | None) -> None:
    """Show the search and import log: one row per run, oldest first."""
    runs = _store(data_dir).runs()
    fmt = "json" if as_json else fmt
    if fmt != "text":
        emit(_log_bytes(runs, fmt), out, f"Search log written to {out}")
        return
    if runs.empty:
        click.echo("No runs yet: use `tracker fetch` or `tracker import FILE`.")
        return
    table = Table("run", "kind", "status", "started (UTC)", "count", "new", "updated", "gone",
                  "requests", "retries", "query / error")  # fmt: skip
    for run in runs.to_dict(orient="records"):
        table.add_row(
            str(run["id"]), str(run["kind"]), str(run["status"]), str(run["started_at"])[:19],
            _number(run["count"]), _number(run["new"]), _number(run["updated"]),
            _number(run["gone"]), str(run["requests"]), str(run["retries"]),
            str(run["error"] or run["query"]),
        )  # fmt: skip
    Console(width=160).print(table)


def _log_bytes(runs: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "json":
        rows = json.loads(runs.to_json(orient="records"))
        return (json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    log = search_log.search_log(runs)
    if fmt == "csv":
        return search_log.to_csv(log)
    return search_log.to_markdown(log).encode("utf-8")


def _number(value: object) -> str:
    try:
        return f"{int(value):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""


COMMANDS = (import_command, export_command, runs_command)
