"""``tracker vocabulary``: which evidence-tag vocabulary is in use, a copy to edit, a check."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.options import data_dir_option
from tracker.cli.options import settings as cli_settings
from tracker.store import Store
from tracker.vocabulary import DEFAULT_PATH, Value, load_vocabulary, write_default


@click.command("vocabulary")
@click.option(
    "--init", is_flag=True, help="Copy the default to <data dir>/vocabulary.toml for editing."
)
@click.option("--check", is_flag=True, help="Check the vocabulary in use; exit 1 if it is wrong.")
@data_dir_option
def vocabulary_command(init: bool, check: bool, data_dir: Path | None) -> None:
    """Show the evidence-tag vocabulary in use: its file, facets and values.

    A library's own <data dir>/vocabulary.toml wins over the packaged default. Make one with
    --init, edit it (its comments say how to add a synonym), then run --check.
    """
    if init and check:
        raise click.UsageError("give --init or --check, not both")
    folder = Store.open(cli_settings(data_dir=data_dir))
    if init:
        path = write_default(folder)
        click.echo(f"Wrote {path}: edit it, then run `tracker vocabulary --check`.")
        return
    vocabulary = load_vocabulary(folder)
    own = "the default" if vocabulary.path == DEFAULT_PATH else "this library's own copy"
    values = vocabulary.values()
    if check:
        click.echo(f"{vocabulary.path} ({own}) is valid: {len(values)} values.")
        return
    click.echo(f"Vocabulary in use: {vocabulary.path} ({own})")
    click.echo(f"Fingerprint: sha256 {vocabulary.fingerprint[:16]}")
    for facet, facet_values in vocabulary.facets:
        click.echo(f"\n{facet} ({len(facet_values)} values)")
        for value in facet_values:
            click.echo(f"  {value.name}: {_sources(value)}")


def _sources(value: Value) -> str:
    """What can justify a value, counted: "3 text patterns, 1 publication type"."""
    counts = (
        (len(value.text) + len(value.title), "text pattern"),
        (len(value.publication_types), "publication type"),
        (len(value.mesh) + len(value.chemically_induced), "MeSH term"),
    )
    parts = [f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts if n]
    if value.claimed:
        parts.append(f"leaflet: {value.claimed}")
    return ", ".join(parts)


COMMANDS = (vocabulary_command,)
