"""What the app tells the reader: tracker's errors turned into one kind of message, and the
success line that survives the rerun after an action.

Owns the session keys ``FLASH``, ``FLASH_WARNINGS`` and ``NOTICE``. Messages that quote what
someone typed are escaped first (``dashboard.escape_markdown``), so nothing typed can change
the page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

import streamlit as st

import tracker

FLASH = "flash"
"""A success line, shown at the top of the next run."""
FLASH_WARNINGS = "flash_warnings"
"""What the action that flashed warned of (a file's quirks), shown under its success line."""
NOTICE = "flash_here"
"""A line for the browse tab, shown above its table in the next run."""


REMEDIES: dict[type[tracker.TrackerError], Callable[[Any], str]] = {
    tracker.ReviewerRequired: lambda e: "Type your name in *Reviewer* in the sidebar first.",
    tracker.ReasonRequired: lambda e: (
        "Choose a reason in *Reason (for exclude)* first, then exclude again."
    ),
    tracker.NoteRequired: lambda e: (
        f"The reason {_quoted(e.reason)} needs a note saying what it is: write it in *Note*."
    ),
    tracker.EmailRequired: lambda e: (
        f"{e.service} asks for a contact email with every request: type yours above."
    ),
    tracker.QueryRequired: lambda e: "The query is empty: type one in *PubMed query*.",
    tracker.TagRequired: lambda e: "Type the tag in *Add a tag* first.",
    tracker.NotAMember: lambda e: (
        f"You are signed in as {_plain(e.account)}, and this account is not on the review's "
        "team. Ask a lead of the review to add it, or sign out and sign in with another one."
    ),
    tracker.RoleRequired: lambda e: (
        f"Only a {e.role} of the review may do this, and you ({_plain(e.account)}) are not one:"
        " ask a lead."
    ),
    tracker.AccountInvalid: lambda e: (
        "Your identity provider gave no email address for this account, and the team knows its "
        "members by their addresses: sign out and sign in with another account, or ask whoever "
        "runs the server to have the provider send the email claim."
    ),
}
"""How the app words the errors its widgets fix; the library's own words name no widget."""
Remedies = Mapping[type[tracker.TrackerError], Callable[[Any], str]]


def worded(exc: tracker.TrackerError, remedies: Remedies | None = None) -> str:
    """The message a researcher reads, in the app's terms, safe to show as Markdown.

    ``remedies`` word errors that a form fixes in its own fields (a reviewer name typed in the
    import form, not in the sidebar); they win over :data:`REMEDIES`.
    """
    for kind in type(exc).__mro__:
        wording = (remedies or {}).get(kind) or REMEDIES.get(kind)
        if wording is not None:
            return wording(exc)
    return tracker.dashboard.escape_markdown(str(exc))


def _quoted(text: str) -> str:
    return tracker.dashboard.escape_markdown(repr(text))


def _plain(text: str) -> str:
    return tracker.dashboard.escape_markdown(text)


@contextlib.contextmanager
def reported(what: str, *, remedies: Remedies | None = None) -> Iterator[None]:
    """The one place where the app turns tracker's errors into a readable message."""
    try:
        yield
    except tracker.NCBIUnavailableError as exc:
        st.error(
            f"{what}: {worded(exc, remedies)}\n\nPubMed may be unreachable "
            "from this machine: check the network, or import a PubMed XML file below."
        )
    except tracker.TrackerError as exc:
        st.error(f"{what}: {worded(exc, remedies)}")


def flash(message: str, *, warnings: Iterable[str] = ()) -> NoReturn:
    """Rerun the page (it shows what was just written) and say ``message`` at its top, with
    ``warnings`` under it: a warning drawn before the rerun would vanish with the old page."""
    st.session_state[FLASH] = message
    st.session_state[FLASH_WARNINGS] = list(warnings)
    st.rerun()


def show_flash() -> None:
    if FLASH in st.session_state:
        st.success(tracker.dashboard.escape_markdown(st.session_state.pop(FLASH)))
    for warning in st.session_state.pop(FLASH_WARNINGS, []):
        st.warning(tracker.dashboard.escape_markdown(warning))


def notice(message: str) -> None:
    """Say ``message`` above the table in the next run."""
    st.session_state[NOTICE] = message


def show_notice() -> None:
    if NOTICE in st.session_state:
        st.info(st.session_state.pop(NOTICE))
