"""The README documents every command, and the help of every command works."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracker.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "tracker") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
    return names


@pytest.mark.parametrize("command", _commands(main))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert command in README, f"document `{command}` in README.md"


@pytest.mark.parametrize("command", _commands(main))
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [*command.split()[1:], "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_the_readme_opens_with_the_two_setup_commands() -> None:
    head = README[:1200]
    assert "make app" in head and "make test" in head


def test_the_readme_shows_the_default_query_term_for_term() -> None:
    from tracker.fetch import DEFAULT_QUERY

    shown = " ".join(README.split("### The default query", 1)[1].split("```text", 1)[1]
                     .split("```", 1)[0].split())  # fmt: skip
    assert shown == " ".join(DEFAULT_QUERY.split())
