"""Commands for prioritised screening: the ranked list, the progress and stopping verdict, and
the simulation that measures both on a fully labelled dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from tracker import labelled_dataset, ranking, relevance, screening_progress, simulation
from tracker import simulation_report as report
from tracker.cli.options import data_dir_option, emit, open_store, out_option, reviewer_option
from tracker.records import Stage
from tracker.stopping import StoppingRule

STAGES = [s.value for s in Stage]


def _stage(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--stage", type=click.Choice(STAGES), default=Stage.TITLE_ABSTRACT.value, show_default=True
    )(func)


def _rule(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "--target-recall",
        type=float,
        default=0.95,
        show_default=True,
        help="Recall the stopping rule guarantees (0–1).",
    )(func)
    return click.option(
        "--confidence",
        type=float,
        default=0.95,
        show_default=True,
        help="Confidence of that guarantee (0–1).",
    )(func)


@click.command("rank")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show the first N only.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
@click.option("--new", "only_new", is_flag=True, help="Only records new since the last run.")
@_stage
@reviewer_option
@out_option
@data_dir_option
def rank_command(
    limit: int | None,
    fmt: str,
    only_new: bool,
    stage: str,
    reviewer: str | None,
    out: Path | None,
    data_dir: Path | None,
) -> None:
    """The records you have not screened yet, most likely relevant first, with scores.

    The model learns from the decisions you may see (in dual screening, your own); before
    your first include and exclude, records are ranked by similarity to the review's query.
    """
    store, who = open_store(data_dir, reviewer)
    among = ranking.new_since_last_run(store) if only_new else None
    ranked = ranking.rank(store, reviewer=who, stage=stage, among=among)
    frame = ranked.records.head(limit) if limit else ranked.records
    if fmt == "csv":
        emit(frame.to_csv(index=False, float_format="%.6f").encode("utf-8"), out)
    elif fmt == "json":
        payload = {
            "reviewer": who,
            "stage": stage,
            "model": ranked.model.description,
            "records": json.loads(frame.to_json(orient="records", double_precision=6)),
        }
        emit((json.dumps(payload, indent=2) + "\n").encode("utf-8"), out)
    else:
        click.echo(ranked.model.description)
        _print(frame, title=f"Unscreened at {stage}, most likely relevant first")


@click.command("progress")
@click.option("--record", is_flag=True, help="Record this stopping check in the event log.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_stage
@_rule
@reviewer_option
@data_dir_option
def progress_command(
    record: bool,
    as_json: bool,
    stage: str,
    target_recall: float,
    confidence: float,
    reviewer: str | None,
    data_dir: Path | None,
) -> None:
    """Screened / total, relevant found, the model's state and the stopping rule's verdict."""
    store, who = open_store(data_dir, reviewer)
    rule = StoppingRule(target_recall=target_recall, confidence=confidence)
    state = screening_progress.progress(store, reviewer=who, stage=stage, rule=rule)
    if record:
        if not who:
            raise click.UsageError("Say who consults the rule: pass --reviewer NAME.")
        screening_progress.record_stopping_check(store, state.verdict, reviewer=who, stage=stage)
    if as_json:
        payload = {
            "reviewer": who,
            "stage": stage,
            "total": state.total,
            "screened": state.screened,
            "relevant_found": state.relevant_found,
            "model": state.model.description,
            "verdict": json.loads(state.verdict.to_json()),
            "sentence": state.sentence,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(
        f"Screened {state.screened:,} of {state.total:,} records at {stage}; "
        f"{state.relevant_found:,} relevant found."
    )
    click.echo(state.model.description)
    click.echo(state.sentence)
    if record:
        click.echo("Stopping check recorded in the event log.")


@click.command("simulate")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Number of runs, seeds 1..N.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the curves, plots and summary.json.",
)
@_rule
def simulate_command(
    dataset: Path, seeds: int, out: Path | None, target_recall: float, confidence: float
) -> None:
    """Replay a fully labelled dataset in the tracker's order and measure it.

    DATASET is a CSV with title, abstract and label_included (ASReview/SYNERGY format) or a
    data directory whose title/abstract decisions are complete.
    """
    data = labelled_dataset.load(dataset)
    rule = StoppingRule(target_recall=target_recall, confidence=confidence)
    features = relevance.build_features(data.records)
    runs = []
    with Progress(console=Console(stderr=True), transient=True) as bar:
        for seed in range(1, seeds + 1):
            task = bar.add_task(f"seed {seed}: relevant found", total=data.relevant)

            def advance(found: int, _total: int, task: TaskID = task) -> None:
                bar.update(task, completed=found)

            runs.append(
                simulation.simulate(
                    data,
                    seed=seed,
                    rule=rule,
                    features=features,
                    on_step=advance,
                )
            )
    _print(
        _summary_frame(report.summary(data, runs)),
        title=f"{data.name}: {len(data.labels):,} records, {data.relevant:,} relevant",
    )
    if out is not None:
        report.write(out, data, runs)
        click.echo(f"Curves, plots and summary.json written to {out}.", err=True)


def _summary_frame(summary: dict[str, object]) -> pd.DataFrame:
    runs = summary["runs"]
    assert isinstance(runs, list)
    return pd.DataFrame(
        [
            {
                "seed": r["seed"],
                "WSS@95": f"{r['wss95']:.3f}",
                "recall@10%": f"{r['recall_at_10']:.3f}",
                "recall@25%": f"{r['recall_at_25']:.3f}",
                "screened to 95%": r["screened_to_95"],
                "rule stopped at": r["stopped_at"] or "end",
                "recall at stop": "1.000"
                if r["recall_at_stop"] is None
                else f"{r['recall_at_stop']:.3f}",
            }
            for r in runs
        ]
    )


def _print(frame: pd.DataFrame, *, title: str) -> None:
    table = Table(*(str(c) for c in frame.columns), title=title, title_justify="left")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    Console(width=120).print(table)


def _cell(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


COMMANDS = (rank_command, progress_command, simulate_command)
