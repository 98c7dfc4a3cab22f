"""A review served for a team, end to end: `streamlit run` with an ``[auth]`` secrets section,
a real OpenID Connect provider on a local port (oidc-provider-mock), and Debian's chromium.

Reviewers sign in, screen and sign out; an account off the team is refused; nothing typed
changes who signs; only a lead resolves. Then the live views: a page left open shows another
process's decisions within seconds, and never a partner's decision on a record still blind to
the reader. The seconds measured are printed (run with ``-s`` to read them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from backend_choice import child_env
from served import auth_secrets, free_port, identity_provider, streamlit_app
from test_e2e_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, IDLE, _require_chromium

from tracker import Store, screening, team
from tracker.records import Article
from views.live import EVERY

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.both_backends]

LEAD, ANA, BEN = "lena@example.org", "ana@example.org", "ben@example.org"
PMIDS = (101, 102, 103, 104, 105)
LIVE_WITHIN = 3 * EVERY
"""How soon a decision made elsewhere must show: a tick, a redraw and the browser's share."""


@dataclass(frozen=True)
class Review:
    url: str
    data_dir: Path


def _records(data_dir: Path) -> Store:
    store = Store(data_dir)
    store.upsert([Article(pmid=p, title=f"Study {p} of esketamine") for p in PMIDS])
    return store


@pytest.fixture
def team_review(data_dir: Path, tmp_path: Path) -> Iterator[Review]:
    """Five records, a team (Lena leads, Ana and Ben review) and the app served for it, with
    a laptop's reviewer name in its environment that team mode must ignore."""
    _require_chromium()
    store = _records(data_dir)
    team.add(store, LEAD, role=team.Role.LEAD, by="setup")
    for reviewer in (ANA, BEN):
        team.add(store, reviewer, by=LEAD)
    port = free_port()
    with identity_provider(tmp_path) as issuer:
        cwd = auth_secrets(tmp_path / "server", app_port=port, issuer=issuer)
        env = {"TRACKER_DATA_DIR": str(data_dir), "TRACKER_REVIEWER": BEN, **child_env(data_dir)}
        with streamlit_app(env, cwd=cwd, port=port) as url:
            yield Review(url, data_dir)


def _settled(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator(IDLE)).to_be_attached(timeout=30_000)


def _sign_in(page: Any, url: str, email: str) -> None:
    """The whole flow: the app's button, the provider's page, back to the app."""
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", timeout=30_000)
    expect(page.locator('[data-testid="stApp"]')).to_be_attached(timeout=30_000)
    _settled(page)


def _show_record(page: Any, pmid: int) -> None:
    from playwright.sync_api import expect

    goto = page.get_by_label("Go to PMID")
    goto.fill(str(pmid))
    goto.press("Enter")
    expect(page.get_by_text(f"PMID {pmid}", exact=True)).to_be_visible(timeout=30_000)
    _settled(page)


def _browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _page(browser: Any) -> Any:
    """A page in its own context: its own cookies, so its own signed-in account."""
    return browser.new_context(viewport={"width": 1500, "height": 2200}).new_page()


def test_a_reviewer_signs_in_screens_as_herself_cannot_resolve_and_signs_out(
    team_review: Review,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    store = Store(team_review.data_dir)
    screening.decide(store, [102], decision="include", reviewer=ANA)
    screening.decide(store, [102], decision="maybe", reviewer=BEN)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = _page(browser)
        page.goto(team_review.url)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Study 101 of esketamine")).to_have_count(0)
        page.screenshot(path=ARTIFACTS / "signin-1-sign-in.png")

        _sign_in(page, team_review.url, "Ana@Example.org")
        expect(page.get_by_text(f"Signed in as {ANA} (reviewer)")).to_be_visible()
        expect(page.get_by_label("Reviewer", exact=True)).to_have_count(0)
        _show_record(page, 101)
        page.get_by_label("Note").fill(f"signed by {BEN}")  # typed words sign nothing
        page.get_by_role("button", name="Include").click()
        expect(page.get_by_text("PMID 101: include saved.")).to_be_visible(timeout=30_000)
        _settled(page)
        page.screenshot(path=ARTIFACTS / "signin-2-screened.png")

        page.get_by_text("Dual screening at title-abstract: 1 open conflicts").click()
        expect(page.get_by_text("A lead of the review resolves conflicts.")).to_be_visible()
        expect(page.get_by_role("button", name="Resolve")).to_have_count(0)

        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click()  # the provider's own page
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
        expect(page.get_by_text(f"Signed in as {ANA}")).to_have_count(0)
        page.screenshot(path=ARTIFACTS / "signin-3-signed-out.png")
        browser.close()

    decided = Store(team_review.data_dir).events()
    mine = decided[decided["record_id"] == 101]
    assert mine[["reviewer", "value", "note"]].values.tolist() == [
        [ANA, "include", f"signed by {BEN}"]
    ]


def test_an_account_off_the_team_is_refused_and_a_lead_resolves(team_review: Review) -> None:
    from playwright.sync_api import expect, sync_playwright

    store = Store(team_review.data_dir)
    screening.decide(store, [103], decision="include", reviewer=ANA)
    screening.decide(store, [103], decision="maybe", reviewer=BEN)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        stranger = _page(browser)
        _sign_in(stranger, team_review.url, "eve@example.org")
        expect(stranger.get_by_text("not on the review's team")).to_be_visible()
        expect(stranger.get_by_role("tab")).to_have_count(0)
        expect(stranger.get_by_text("Study 101 of esketamine")).to_have_count(0)
        stranger.screenshot(path=ARTIFACTS / "signin-4-refused.png")

        lead = _page(browser)
        _sign_in(lead, team_review.url, LEAD)
        expect(lead.get_by_text(f"Signed in as {LEAD} (lead)")).to_be_visible()
        _settled(lead)
        lead.get_by_text("Dual screening at title-abstract: 1 open conflicts").click()
        lead.get_by_text("Resolve a conflict at title-abstract").click()
        _resolve(lead, team_review.data_dir)
        browser.close()

    resolved = Store(team_review.data_dir).events().iloc[-1]
    assert (resolved["action"], resolved["reviewer"], resolved["record_id"]) == (
        "resolve", LEAD, 103
    )  # fmt: skip
    assert not (Store(team_review.data_dir).events()["reviewer"] == "eve@example.org").any()


def _resolve(page: Any, data_dir: Path) -> None:
    """Press Resolve and see record 103 resolved once. A click on it is now and then lost with
    the live panels on (1 of 4 runs inside the panel, 1 of 12 since it moved below it; README,
    live views): then this presses again, once, only when the store shows nothing saved, and
    leaves a note in tests/artifacts/; a resolution saved twice still fails."""
    from playwright.sync_api import expect

    done = page.get_by_text("Record 103 resolved.")
    page.get_by_role("button", name="Resolve").click()
    try:
        expect(done).to_be_visible(timeout=15_000)
    except AssertionError:
        if _resolutions(data_dir, 103):
            raise
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with (ARTIFACTS / "click-pressed-again.txt").open("a") as note:
            note.write("Resolve (record 103): nothing saved after the first click\n")
        page.get_by_role("button", name="Resolve").click()
        expect(done).to_be_visible(timeout=30_000)
    assert _resolutions(data_dir, 103) == 1


def _resolutions(data_dir: Path, pmid: int) -> int:
    events = Store(data_dir).events()
    return int(((events["action"] == "resolve") & (events["record_id"] == pmid)).sum())


def _seconds_until_visible(page: Any, text: str, *, limit: float) -> float:
    """How long until ``text`` shows on a page nobody touches (no reload, no click)."""
    from playwright.sync_api import expect

    start = time.monotonic()
    expect(page.get_by_text(text, exact=True)).to_be_visible(timeout=limit * 1000)
    return time.monotonic() - start


def test_a_partners_decisions_reach_an_open_page_but_blind_ones_stay_hidden(
    team_review: Review,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    store = Store(team_review.data_dir)
    screening.decide(store, [101], decision="include", reviewer=ANA)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = _page(browser)
        _sign_in(page, team_review.url, ANA)
        expect(page.get_by_text("Screened 1 of 5", exact=False)).to_be_visible()
        expect(
            page.get_by_text("Dual screening at title-abstract: 0 open conflicts")
        ).to_be_visible()
        _show_record(page, 104)
        expect(page.get_by_text("Your decision at title-abstract: unscreened")).to_be_visible()

        # Elsewhere (another process: this test's, not the server's), Ben and Lena decide.
        screening.decide(store, [104], decision="include", reviewer=BEN)  # blind to Ana
        screening.decide(store, [105], decision="include", reviewer=BEN)  # a conflict that is
        screening.decide(store, [105], decision="maybe", reviewer=LEAD)  # not Ana's to see
        screening.decide(store, [101], decision="maybe", reviewer=BEN)  # Ana's conflict
        conflict = _seconds_until_visible(
            page, "Dual screening at title-abstract: 1 open conflicts", limit=LIVE_WITHIN
        )
        screening.decide(store, [103], decision="include", reviewer=ANA)  # Ana, from a script
        own = _seconds_until_visible(page, _progress_line(store, 2), limit=LIVE_WITHIN)
        assert max(conflict, own) <= LIVE_WITHIN
        print(f"\nlive: a partner's conflict shown after {conflict:.1f} s, "
              f"one's own decision from another process after {own:.1f} s")  # fmt: skip
        page.screenshot(path=ARTIFACTS / "live-1-team.png")

        expect(page.get_by_text("Current decision: include")).to_have_count(0)
        expect(page.get_by_text(f"{BEN}: include")).to_have_count(0)
        page.get_by_text("Dual screening at title-abstract: 1 open conflicts").click()
        expect(page.get_by_text("2 open conflicts")).to_have_count(0)
        _show_record(page, 102)
        _show_record(page, 104)  # drawn again from the store as it is now: still blind
        expect(page.get_by_text("Your decision at title-abstract: unscreened")).to_be_visible()
        expect(page.get_by_text("Current decision:")).to_have_count(0)
        browser.close()


def _progress_line(store: Store, screened: int, *, reviewer: str = ANA) -> str:
    """The progress panel's line once ``reviewer`` has screened ``screened`` records."""
    from tracker import screening_progress
    from views.progress import numbers

    now = screening_progress.progress(store, reviewer=reviewer)
    assert now.screened == screened
    return numbers(now)


def test_on_a_laptop_an_open_page_follows_the_command_line(data_dir: Path) -> None:
    """Two people on one data folder: one in the browser, one at the terminal."""
    from playwright.sync_api import expect, sync_playwright

    _require_chromium()
    store = _records(data_dir)
    screening.decide(store, [101], decision="include", reviewer="ana")
    env = {"TRACKER_DATA_DIR": str(data_dir), "TRACKER_REVIEWER": "ana", **child_env(data_dir)}
    with streamlit_app(env) as url, sync_playwright() as playwright:
        browser = _browser(playwright)
        page = _page(browser)
        page.goto(url)
        expect(
            page.get_by_text("Dual screening at title-abstract: 0 open conflicts")
        ).to_be_visible(timeout=30_000)
        _settled(page)
        _tracker("screen", "101", "--decision", "maybe", "--reviewer", "ben",
                 "--data-dir", str(data_dir))  # fmt: skip
        seconds = [_seconds_until_visible(
            page, "Dual screening at title-abstract: 1 open conflicts", limit=LIVE_WITHIN
        )]  # fmt: skip
        for screened, pmid in enumerate((102, 103, 104), start=2):  # Ana, at the terminal
            _tracker("screen", str(pmid), "--decision", "include", "--reviewer", "ana",
                     "--data-dir", str(data_dir))  # fmt: skip
            line = _progress_line(store, screened, reviewer="ana")
            seconds.append(_seconds_until_visible(page, line, limit=LIVE_WITHIN))
        shown = ", ".join(f"{s:.1f}" for s in seconds)
        print(f"\nlive (laptop): decisions from the command line shown after {shown} s")
        browser.close()
    assert len(seconds) == 4 and max(seconds) <= LIVE_WITHIN


def _tracker(*args: str) -> None:
    """The ``tracker`` command installed beside this Python, in its own process."""
    command = Path(sys.executable).with_name("tracker")
    data_dir = Path(args[args.index("--data-dir") + 1]) if "--data-dir" in args else Path("data")
    env = {**os.environ, **child_env(data_dir)}  # on a server: the folder's schema
    subprocess.run([str(command), *args], check=True, capture_output=True, env=env)
