"""Streamlit dashboard: the frame. Page settings, the sidebar and the tabs; each tab is a view
in ``views/`` and every decision is made in the tracker package.

Record text (titles, abstracts, notes) is only ever shown with ``st.text`` or inside data
tables, never through Markdown or HTML, so nothing in a record can change the page; messages
that quote what someone typed are escaped first (``dashboard.escape_markdown``). Loaded data is
cached in ``views/library_cache.py``, keyed on the store's files.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import tracker
from views import (
    browse,
    evidence,
    identity,
    intake,
    library_cache,
    messages,
    overview,
    runs,
    sidebar,
)

st.set_page_config(page_title="Ketamine review tracker", layout="wide")


def main() -> None:
    settings = tracker.Settings.from_env()
    st.title("Esketamine & ketamine for chronic pain: living review")
    messages.show_flash()
    with messages.reported("The library could not be opened"):
        here = library_cache.snapshot(settings)
        member = identity.gate(here)  # in team mode: no account, no page
        if not here.has_records:
            intake.welcome(here.store, settings, member)
            return
        lib = library_cache.library(here)
        state = library_cache.screening_state(here)
        choices = sidebar.sidebar(here, lib, settings, member)
        pages: dict[str, Callable[[], None]] = {
            "Browse & screen": lambda: browse.view(here, lib, state, choices),
            "Evidence map": lambda: evidence.view(here, lib, state, choices),
            "Overview": lambda: overview.view(here),
            "Search runs": lambda: runs.view(here.store),
            "Fetch & import": lambda: intake.view(here.store, settings, choices.reviewer,
                                                  account=choices.account, lead=choices.lead),
        }  # fmt: skip
        # Only the open tab runs: a filter change does not rebuild the charts, and the
        # overview does not re-select the table.
        tabs = st.tabs(list(pages), key="tab", on_change="rerun")
        for tab, show in zip(tabs, pages.values(), strict=True):
            if tab.open:
                with tab:
                    show()


main()
