"""``tracker vocabulary``: which evidence-tag vocabulary is in use, a copy to edit, a check."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.options import data_dir_option
from tracker.cli.options import settings as cli_settings
from tracker.export import save
from tracker.store import Store
from tracker.vocabulary import (
    DEFAULT_PATH,
    Value,
    load_file,
    load_vocabulary,
    vocabulary_bytes,
    write_default,
)


@click.command("vocabulary")
@click.option(
    "--init", is_flag=True, help="Copy the default to <data dir>/vocabulary.toml for editing."
)
@click.option("--check", is_flag=True, help="Check the vocabulary in use; exit 1 if it is wrong.")
@click.option(
    "--save",
    "save_to",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the vocabulary in use to this file, to edit it.",
)
@click.option(
    "--load",
    "load_from",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Check this file and make it the library's own vocabulary.",
)
@data_dir_option
def vocabulary_command(init: bool, check: bool, save_to: Path | None, load_from: Path | None,
                       data_dir: Path | None) -> None:  # fmt: skip
    """Show the evidence-tag vocabulary in use: its file, facets and values.

    A library's own <data dir>/vocabulary.toml wins over the packaged default. Make one with
    --init, edit it (its comments say how to add a synonym), then run --check. A review on a
    database server has no file to edit: --save a copy, edit it, then --load it.
    """
    if sum((init, check, save_to is not None, load_from is not None)) > 1:
        raise click.UsageError("give one of --init, --check, --save or --load")
    settings = cli_settings(data_dir=data_dir)
    folder = Store.open(settings)
    if save_to is not None:
        save(vocabulary_bytes(folder), save_to)
        click.echo(f"Wrote {save_to}: edit it, then load it with `tracker vocabulary --load`.")
        return
    if load_from is not None:
        where = load_file(folder, load_from)
        click.echo(f"Checked {load_from} and made it the library's own vocabulary ({where}).")
        return
    if init:
        path = write_default(folder)
        if settings.database_url:
            click.echo(f"Stored the default as {path}: --save it to a file, edit, then --load.")
        else:
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
