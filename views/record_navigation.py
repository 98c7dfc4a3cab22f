"""Which record the record pane shows: the row picked in the table, a PMID typed in the box,
or the next unscreened one (by the button, or after a decision when the box is ticked).

The one owner of the navigation state: every key below is read and written here only; the
other components get the record to show as a return value and move on through
:func:`move_on`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

import tracker
from views.messages import notice

CURRENT = "current"
"""The PMID the record pane shows (None: none)."""
PICKED = "last_pick"
"""The table row picked last run: a selection that stays does not pull the pane back."""
GOTO = "goto"
"""The "Go to PMID" box."""
TYPED = "last_goto"
"""What the box held last run: a box left as it was does not pull the pane back."""
CLEAR_GOTO = "clear_goto"
"""The record changed another way: empty the box in the next run."""
ADVANCE = "advance"
"""The "after a decision, go to the next unscreened record" box."""


@dataclass(frozen=True)
class Listing:
    """The table's PMIDs in its order, and what "next unscreened" needs to walk them."""

    pmids: list[int]
    state: pd.DataFrame
    own: dict[int, str] | None


def record_navigation(listing: Listing, picked: int | None) -> int | None:
    """The box and the button; returns the PMID to show. ``picked``: the table's picked row."""
    session = st.session_state
    if picked is not None and picked != session.get(PICKED):
        _show(picked)
    session[PICKED] = picked
    if session.pop(CLEAR_GOTO, False):
        session[GOTO] = session[TYPED] = ""
    typed = st.text_input("Go to PMID", key=GOTO).strip()
    if typed != session.get(TYPED, ""):
        session[TYPED] = typed
        if typed.isdigit():
            session[CURRENT] = int(typed)
    if st.button("Next unscreened", key="next", shortcut="n"):
        move_on(listing)
    current = session.get(CURRENT)
    return None if current is None else int(current)


def advance_box() -> bool:
    """Whether a decision moves on to the next unscreened record (ticked at first)."""
    return st.checkbox("After a decision, go to the next unscreened record", True, key=ADVANCE)


def move_on(listing: Listing) -> None:
    """Show the next unscreened record after the current one in the listing."""
    following = tracker.dashboard.next_unscreened(
        listing.pmids, listing.state, st.session_state.get(CURRENT), listing.own
    )
    if following is None:
        notice("No unscreened record left in this list.")
    _show(following)


def _show(pmid: int | None) -> None:
    st.session_state[CURRENT] = pmid
    st.session_state[CLEAR_GOTO] = True
