"""Commands over the evidence: the seed-claims report (``evidence``) and the suggested tags a
reviewer accepts or rejects (``suggestions list|accept|reject``)."""

from __future__ import annotations

from pathlib import Path

import click

from tracker import claims, screening, suggestions
from tracker.cli.options import data_dir_option, emit, open_store, out_option, reviewer_option


@click.command("evidence")
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text",
              show_default=True, help="text to read; csv: a row per claim and study.")  # fmt: skip
@click.option("--scope", type=click.Choice(claims.SCOPES), default="included", show_default=True,
              help="included: final decision include; all: every record.")  # fmt: skip
@out_option
@data_dir_option
def evidence_command(fmt: str, scope: str, out: Path | None, data_dir: Path | None) -> None:
    """The side effects the patient information lists, and the studies that report them.

    Per listed effect, the studies whose abstract, title or indexing reports it, with the
    text that says so; then the effects studies report that the list lacks. Suggested tags a
    reviewer rejected do not count.
    """
    store, _ = open_store(data_dir)
    view = claims.claims_view(store, scope)
    text = claims.to_text(view)
    if view.in_scope == 0 and scope == "included":
        text += "See every record with: tracker evidence --scope all\n"
    data = claims.to_csv(view) if fmt == "csv" else text.encode("utf-8")
    emit(data, out, f"Seed claims ({scope}) written to {out}")


@click.group("suggestions")
def suggestions_group() -> None:
    """The tags the tracker suggests for a record, each with its evidence.

    \b
    Suggestions are kept apart from your own tags. Accept or reject one by naming it as
    `list` shows it, "facet: value":
      tracker suggestions accept 31452111 "adverse effects: nausea or vomiting"
    `tracker undo` reverses your latest accept or reject.
    """


@suggestions_group.command("list")
@click.argument("pmid")
@data_dir_option
def suggestions_list(pmid: str, data_dir: Path | None) -> None:
    """List a record's suggested tags with their status and evidence."""
    store, _ = open_store(data_dir)
    (target,) = screening.check_pmids(store, screening.pmids_of([pmid]))
    state = suggestions.review_state(store)
    mine = state[(state["record_id"] == target).to_numpy(bool)]
    if mine.empty:
        click.echo(f"No suggested tags for PMID {target}.")
        return
    for row in mine.to_dict(orient="records"):
        said = f" ({row['judgements']})" if row["judgements"] else ""
        click.echo(
            f"{suggestions.label(str(row['facet']))}: {row['value']}  [{row['status']}{said}]"
            f'  <- {row["field"]} "{row["span"]}"'
        )


@suggestions_group.command("accept")
@click.argument("pmid")
@click.argument("tag")
@reviewer_option
@data_dir_option
def suggestions_accept(pmid: str, tag: str, reviewer: str | None, data_dir: Path | None) -> None:
    """Agree with a suggested TAG ("facet: value") on a record."""
    _judge(suggestions.accept, "accepted", pmid, tag, reviewer, data_dir)


@suggestions_group.command("reject")
@click.argument("pmid")
@click.argument("tag")
@reviewer_option
@data_dir_option
def suggestions_reject(pmid: str, tag: str, reviewer: str | None, data_dir: Path | None) -> None:
    """Mark a suggested TAG ("facet: value") as wrong: it leaves views and exports."""
    _judge(suggestions.reject, "rejected", pmid, tag, reviewer, data_dir)


def _judge(
    judge: suggestions.Judge,
    verb: str,
    pmid: str,
    tag: str,
    reviewer: str | None,
    data_dir: Path | None,
) -> None:
    store, who = open_store(data_dir, reviewer)
    (target,) = screening.pmids_of([pmid])
    facet, value = suggestions.parse_tag(tag)
    judge(store, target, facet, value, reviewer=who)
    click.echo(f"PMID {target}: {suggestions.label(suggestions.facet_key(facet))}: {value}"
               f" {verb} by {who}.")  # fmt: skip


COMMANDS = (evidence_command, suggestions_group)
