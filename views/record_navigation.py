"""Which record the record pane shows: the row picked in the table, a PMID typed in the box,
or the next unscreened one (by the button, or after a decision when the box is ticked).

The one owner of the navigation state: every key below is read and written here only; the
other components get the record to show as a return value and move on through
:func:`move_on`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
TO_TOP = "to_top_ranked"
"""A decision was saved in relevance order: show the top-ranked record once the model has
learnt from it (the next run, whose ranking includes the decision)."""


@dataclass(frozen=True)
class Listing:
    """The table's PMIDs in its order, and what "next unscreened" needs to walk them;
    ``ranked``: the reviewer's unscreened PMIDs, most likely relevant first, and whether the
    table is in that order."""

    pmids: list[int]
    state: pd.DataFrame
    own: dict[int, str] | None
    ranked: list[int] = field(default_factory=list)
    by_relevance: bool = False


def record_navigation(listing: Listing, picked: int | None) -> int | None:
    """The box and the button; returns the PMID to show. ``picked``: the table's picked row."""
    session = st.session_state
    if session.pop(TO_TOP, False):
        _show_top(listing, None)
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
    next_col, relevant_col = st.columns(2)
    if next_col.button("Next unscreened", key="next", shortcut="n"):
        move_on(listing, in_order=True)
    if relevant_col.button("Next most relevant", key="next_relevant", shortcut="j"):
        _show_top(listing, session.get(CURRENT))
    current = session.get(CURRENT)
    return None if current is None else int(current)


def advance_box() -> bool:
    """Whether a decision moves on to the next unscreened record (ticked at first)."""
    return st.checkbox("After a decision, go to the next unscreened record", True, key=ADVANCE)


def move_on(listing: Listing, *, in_order: bool = False) -> None:
    """Show the next unscreened record after the current one in the listing; in relevance
    order (unless ``in_order``), the top-ranked one after the model has learnt the decision."""
    if listing.by_relevance and not in_order:
        st.session_state[TO_TOP] = True
        return
    following = tracker.dashboard.next_unscreened(
        listing.pmids, listing.state, st.session_state.get(CURRENT), listing.own
    )
    if following is None:
        notice("No unscreened record left in this list.")
    _show(following)


def _show_top(listing: Listing, current: int | None) -> None:
    top = tracker.dashboard.next_ranked(listing.ranked, listing.pmids, current)
    if top is None:
        notice("No record left to screen in this list.")
    _show(top)


def _show(pmid: int | None) -> None:
    st.session_state[CURRENT] = pmid
    st.session_state[CLEAR_GOTO] = True
