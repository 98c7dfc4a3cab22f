"""``tracker members``: the review's team, the accounts that may sign in to a served review.

Whoever runs these commands can already open the store, so they act as its operator: they may
change the team whatever its roles (this is how a server gets its first lead). Each change is
kept in the team's history with the name given by ``--by``.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from tracker import team
from tracker.cli.options import data_dir_option, open_store

ROLES = [r.value for r in team.Role]


def by_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--by",
        default=None,
        help="Who makes the change, for the team's history "
        "[env: TRACKER_REVIEWER; default: your login name].",
    )(func)


def _changer(by: str | None, reviewer: str) -> str:
    return (by or reviewer or "").strip() or f"{getpass.getuser()} (command line)"


@click.group("members")
def members_group() -> None:
    """The review's team: who may sign in to the served app, as reviewer or lead.

    With no members the review is open: every signed-in account may act, as a lead. The first
    member added must be a lead; from then on only members sign in.
    """


@members_group.command("list")
@click.option("--history", is_flag=True, help="Every change ever made, with who made it and when.")
@data_dir_option
def members_list(history: bool, data_dir: Path | None) -> None:
    """Show the team (or its history)."""
    store, _ = open_store(data_dir)
    if history:
        changes = team.history(store)
        for row in changes.itertuples(index=False):
            what = f"made {row.role}" if row.role != team.REMOVED else "removed"
            click.echo(f"{row.at}  {row.account} {what} by {row.by}")
        if changes.empty:
            click.echo("No change to the team yet.")
        return
    now = team.members(store)
    if not now:
        click.echo("No members: the review is open to every signed-in account, each as a lead.")
    for member in now:
        click.echo(f"{member.account}\t{member.role}")


@members_group.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default=team.Role.REVIEWER.value,
    show_default=True,
    help="A lead also resolves conflicts and fetches or imports.",
)
@by_option
@data_dir_option
def members_add(email: str, role: str, by: str | None, data_dir: Path | None) -> None:
    """Add an account (the email it signs in with) to the team, or change its role."""
    store, reviewer = open_store(data_dir)
    member = team.add(store, email, role=team.Role(role), by=_changer(by, reviewer))
    click.echo(f"{member.account} is a {member.role} of the review.")


@members_group.command("remove")
@click.argument("email")
@by_option
@data_dir_option
def members_remove(email: str, by: str | None, data_dir: Path | None) -> None:
    """Take an account off the team (its past decisions stay, signed by it)."""
    store, reviewer = open_store(data_dir)
    if not team.remove(store, email, by=_changer(by, reviewer)):
        click.echo(f"{team.account(email)} was not on the team; nothing changed.")
        return
    left = team.members(store)
    click.echo(f"{team.account(email)} removed."
               + ("" if left else " No members are left: the review is open again."))  # fmt: skip


COMMANDS = (members_group,)
