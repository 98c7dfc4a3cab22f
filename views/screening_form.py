"""Screening one record: the decision buttons with their keyboard shortcuts, the reason and
note, the reviewer's own tags and undo. Note and tag boxes are kept per record."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

import tracker
from views import library_cache as cache
from views import record_navigation as navigation
from views.library_cache import Snapshot
from views.messages import flash, reported
from views.sidebar import Choices

Pressed = Literal["include", "exclude", "maybe", "note"]
SHORTCUTS: tuple[tuple[Pressed, str], ...] = (("include", "i"), ("exclude", "e"), ("maybe", "m"))


def screen_buttons() -> Pressed | None:
    """Include, Exclude, Maybe and Save note in a row; returns the one pressed, if any."""
    st.caption(
        "Keys: i include · e exclude (with the reason above) · m maybe · n next unscreened"
        " · j next most relevant"
    )
    buttons = st.columns(4)
    pressed: Pressed | None = None
    for column, (decision, key) in zip(buttons, SHORTCUTS, strict=False):
        if column.button(decision.capitalize(), key=f"decide_{decision}", shortcut=key):
            pressed = decision
    if buttons[3].button("Save note", key="save_note"):
        pressed = "note"
    return pressed


def screen_form(
    here: Snapshot,
    pmid: int,
    state: pd.DataFrame,
    choices: Choices,
    listing: navigation.Listing,
) -> None:
    """Decision, tags and notes for one record, blind to the others' calls until one's own."""
    reviewer = choices.reviewer
    mine = (listing.own or {}).get(pmid, "unscreened")
    shared = tracker.dashboard.shared_view(state, pmid, reviewer=reviewer, own_decision=mine)
    st.text(f"Your decision at {choices.stage}: {mine}" if reviewer else
            "Set your name in the sidebar.")  # fmt: skip
    if shared is not None:
        tags = f" · tags: {', '.join(shared['tags'])}" if shared["tags"] else ""
        st.text(f"Current decision: {shared['decision']}{tags}")
        for text in shared["notes"]:
            st.text(f"Note: {text}")
    reason = st.selectbox(
        "Reason (for exclude)", ["", *cache.exclusion_reasons(here)], key="reason"
    )
    note = st.text_input("Note", key=f"note_{pmid}")
    advance = navigation.advance_box()
    pressed = screen_buttons()
    if pressed == "note" and note.strip():
        with reported("The note was not saved"):
            tracker.screening.note(here.store, pmid, note, reviewer=reviewer)
            flash(f"Note saved on PMID {pmid}.")
    elif pressed in ("include", "exclude", "maybe"):
        decide(here, pmid, pressed, choices, reason=reason, note=note,
               then=listing if advance else None)  # fmt: skip
    tag_controls(here, pmid, shared["tags"] if shared is not None else [], reviewer)


def decide(
    here: Snapshot,
    pmid: int,
    decision: str,
    choices: Choices,
    *,
    reason: str,
    note: str,
    then: navigation.Listing | None,
) -> None:
    """Save the decision, then move on through ``then`` (None: stay on this record)."""
    with reported("The decision was not saved"):
        tracker.screening.decide(
            here.store,
            [pmid],
            decision=decision,
            reviewer=choices.reviewer,
            stage=choices.stage,
            reason=reason if decision == "exclude" else "",
            note=note,
        )
        if then is not None:
            navigation.move_on(then)
        flash(f"PMID {pmid}: {decision} saved.")


def tag_controls(here: Snapshot, pmid: int, tags: list[str], reviewer: str) -> None:
    tag_col, undo_col = st.columns([3, 1])
    new_tag = tag_col.text_input("Add a tag", key=f"tag_{pmid}")
    if tag_col.button("Add tag", key="add_tag") and new_tag.strip():
        with reported("The tag was not added"):
            tracker.screening.tag(here.store, [pmid], reviewer=reviewer, add=new_tag)
            flash(f"Tag added to PMID {pmid}.")
    for label in tags:
        if st.button(f"Remove tag: {label}", key=f"rm_{label}"):
            with reported("The tag was not removed"):
                tracker.screening.tag(here.store, [pmid], reviewer=reviewer, remove=label)
                flash(f"Tag removed from PMID {pmid}.")
    if undo_col.button("Undo", key="undo", help="Take back your last decision, tag or note"):
        with reported("Nothing was undone"):
            done = tracker.screening.undo(here.store, reviewer=reviewer)
            flash(done or "Nothing of yours to undo.")
