"""Possible duplicates in the app: the pairs that wait for a person, judged there as events;
the merges made on import listed with them. Real app.py, a real data folder filled by the
real importer from a PubMed XML file and an Embase RIS of the same studies."""

from __future__ import annotations

from pathlib import Path

import fake_eutils
import pytest
from test_app import app
from test_import_sources import embase_copy, pubmed_xml

from tracker import Store, duplicates, prisma
from tracker.importer import import_exports
from tracker.records import Action

pytestmark = pytest.mark.both_backends


@pytest.fixture
def two_sources(data_dir: Path, tmp_path: Path) -> tuple[Path, int, int]:
    """Three studies in PubMed and Embase: two merge on import; the third's Embase copy has
    another year and no DOI, so it waits for a person. Returns the folder and that pair."""
    corpus = fake_eutils.build_corpus(3, seed=31)
    import_exports(Store(data_dir), [pubmed_xml(corpus, tmp_path)])
    last = sorted(corpus)[-1]
    ris = embase_copy(corpus, tmp_path)
    year = corpus[last].created.year
    changed = ris.read_text(encoding="utf-8").replace(f"DO  - 10.1093/pm/pnz{last}", "DO  - ")
    start = changed.rindex("TY  - JOUR")
    changed = changed[:start] + changed[start:].replace(f"Y1  - {year}//", f"Y1  - {year + 1}//")
    ris.write_text(changed, encoding="utf-8")
    outcome = import_exports(Store(data_dir), [ris])
    assert outcome.merges.merged == 2
    pairs = duplicates.find_duplicates(Store(data_dir).records(), Store(data_dir))
    (waiting,) = pairs[pairs["status"] == "open"].itertuples()
    assert waiting.duplicate_of == last
    return data_dir, int(str(waiting.record_id)), last


def test_a_pair_that_waits_is_judged_in_the_app_and_counts_in_prisma(
    two_sources: tuple[Path, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, duplicate, original = two_sources
    at = app(data, monkeypatch)
    labels = [e.label for e in at.expander]
    assert "Possible duplicates: 1 wait for a person" in labels
    assert at.selectbox(key="duplicate_pair").options == [f"{duplicate} duplicates {original}"]
    before = prisma.counts(Store(data)).duplicates_removed
    at.button(key="duplicate_same").click().run()
    assert not at.exception
    judged = Store(data).events_of([Action.DUPLICATE_CONFIRM])
    mine = judged[judged["reviewer"] == "ana"]
    assert mine["record_id"].tolist() == [duplicate] and mine["value"].tolist() == [str(original)]
    assert prisma.counts(Store(data)).duplicates_removed == before + 1
    assert "Possible duplicates: 0 wait for a person" in [e.label for e in at.expander]


def test_a_merge_made_on_import_can_be_overturned_in_the_app(
    two_sources: tuple[Path, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _, _ = two_sources
    merged = sorted(duplicates.confirmed(Store(data)))
    at = app(data, monkeypatch)
    at.checkbox(key="duplicates_all").check().run()
    options = at.selectbox(key="duplicate_pair").options
    assert len(options) == 3, "the two merges and the pair that waits"
    first = next(o for o in options if o.startswith(f"{merged[0]} "))
    at.selectbox(key="duplicate_pair").set_value(first)
    at.button(key="duplicate_different").click().run()
    assert not at.exception
    assert duplicates.confirmed(Store(data)) == set(merged[1:])
