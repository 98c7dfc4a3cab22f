"""The review team: which accounts may work in a review served for a team, and who leads it.

A review may keep an allow-list of accounts (the email address each person signs in with), each
a :class:`Role`: a *reviewer* screens (decides, tags, notes, undoes, judges duplicates); a
*lead* does that too, and also resolves conflicts and brings records in (fetches, imports).

**An empty list means an open review**: every account is a lead, as on a laptop where nobody
signs in, because there is no one yet who could say otherwise, and a new review must be able to
fetch its first records. The first account added must be a lead; from then on only members may
act, and the team is never left without a lead (:class:`~tracker.errors.LastLead`).

The list is kept in the store as the side table ``team``, one row per change (account, role or
"" for a removal, who made the change, when), never rewritten: the table is the history of who
granted what, and the current team is each account's latest row. A side table, not the event
log: the log is the review's own record (exported, undone by a reviewer's Undo, folded into
every screening view), while membership is about access, changes rarely, and changing it must
not refold the screening state. Only :meth:`Store.read_side_table` and
:meth:`Store.write_side_table` under :meth:`Store.locked` are used, so every backend keeps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd
import pyarrow as pa

from tracker.errors import AccountInvalid, LastLead, NotAMember, RoleRequired
from tracker.store import Store, now_iso

TABLE = "team"
"""The side table holding the history of the team."""
SCHEMA = pa.schema(
    [("account", pa.string()), ("role", pa.string()), ("by", pa.string()), ("at", pa.string())]
)
REMOVED = ""
"""The role of a row that takes an account off the team."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class Role(StrEnum):
    """What a member may do: a lead may do everything a reviewer may."""

    REVIEWER = "reviewer"
    LEAD = "lead"


@dataclass(frozen=True, slots=True)
class Member:
    """One account on the team (or any account, as a lead, while the review is open)."""

    account: str
    role: Role

    def may(self, role: Role) -> bool:
        """Whether this member may act as ``role``."""
        return self.role == Role.LEAD or role == Role.REVIEWER


def account(email: str) -> str:
    """The account an address names, as the team and the log spell it: trimmed, lower case
    (identity providers differ in the case they give, and ``Ana@x.org`` is ``ana@x.org``)."""
    text = (email or "").strip()
    if not _EMAIL.fullmatch(text):
        raise AccountInvalid(text)
    return text.lower()


# -- reading ----------------------------------------------------------------------------------


def history(store: Store) -> pd.DataFrame:
    """Every change to the team, oldest first: account, role ("" for a removal), by, at."""
    table = store.read_side_table(TABLE)
    frame: pd.DataFrame = (table if table is not None else SCHEMA.empty_table()).to_pandas()
    return frame


def members(store: Store) -> list[Member]:
    """The team now, by account; empty for an open review."""
    return current(history(store))


def current(changes: pd.DataFrame) -> list[Member]:
    """The team a history of changes (:func:`history`) leaves."""
    latest = changes.drop_duplicates("account", keep="last").sort_values("account")
    return [
        Member(str(name), Role(role))
        for name, role in zip(latest["account"], latest["role"], strict=True)
        if role != REMOVED
    ]


def admit(team: list[Member], who: str) -> Member:
    """The member ``who`` (an address, in any case) is on ``team``; with an empty team, a
    lead. Raises :class:`~tracker.errors.NotAMember` for anyone else."""
    if not team:
        return Member(who, Role.LEAD)
    wanted = who.strip().lower()
    for member in team:
        if member.account == wanted:
            return member
    raise NotAMember(who)


def require(store: Store, who: str, role: Role = Role.REVIEWER) -> Member:
    """The member ``who`` if they may act as ``role``; else NotAMember or RoleRequired.

    Anyone may do anything in an open review, so a laptop review without a team never sees
    these errors, whatever name signs its decisions.
    """
    member = admit(members(store), who)
    if not member.may(role):
        raise RoleRequired(role.value, member.account)
    return member


def conflicts_seen_by(conflicts: pd.DataFrame, member: Member) -> pd.DataFrame:
    """The open conflicts (:func:`tracker.screening.conflicts`) ``member`` may see: every one
    for a lead, who settles them; for a reviewer, those on records they decided themselves,
    since any other would show a partner's decision on a record still blind to them."""
    if member.role == Role.LEAD:
        return conflicts
    mine = [member.account in names for names in conflicts["reviewers"]]
    return conflicts[mine]


# -- changing the team: one row appended per change, under the store's lock -------------------


def add(store: Store, email: str, *, role: Role = Role.REVIEWER, by: str) -> Member:
    """Put an account on the team with ``role`` (or change its role); returns the member."""
    member = Member(account(email), Role(role))
    with store.locked():
        changes = history(store)
        team = current(changes)
        if not team and member.role != Role.LEAD:
            raise LastLead(member.account)  # the first member closes the review: a lead
        _check_leads_remain(team, member.account, member.role.value)
        _append(store, changes, member.account, member.role.value, by)
    return member


def remove(store: Store, email: str, *, by: str) -> bool:
    """Take an account off the team; False if it was not on it. Removing the last member
    opens the review again."""
    name = account(email)
    with store.locked():
        changes = history(store)
        team = current(changes)
        if name not in {m.account for m in team}:
            return False
        _check_leads_remain(team, name, REMOVED)
        _append(store, changes, name, REMOVED, by)
    return True


def _check_leads_remain(team: list[Member], name: str, role: str) -> None:
    """Refuse a change that leaves members but no lead among them."""
    after = {m.account: m.role.value for m in team} | {name: role}
    remaining = [r for r in after.values() if r != REMOVED]
    if remaining and Role.LEAD.value not in remaining:
        raise LastLead(name)


def _append(store: Store, changes: pd.DataFrame, name: str, role: str, by: str) -> None:
    row = pd.DataFrame([{"account": name, "role": role, "by": by.strip(), "at": now_iso()}])
    frame = pd.concat([changes, row], ignore_index=True) if len(changes) else row
    store.write_side_table(TABLE, pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False))
