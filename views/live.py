"""Live team state: panels that follow everyone's decisions without a reload.

A live panel is a fragment Streamlit reruns on its own every :data:`EVERY` seconds. Each run
reads the store's stamp again (:func:`library_cache.refreshed`: file stats on a laptop, one
query on a server) and draws from the cached loaders, which recompute only when a part of the
stamp they follow has changed. So a quiet tick costs a stamp read and a few cache look-ups,
and a partner's decision costs one refold of the events for the panels on screen; the rest of
the page (the table, the ranking, the record) is not rerun until this person acts.

A panel draws no button or form: a click on a button inside one was lost more often than on
one just below it (views/conflicts.py), so the actions that go with a panel are drawn there.

What a panel shows is what it showed before, only fresher: the panels are the ones that
already derive from what this person may see (their own decisions, the conflicts their role
may see, team-wide counts), so a partner's decision on a record still blind to them never
appears.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import tracker
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import reported

EVERY = tracker.Settings.from_env().live_seconds
"""Seconds between two looks at the store (TRACKER_LIVE_SECONDS, read when the app starts; 3
by default): a partner's decision shows within about this. 0 turns the looks off, and the
panels are then redrawn when the person acts, as every other part of the page is."""


@st.fragment(run_every=EVERY or None)
def panel(here: Snapshot, draw: Callable[[Snapshot], None]) -> None:
    """``draw`` with the store as it is now, again every :data:`EVERY` seconds.

    A change to the team reruns the whole page instead, so an account taken off it meets the
    sign-in gate at once rather than on its next click.
    """
    with reported("The live view could not be refreshed"):
        now = cache.refreshed(here)
        team = tracker.team.TABLE
        if now.stamp.side_table(team) != here.stamp.side_table(team):
            st.rerun()
        draw(now)
