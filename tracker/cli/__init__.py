"""The ``tracker`` command line: a thin shell over the library.

Each command lives in a module named after what it works on; this module only gathers them and
translates every :class:`~tracker.errors.TrackerError` into ``Error: …`` on stderr and exit
code 1, in one place, so a user never sees a traceback for a mistake of theirs.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from tracker.cli.remedies import worded
from tracker.errors import TrackerError
from tracker.version import __version__


class TrackerGroup(click.Group):
    """A click group whose commands' TrackerErrors end as one clear line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            click.echo(f"Error: {worded(exc)}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted: nothing was changed by the unfinished step.", err=True)
            ctx.exit(130)


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracker")
def main() -> None:
    """Track a living review of esketamine/ketamine for chronic pain.

    Fetch from PubMed, import PubMed XML, screen and tag studies, and export bibliographies.
    Settings come from flags or the environment: TRACKER_DATA_DIR, NCBI_EMAIL, NCBI_API_KEY.
    """


COMMAND_MODULES = (
    "library",
    "fetching",
    "screening",
    "evidence",
    "citations",
    "vocabulary",
    "ranking",
    "migration",
    "team",
)
"""Each module in tracker/cli/ lists its click commands in a module-level ``COMMANDS``."""


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"tracker.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tracker.cli.{name}":
                raise
            continue
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register()
