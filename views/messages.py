"""What the app tells the reader: tracker's errors turned into one kind of message, and the
success line that survives the rerun after an action.

Owns the session keys ``FLASH`` and ``NOTICE``. Messages that quote what someone typed are
escaped first (``dashboard.escape_markdown``), so nothing typed can change the page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import streamlit as st

import tracker

FLASH = "flash"
"""A success line, shown at the top of the next run."""
NOTICE = "flash_here"
"""A line for the browse tab, shown above its table in the next run."""


@contextlib.contextmanager
def reported(what: str) -> Iterator[None]:
    """The one place where the app turns tracker's errors into a readable message."""
    try:
        yield
    except tracker.NCBIUnavailableError as exc:
        st.error(
            f"{what}: {tracker.dashboard.escape_markdown(str(exc))}\n\nPubMed may be unreachable "
            "from this machine: check the network, or import a PubMed XML file below."
        )
    except tracker.TrackerError as exc:
        st.error(f"{what}: {tracker.dashboard.escape_markdown(str(exc))}")


def flash(message: str) -> NoReturn:
    """Rerun the page (it shows what was just written) and say ``message`` at its top."""
    st.session_state[FLASH] = message
    st.rerun()


def show_flash() -> None:
    if FLASH in st.session_state:
        st.success(tracker.dashboard.escape_markdown(st.session_state.pop(FLASH)))


def notice(message: str) -> None:
    """Say ``message`` above the table in the next run."""
    st.session_state[NOTICE] = message


def show_notice() -> None:
    if NOTICE in st.session_state:
        st.info(st.session_state.pop(NOTICE))
