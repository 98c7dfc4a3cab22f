"""Who works in this session: in a review served for a team, the signed-in account; on a
laptop, whoever types a name in the sidebar.

The team mode is on exactly when Streamlit's secrets have an ``[auth]`` section, the one
``st.login`` reads. Then :func:`gate` runs before any page is drawn: no account, no page (a
sign-in page instead); an account not on the review's team gets a page saying so; a member is
returned, and their account signs everything they do. Streamlit keeps the account in a signed
cookie set by its own OpenID Connect callback, so nothing the browser sends in a widget can
change who signs.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import tracker
from views import library_cache as cache
from views.library_cache import Snapshot
from views.messages import worded

SIGN_IN, SIGN_OUT = "sign_in", "sign_out"
"""The buttons' keys."""


def served_for_a_team() -> bool:
    """Whether sign-in is configured (an ``[auth]`` section in the secrets)."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def gate(here: Snapshot) -> tracker.team.Member | None:
    """None on a laptop; in team mode the signed-in member, or the run stops on a sign-in or
    refusal page."""
    if not served_for_a_team():
        return None
    user = st.user.to_dict()
    if not user.get("is_logged_in"):
        sign_in_page()
    try:
        email = tracker.team.account(str(user.get("email") or ""))
        member = tracker.team.admit(cache.team(here), email)
    except tracker.TeamError as exc:
        refusal_page(exc)
    if not cache.team(here):
        st.warning(
            "This review is open: every account the identity provider signs in may work in it, "
            "as a lead. A lead closes it by adding the team's members."
        )
    return member


def sign_in_page() -> None:
    st.info("This review is for its team only: sign in with your account to work in it.")
    if st.button("Sign in", key=SIGN_IN, type="primary"):
        st.login()
    st.stop()


def refusal_page(exc: tracker.TrackerError) -> None:
    st.error(worded(exc))
    sign_out_button(st.container())
    st.stop()


def account_box(member: tracker.team.Member) -> None:
    """The sidebar's line naming who signs, with the way out."""
    st.sidebar.text(f"Signed in as {member.account} ({member.role})")
    sign_out_button(st.sidebar)


def sign_out_button(where: DeltaGenerator) -> None:
    if where.button("Sign out", key=SIGN_OUT):
        st.logout()
