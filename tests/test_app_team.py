"""The app served for a team, through AppTest: the real app.py and store, an ``[auth]`` secrets
section (which turns sign-in on) and the identity AppTest hands the script as ``st.user``.

What the identity provider and the browser do around it (the redirects, the cookie) is
tests/test_e2e_signin.py's part; here each page is checked for who it lets in and who signs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from test_app import APP, texts
from test_app_evidence import chart_data

import tracker
from tracker import Store, screening, team
from tracker.dashboard import escape_markdown
from tracker.records import Article

pytestmark = pytest.mark.both_backends

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not a secret: a test",
    "client_id": "tracker",
    "client_secret": "tracker",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
LEAD, ANA, BEN = "lena@example.org", "ana@example.org", "ben@example.org"
PMIDS = (101, 102, 103)


@pytest.fixture
def review(data_dir: Path) -> Path:
    """Three records and a team: Lena leads, Ana and Ben review."""
    store = Store(data_dir)
    store.upsert([Article(pmid=p, title=f"Study {p} of ketamine") for p in PMIDS])
    team.add(store, LEAD, role=team.Role.LEAD, by="setup")
    for reviewer in (ANA, BEN):
        team.add(store, reviewer, by=LEAD)
    return data_dir


def served(data_dir: Path, monkeypatch: pytest.MonkeyPatch, user: dict[str, Any]) -> AppTest:
    monkeypatch.setenv("TRACKER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TRACKER_REVIEWER", BEN)  # a laptop's name: team mode must ignore it
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = user
    return at.run()


def signed_in(email: str) -> dict[str, Any]:
    return {"is_logged_in": True, "email": email, "name": email.split("@")[0]}


def test_without_sign_in_the_page_shows_nothing_but_the_sign_in_button(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = served(review, monkeypatch, {"is_logged_in": False})
    assert not at.exception
    assert at.button(key="sign_in").label == "Sign in"
    assert not at.tabs and not at.dataframe and not at.sidebar.text_input
    assert not any("Study 101" in t for t in texts(at))


def test_an_account_not_on_the_team_is_refused_with_a_way_out(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = served(review, monkeypatch, signed_in("Eve@Example.org"))
    (error,) = at.error
    assert escape_markdown("eve@example.org") in error.value
    assert "not on the review's team" in error.value
    assert at.button(key="sign_out").label == "Sign out"
    assert not at.tabs and not at.dataframe


def test_an_account_without_an_email_is_refused(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = served(review, monkeypatch, {"is_logged_in": True, "name": "No Mail"})
    assert "gave no email address" in at.error[0].value
    assert not at.tabs


def test_the_account_signs_the_decision_and_no_reviewer_box_is_offered(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = served(review, monkeypatch, signed_in("Ana@Example.org"))
    assert not at.exception
    assert "reviewer" not in [box.key for box in at.text_input]
    assert "Signed in as ana@example.org (reviewer)" in texts(at)
    at.session_state["reviewer"] = BEN  # what a laptop's Reviewer box would hold: ignored
    at.text_input(key="goto").input("101").run()
    at.button(key="decide_include").click().run()
    assert not at.error
    assert Store(review).events()[["reviewer", "record_id", "value"]].values.tolist() == [
        [ANA, 101, "include"]
    ]


def test_a_reviewer_sees_only_the_conflicts_on_records_they_decided_and_cannot_resolve(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(review)
    screening.decide(store, [101], decision="include", reviewer=ANA)
    screening.decide(store, [101, 102], decision="maybe", reviewer=BEN)
    screening.decide(store, [102], decision="include", reviewer=LEAD)
    at = served(review, monkeypatch, signed_in(ANA))
    (expander,) = [e for e in at.expander if e.label.startswith("Dual screening")]
    assert expander.label == "Dual screening at title-abstract: 1 open conflicts"
    (table,) = [d.value for d in at.dataframe if "decisions" in d.value.columns]
    assert table["record_id"].tolist() == [101]
    assert "A lead of the review resolves conflicts." in texts(at)
    assert not [b for b in at.button if b.label == "Resolve"]


def test_a_lead_sees_every_conflict_and_resolves_one(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(review)
    screening.decide(store, [101], decision="include", reviewer=ANA)
    screening.decide(store, [101], decision="maybe", reviewer=BEN)
    at = served(review, monkeypatch, signed_in(LEAD))
    (table,) = [d.value for d in at.dataframe if "decisions" in d.value.columns]
    assert table["record_id"].tolist() == [101]
    at.radio(key="resolve").set_value("include")
    (resolve,) = [b for b in at.button if b.label == "Resolve"]
    resolve.click().run()
    assert not at.error
    resolved = Store(review).events().iloc[-1]
    assert (resolved["action"], resolved["reviewer"], resolved["value"]) == (
        "resolve",
        LEAD,
        "include",
    )


def test_fetching_and_importing_are_offered_to_leads_only(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = served(review, monkeypatch, signed_in(ANA))
    at.session_state["tab"] = "Fetch & import"
    at.run()
    assert "Only a lead of the review may do this" in at.info[0].value
    assert not at.text_area and not at.get("file_uploader")
    lead = served(review, monkeypatch, signed_in(LEAD))
    lead.session_state["tab"] = "Fetch & import"
    lead.run()
    assert lead.text_area(key="query") and lead.get("file_uploader")
    assert "import_reviewer" not in [box.key for box in lead.text_input]
    assert f"Decisions in Rayyan, Covidence or ASReview files are signed by {LEAD}." in [
        c.value for c in lead.caption
    ]


def test_an_open_review_admits_any_account_and_says_it_is_open(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Store(data_dir).upsert([Article(pmid=p, title=f"Study {p}") for p in PMIDS])
    at = served(data_dir, monkeypatch, signed_in("someone@example.org"))
    assert "This review is open" in at.warning[0].value
    assert "Signed in as someone@example.org (lead)" in texts(at)
    assert at.dataframe(key="table")


def test_a_reviewer_on_an_empty_library_is_told_a_lead_brings_records_in(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(data_dir)
    team.add(store, LEAD, role=team.Role.LEAD, by="setup")
    team.add(store, ANA, by=LEAD)
    at = served(data_dir, monkeypatch, signed_in(ANA))
    assert "a lead of the review brings the first records in" in at.info[0].value
    assert not at.get("form")


def test_a_reviewers_filters_and_downloads_never_find_a_partners_blind_decision(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(review)
    screening.decide(store, [101, 102], decision="include", reviewer=BEN)
    screening.tag(store, [102], reviewer=BEN, add="ben's pick")
    screening.decide(store, [101], decision="include", reviewer=ANA)
    at = served(review, monkeypatch, signed_in(ANA))
    at.sidebar.multiselect(key="f_decisions").set_value(["include"]).run()
    assert [int(p) for p in at.dataframe(key="table").value["Record"]] == [101]
    at.sidebar.multiselect(key="f_decisions").set_value([]).run()
    at.sidebar.text_input(key="f_reviewer").input(BEN).run()
    assert [int(p) for p in at.dataframe(key="table").value["Record"]] == [101]
    lead = served(review, monkeypatch, signed_in(LEAD))
    lead.sidebar.multiselect(key="f_decisions").set_value(["include"]).run()
    assert [int(p) for p in lead.dataframe(key="table").value["Record"]] == []


def test_what_a_reviewer_may_see_is_the_shared_view_for_every_record_at_once(
    review: Path,
) -> None:
    store = Store(review)
    screening.decide(store, [101, 102], decision="include", reviewer=BEN)
    screening.decide(store, [101], decision="exclude", reviewer=ANA, reason="duplicate")
    screening.tag(store, [103], reviewer=BEN, add="look again")
    state = screening.summary(store)
    own = screening.reviewer_decisions(store, ANA, "title-abstract")
    seen = tracker.dashboard.seen_by(state, ANA, own)
    for pmid in PMIDS:
        mine = own.get(pmid, "unscreened")
        shared = tracker.dashboard.shared_view(state, pmid, reviewer=ANA, own_decision=mine)
        row, full = seen.loc[pmid].to_dict(), state.loc[pmid].to_dict()
        if shared is None:
            assert (row["decision"], row["reviewers"], row["tags"]) == ("unscreened", [], [])
        else:
            assert row == full
    assert seen.loc[101, "decision"] == "conflict" and seen.loc[103, "tags"] == ["look again"]
    assert seen.loc[102, "tags"] == [] and state.loc[102, "decision"] == "include"
    assert tracker.screening.annotations(store, state=seen).keys() == {101, 103}


def test_the_claims_of_included_studies_never_show_a_partners_include_early(
    review: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben includes a study that reports nausea; Ana has not decided it: her claims view of the
    included studies must not count it until she has, as her table does not."""
    store = Store(review)
    found = "Nausea occurred in 12 of 40 patients given ketamine."
    store.upsert([Article(pmid=104, title="Ketamine for neuropathic pain", abstract=found)])
    screening.decide(store, [104], decision="include", reviewer=BEN)

    def nausea(email: str) -> int:
        at = served(review, monkeypatch, signed_in(email))
        at.session_state["tab"] = "Evidence map"
        at.run()
        assert not at.exception
        counts = {c["claim"]: c["studies"] for c in chart_data(at, "claim", "studies")}
        studies = counts["nausea or vomiting"]
        assert isinstance(studies, int)
        return studies

    assert nausea(ANA) == 0, "a partner's include is not Ana's to see yet"
    screening.decide(store, [104], decision="include", reviewer=ANA)
    assert nausea(ANA) == 1, "once she has decided, the record is as it is"
