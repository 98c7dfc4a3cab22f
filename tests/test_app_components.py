"""The app's components alone, each through ``AppTest.from_function`` against a real store:
record navigation, the screening buttons and form, the download buttons and the cache key.

Each page below is a small script: AppTest runs its body, so it imports what it uses.
"""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_app import texts

from tracker import Store, screening
from tracker.vocabulary import write_default
from views.browse import export_files
from views.downloads import Download

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).resolve().parents[1]


def listed(data_dir: Path) -> list[int]:
    return sorted(int(p) for p in screening.summary(Store(data_dir)).index)


# -- record navigation -----------------------------------------------------------------------


def navigation_page(data_dir: str) -> None:
    import streamlit as st

    import tracker
    from views import messages
    from views import record_navigation as navigation

    state = tracker.screening.summary(tracker.Store(data_dir))
    messages.show_notice()
    listing = navigation.Listing(sorted(int(p) for p in state.index), state, None)
    picked = st.selectbox("Picked row", [None, *listing.pmids], key="picked")
    st.text(f"showing {navigation.record_navigation(listing, picked)}")


def navigation(data_dir: Path) -> AppTest:
    return AppTest.from_function(navigation_page, args=(str(data_dir),), default_timeout=30).run()


def test_navigation_shows_a_typed_pmid_then_the_next_unscreened_one(filled: Path) -> None:
    pmids = listed(filled)
    screening.decide(Store(filled), pmids[1:3], decision="include", reviewer="ana")
    at = navigation(filled)
    assert "showing None" in texts(at)
    at.text_input(key="goto").input(str(pmids[0])).run()
    assert f"showing {pmids[0]}" in texts(at)
    at.button(key="next").click().run()
    assert f"showing {pmids[3]}" in texts(at), "the decided records are skipped"
    at.run()
    assert at.text_input(key="goto").value == "", "the box no longer names another record"
    assert f"showing {pmids[3]}" in texts(at)


def test_a_picked_row_is_shown_once_and_a_kept_pick_does_not_pull_back(filled: Path) -> None:
    pmids = listed(filled)
    at = navigation(filled)
    at.selectbox(key="picked").set_value(pmids[2]).run()
    assert f"showing {pmids[2]}" in texts(at)
    at.text_input(key="goto").input(str(pmids[4])).run()
    assert f"showing {pmids[4]}" in texts(at), "the row still picked does not win again"
    at.selectbox(key="picked").set_value(pmids[5]).run()
    assert f"showing {pmids[5]}" in texts(at)
    assert at.text_input(key="goto").value == ""


def test_next_unscreened_at_the_end_of_the_list_says_so(filled: Path) -> None:
    screening.decide(Store(filled), listed(filled), decision="maybe", reviewer="ana")
    at = navigation(filled)
    at.button(key="next").click().run()
    assert "showing None" in texts(at)
    at.run()
    assert [i.value for i in at.info] == ["No unscreened record left in this list."]


# -- the screening buttons and form ----------------------------------------------------------


def buttons_page() -> None:
    import streamlit as st

    from views.screening_form import screen_buttons

    st.text(f"pressed {screen_buttons()}")


@pytest.mark.parametrize("pressed", ["include", "exclude", "maybe"])
def test_each_screening_button_says_which_was_pressed(pressed: str) -> None:
    at = AppTest.from_function(buttons_page).run()
    assert texts(at) == ["pressed None"]
    assert [at.button(key=f"decide_{d}").proto.shortcut for d in ("include", "exclude", "maybe")]\
        == ["i", "e", "m"]  # fmt: skip
    at.button(key=f"decide_{pressed}").click().run()
    assert texts(at) == [f"pressed {pressed}"]
    at.run()
    assert texts(at) == ["pressed None"], "a button is pressed for one run only"
    at.button(key="save_note").click().run()
    assert texts(at) == ["pressed note"]


def screening_page(data_dir: str) -> None:
    from pathlib import Path

    import streamlit as st

    import tracker
    from views import library_cache, messages
    from views import record_navigation as navigation
    from views.screening_form import screen_form
    from views.sidebar import Choices

    here = library_cache.snapshot(tracker.Settings(data_dir=Path(data_dir)))
    messages.show_flash()
    state = library_cache.screening_state(here)
    choices = Choices(tracker.Filters(), "ana", "title-abstract")
    own = library_cache.own_decisions(here, "ana", "title-abstract")
    listing = navigation.Listing(sorted(int(p) for p in state.index), state, own)
    shown = navigation.record_navigation(listing, None)
    st.text(f"showing {shown}")
    if shown is not None:
        screen_form(here, shown, state, choices, listing)


def screening_form(data_dir: Path, pmid: int) -> AppTest:
    """The form on the record ``pmid``, opened through the navigation's box."""
    at = AppTest.from_function(screening_page, args=(str(data_dir),), default_timeout=30)
    at.run().text_input(key="goto").input(str(pmid))
    return at.run()


def test_the_form_refuses_an_exclusion_without_its_reason_or_note(filled: Path) -> None:
    pmid = listed(filled)[0]
    at = screening_form(filled, pmid)
    at.button(key="decide_exclude").click().run()
    assert "Choose a reason" in at.error[0].value
    at.selectbox(key="reason").set_value("other")
    at.button(key="decide_exclude").click().run()
    assert "needs a note" in at.error[0].value
    assert Store(filled).events().empty
    at.text_input(key=f"note_{pmid}").input("conference abstract")
    at.button(key="decide_exclude").click().run()
    assert not at.error
    saved = screening.summary(Store(filled)).loc[pmid]
    assert (saved["decision"], saved["exclusion_reason"]) == ("exclude", "other")


def test_a_decision_lands_in_the_store_and_moves_on_unless_told_not_to(filled: Path) -> None:
    pmids = listed(filled)
    at = screening_form(filled, pmids[0])
    at.button(key="decide_include").click().run()
    assert any(f"PMID {pmids[0]}: include saved" in s.value for s in at.success)
    assert f"showing {pmids[1]}" in texts(at)
    assert screening.summary(Store(filled)).loc[pmids[0], "decision"] == "include"
    at = screening_form(filled, pmids[2])
    at.checkbox(key="advance").uncheck()
    at.button(key="decide_maybe").click().run()
    assert f"showing {pmids[2]}" in texts(at), "the pane stays on the record"
    assert screening.summary(Store(filled)).loc[pmids[2], "decision"] == "maybe"


# -- the download buttons --------------------------------------------------------------------


def exports_page(data_dir: str, pmids: list[int]) -> None:
    import tracker
    from views.browse import export_files
    from views.downloads import downloads

    store = tracker.Store(data_dir)
    records = store.records()
    downloads(export_files(store, records[records["record_id"].isin(pmids)]))


def test_the_export_buttons_build_their_files_only_when_pressed(filled: Path) -> None:
    at = AppTest.from_function(exports_page, args=(str(filled), listed(filled)[:3])).run()
    assert not at.exception
    buttons = [b.proto for b in at.get("download_button")]
    assert [b.label for b in buttons] == ["CSV (spreadsheet)", "RIS (Zotero, EndNote)", "BibTeX"]
    assert all(b.deferred_file_id and not b.url for b in buttons), "nothing built yet"
    assert all(b.ignore_rerun for b in buttons), "pressing one does not rerun the page"


def test_the_exported_files_hold_exactly_the_chosen_records(filled: Path) -> None:
    store = Store(filled)
    pmids = listed(filled)[2:5]
    screening.decide(store, pmids[:1], decision="include", reviewer="ana")
    records = store.records()
    files = export_files(store, records[records["record_id"].isin(pmids)])
    assert [f.name for f in files] == ["ketamine-review.csv", "ketamine-review.ris",
                                       "ketamine-review.bib"]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(built(files[0]).decode("utf-8-sig"))))
    assert sorted(int(r["PMID"]) for r in rows) == pmids
    assert {r["PMID"]: r["Decision"] for r in rows}[str(pmids[0])] == "include"
    assert built(files[1]).count(b"\nER  -") == len(pmids)


def built(file: Download) -> bytes:
    """What pressing the file's button downloads."""
    assert callable(file.data), "the file is built only when its button is pressed"
    data = file.data()
    assert isinstance(data, bytes)
    return data


# -- the cached loaders and their key --------------------------------------------------------


def cache_page(data_dir: str) -> None:
    from pathlib import Path

    import streamlit as st

    import tracker
    from views import library_cache

    here = library_cache.snapshot(tracker.Settings(data_dir=Path(data_dir)))
    st.text(f"library {id(library_cache.library(here))}")
    st.text(f"state {id(library_cache.screening_state(here))}")


def test_a_decision_reloads_the_screening_state_but_not_the_library(filled: Path) -> None:
    at = AppTest.from_function(cache_page, args=(str(filled),), default_timeout=30).run()
    library, state = texts(at)
    at.run()
    assert texts(at) == [library, state], "nothing changed, nothing is reloaded"
    screening.decide(Store(filled), listed(filled)[:1], decision="include", reviewer="ana")
    at.run()
    assert texts(at)[0] == library and texts(at)[1] != state
    write_default(filled)  # the library's own vocabulary file: its tags may differ
    at.run()
    assert texts(at)[0] != library


# -- who owns which session key --------------------------------------------------------------


def session_keys(tree: ast.AST) -> list[ast.expr]:
    """What is used as a key of ``st.session_state`` (or a local name for it) in a module."""

    def is_session(node: ast.expr) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "session_state") or (
            isinstance(node, ast.Name) and node.id == "session"
        )

    keys: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_session(node.value):
            keys.append(node.slice)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("get", "pop") and is_session(node.func.value)):  # fmt: skip
            keys.append(node.args[0])
        elif isinstance(node, ast.Compare) and any(is_session(c) for c in node.comparators):
            keys.append(node.left)
    return keys


def test_every_session_key_is_a_constant_of_the_one_module_that_uses_it() -> None:
    owners: dict[str, list[str]] = {}
    offenders = []
    for path in [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and target.id.isupper()
        }
        for key in session_keys(tree):
            if not (isinstance(key, ast.Name) and key.id in constants):
                offenders.append(f"{path.name}:{key.lineno}: {ast.unparse(key)}")
            else:
                owners.setdefault(str(constants[key.id]), []).append(path.name)
    assert offenders == [], "a session key is a named constant of its module"
    assert {key: set(places) for key, places in owners.items() if len(set(places)) > 1} == {}
    assert {"current", "goto", "flash"} <= set(owners)
