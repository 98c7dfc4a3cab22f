"""Commands for the daily work of screening: decide, tag, note, undo, resolve, and the checks
that come with dual review (conflicts, agreement), duplicates and the PRISMA numbers."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from tracker import annotation_files, prisma, screening
from tracker import duplicates as duplicates_
from tracker.agreement import agreement_frame
from tracker.cli.options import data_dir_option, emit, open_store, out_option, reviewer_option
from tracker.records import DECIDABLE, Stage
from tracker.store import Store

STAGES = [s.value for s in Stage]
DECISIONS = [d.value for d in DECIDABLE]


def json_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )


def stage_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--stage", type=click.Choice(STAGES), default=Stage.TITLE_ABSTRACT.value, show_default=True
    )(func)


@click.command("screen")
@click.argument("pmids", nargs=-1, required=True)
@click.option("--decision", type=click.Choice(DECISIONS), required=True)
@click.option("--reason", default="", help="Why excluded: one of `tracker reasons list`.")
@stage_option
@reviewer_option
@click.option("--note", default="", help="A note kept with the decision.")
@data_dir_option
def screen_command(pmids: tuple[str, ...], decision: str, reason: str, stage: str,
                   reviewer: str | None, note: str, data_dir: Path | None) -> None:  # fmt: skip
    """Record your decision on one or more records at a screening stage.

    Records are named by record id: a PubMed record's is its PMID; `tracker export` lists every
    record's in its Record ID column.
    """
    store, who = open_store(data_dir, reviewer)
    ids = screening.decide(store, screening.pmids_of(pmids), decision=decision, reviewer=who,
                           stage=stage, reason=reason, note=note)  # fmt: skip
    click.echo(f"{len(ids)} record(s) marked {decision} at {stage} by {who.strip()}.")


@click.command("resolve")
@click.argument("pmid")
@click.option("--decision", type=click.Choice(DECISIONS), required=True)
@click.option("--reason", default="", help="Why excluded: one of `tracker reasons list`.")
@stage_option
@reviewer_option
@click.option("--note", default="", help="A note kept with the resolution.")
@data_dir_option
def resolve_command(pmid: str, decision: str, reason: str, stage: str, reviewer: str | None,
                    note: str, data_dir: Path | None) -> None:  # fmt: skip
    """Settle a conflict between reviewers with a final decision."""
    store, who = open_store(data_dir, reviewer)
    (target,) = screening.pmids_of([pmid])
    screening.resolve(store, target, decision=decision, reviewer=who, stage=stage, reason=reason,
                      note=note)  # fmt: skip
    click.echo(f"PMID {target} resolved as {decision} at {stage}.")


@click.command("tag")
@click.argument("pmids", nargs=-1, required=True)
@click.option("--add", default=None, help="Tag to add.")
@click.option("--remove", default=None, help="Tag to remove.")
@reviewer_option
@data_dir_option
def tag_command(pmids: tuple[str, ...], add: str | None, remove: str | None,
                reviewer: str | None, data_dir: Path | None) -> None:  # fmt: skip
    """Add or remove a free tag on one or more records."""
    store, who = open_store(data_dir, reviewer)
    ids = screening.tag(store, screening.pmids_of(pmids), reviewer=who, add=add, remove=remove)
    click.echo(f"{'added' if add is not None else 'removed'} tag on {len(ids)} record(s).")


@click.command("note")
@click.argument("pmid")
@click.argument("text")
@reviewer_option
@data_dir_option
def note_command(pmid: str, text: str, reviewer: str | None, data_dir: Path | None) -> None:
    """Attach a note to a record."""
    store, who = open_store(data_dir, reviewer)
    (target,) = screening.pmids_of([pmid])
    screening.note(store, target, text, reviewer=who)
    click.echo(f"Note added to PMID {target}.")


@click.command("undo")
@reviewer_option
@data_dir_option
def undo_command(reviewer: str | None, data_dir: Path | None) -> None:
    """Undo your latest action (it stays in the history, reversed)."""
    store, who = open_store(data_dir, reviewer)
    done = screening.undo(store, reviewer=who)
    click.echo(done[:1].upper() + done[1:] + "." if done else "Nothing of yours to undo.")


@click.command("conflicts")
@stage_option
@json_option
@data_dir_option
def conflicts_command(stage: str, as_json: bool, data_dir: Path | None) -> None:
    """List records whose reviewers disagree and that are not resolved yet."""
    store, _ = open_store(data_dir)
    table = screening.conflicts(store, stage)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2, force_ascii=False))
    elif table.empty:
        click.echo(f"No open conflicts at {stage}.")
    else:
        _print(table[["record_id", "decisions"]], title=f"Open conflicts at {stage}")
        click.echo(f"Settle one with: tracker resolve PMID --decision ... --stage {stage}")


@click.command("agreement")
@stage_option
@json_option
@data_dir_option
def agreement_command(stage: str, as_json: bool, data_dir: Path | None) -> None:
    """Agreement between each pair of reviewers: counts, percent and Cohen's kappa."""
    store, _ = open_store(data_dir)
    frame = agreement_frame(screening.agreement(store, stage))
    if as_json:
        click.echo(frame.to_json(orient="records", indent=2, force_ascii=False))
        return
    if frame.empty:
        click.echo(f"No records decided by two reviewers at {stage} yet.")
        return
    shown = pd.DataFrame(
        {
            "reviewers": frame["reviewer_a"] + " / " + frame["reviewer_b"],
            "both decided": frame["both_decided"],
            "agreed": frame["agreed"],
            "percent": frame["percent"].map(lambda p: f"{p:.1f} %"),
            "Cohen's kappa": frame["kappa"].map(
                lambda k: "undefined" if pd.isna(k) else f"{k:.3f}"
            ),
        }
    )
    _print(shown, title=f"Agreement at {stage}")


@click.command("duplicates")
@click.option(
    "--confirm", "confirm_pmid", default=None, help="Record id to confirm as a duplicate."
)
@click.option("--reject", "reject_pmid", default=None, help="Record id that is not a duplicate.")
@click.option("--of", "of_pmid", default=None, help="The record it duplicates.")
@reviewer_option
@json_option
@data_dir_option
def duplicates_command(
    confirm_pmid: str | None,
    reject_pmid: str | None,
    of_pmid: str | None,
    reviewer: str | None,
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """List likely duplicates, or confirm/reject one (never merged without you)."""
    store, who = open_store(data_dir, reviewer)
    if confirm_pmid or reject_pmid:
        _judge_duplicate(store, who, confirm_pmid, reject_pmid, of_pmid)
        return
    found = duplicates_.find_duplicates(store.records(), store)
    if as_json:
        click.echo(found.to_json(orient="records", indent=2, force_ascii=False))
    elif found.empty:
        click.echo("No likely duplicates.")
    else:
        _print(found, title="Likely duplicates")
        click.echo("Confirm one with: tracker duplicates --confirm PMID --of PMID --reviewer NAME")


def _judge_duplicate(
    store: Store, who: str, confirm_pmid: str | None, reject_pmid: str | None, of_pmid: str | None
) -> None:
    if confirm_pmid and reject_pmid:
        raise click.UsageError("Give --confirm or --reject, not both.")
    if not of_pmid:
        raise click.UsageError("Say which record it duplicates: --of PMID.")
    pmid, original = screening.pmids_of([confirm_pmid or reject_pmid or "", of_pmid])
    judge = duplicates_.confirm if confirm_pmid else duplicates_.reject
    judge(store, pmid, duplicate_of=original, reviewer=who)
    verdict = "confirmed as" if confirm_pmid else "marked as not"
    click.echo(f"PMID {pmid} {verdict} a duplicate of {original}.")


def _print(frame: pd.DataFrame, *, title: str) -> None:
    table = Table(*(str(c) for c in frame.columns), title=title, title_justify="left")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    Console(width=120).print(table)


@click.command("prisma")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "dot"]), default="text",
              show_default=True)  # fmt: skip
@click.option("--since-run", type=int, default=None,
              help="Updated review: records found after this run are the new ones.")  # fmt: skip
@data_dir_option
def prisma_command(fmt: str, since_run: int | None, data_dir: Path | None) -> None:
    """The PRISMA 2020 flow numbers (text, JSON) or diagram (Graphviz DOT)."""
    store, _ = open_store(data_dir)
    counts = prisma.counts(store, since_run=since_run)
    render = {"text": prisma.to_text, "json": prisma.to_json, "dot": prisma.to_dot}[fmt]
    click.echo(render(counts))


@click.group("annotations")
def annotations_group() -> None:
    """Move annotations between machines or tools as CSV.

    \b
    The file has one row per event in force, oldest first:
      created_at, reviewer, pmid, stage, action, value, reason, note
    (action: decide, resolve, tag-add, tag-remove, note, duplicate-confirm,
    duplicate-reject, reason-add). Importing it elsewhere gives the same state;
    importing it twice changes nothing.
    """


@annotations_group.command("export")
@out_option
@data_dir_option
def annotations_export(out: Path | None, data_dir: Path | None) -> None:
    """Write every decision, tag and note in force as CSV (stdout when no --out)."""
    store, _ = open_store(data_dir)
    data = annotation_files.export_csv(store)
    emit(data, out)


@annotations_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@reviewer_option
@data_dir_option
def annotations_import(file: Path, reviewer: str | None, data_dir: Path | None) -> None:
    """Read annotations from CSV: ours, or another tool's.

    Another tool's file needs pmid and decision columns, and may have reason, stage,
    reviewer, tags (separated by ";") and note. Every row is checked first: one bad row
    and nothing is imported.
    """
    store, who = open_store(data_dir, reviewer)
    count = annotation_files.import_csv(store, file, reviewer=who)
    click.echo(f"{count} annotation event(s) imported.")


@click.group("reasons")
def reasons_group() -> None:
    """The controlled list of exclusion reasons."""


@reasons_group.command("list")
@data_dir_option
def reasons_list(data_dir: Path | None) -> None:
    """Show the exclusion reasons in use."""
    store, _ = open_store(data_dir)
    click.echo("\n".join(screening.exclusion_reasons(store)))


@reasons_group.command("add")
@click.argument("reason")
@reviewer_option
@data_dir_option
def reasons_add(reason: str, reviewer: str | None, data_dir: Path | None) -> None:
    """Add an exclusion reason to the list."""
    store, who = open_store(data_dir, reviewer)
    screening.add_exclusion_reason(store, reason, reviewer=who)
    click.echo(f"Added exclusion reason: {reason.strip()}")


COMMANDS = (screen_command, resolve_command, tag_command, note_command, undo_command,
            conflicts_command, agreement_command, duplicates_command, prisma_command,
            annotations_group, reasons_group)  # fmt: skip
