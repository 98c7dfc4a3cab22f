"""PRISMA 2020 counts on worked examples written by hand (tests/expected/prisma_*.json).

Each example lists the search runs (the PMIDs each returned) and the screening steps in order;
the expected boxes, final decisions, conflicts and agreement were worked out by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tracker import duplicates, prisma, screening
from tracker.errors import ScreeningError
from tracker.records import Article
from tracker.store import Store

EXAMPLES = sorted((Path(__file__).parent / "expected").glob("prisma_*.json"))
STAGES = ("title-abstract", "full-text")


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def build(example: dict[str, Any], data_dir: Path) -> Store:
    """A store holding the example's runs, with its steps applied in order."""
    store = Store(data_dir)
    for pmids in example["runs"]:
        run = store.begin_run(kind="import", query="ketamine chronic pain", api_key_used=False)
        store.complete_run(run, [Article(pmid=p, title=f"Study {p}") for p in pmids])
    for step in example["steps"]:
        apply(store, step)
    return store


def apply(store: Store, step: dict[str, Any]) -> None:
    who = step["reviewer"]
    if step["do"] == "decide":
        screening.decide(store, step["pmids"], decision=step["decision"], reviewer=who,
                         stage=step["stage"], reason=step.get("reason", ""))  # fmt: skip
    elif step["do"] == "resolve":
        screening.resolve(store, step["pmid"], decision=step["decision"], reviewer=who,
                          stage=step["stage"], reason=step.get("reason", ""))  # fmt: skip
    elif step["do"] == "undo":
        assert screening.undo(store, reviewer=who) is not None
    else:
        judge = duplicates.confirm if step["do"] == "confirm" else duplicates.reject
        judge(store, step["pmid"], duplicate_of=step["of"], reviewer=who)


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request: pytest.FixtureRequest, data_dir: Path) -> tuple[dict[str, Any], Store]:
    data = load(request.param)
    return data, build(data, data_dir)


def test_every_box_matches_the_hand_count(example: tuple[dict[str, Any], Store]) -> None:
    data, store = example
    assert data["templates"], "an example works out at least one template"
    for template in data["templates"]:
        got = json.loads(prisma.to_json(prisma.counts(store, since_run=template["since_run"])))
        for search in got["searches"]:
            search.pop("started_at")
        expected = template["expected"]
        assert {k: got[k] for k in expected} == expected, template["since_run"]


def test_every_box_is_the_sum_of_its_parts(example: tuple[dict[str, Any], Store]) -> None:
    data, store = example
    assert data["templates"], "an example works out at least one template"
    for template in data["templates"]:
        c = prisma.counts(store, since_run=template["since_run"])
        assert c.problems() == []
        excluded = c.excluded_screening + c.not_retrieved + c.excluded_assessment
        pending = c.screening_pending + c.assessment_pending
        assert c.included + excluded + pending == c.screened
        assert c.total_included == c.previous_included + c.included


def test_final_decisions_conflicts_and_agreement_match_the_hand_count(
    example: tuple[dict[str, Any], Store],
) -> None:
    data, store = example
    summary = screening.summary(store)
    assert {str(k): v for k, v in summary["decision"].items()} == data["final_decisions"]
    reasons = summary.loc[summary["exclusion_reason"] != "", "exclusion_reason"]
    assert {str(k): v for k, v in reasons.items()} == data["exclusion_reasons"]
    conflicts = {stage: screening.conflicts(store, stage)["record_id"].tolist() for stage in STAGES}
    assert conflicts == data["conflicts"]
    for stage in STAGES:
        pairs = data["agreement"][stage]
        got = screening.agreement(store, stage)
        assert [(list(a.reviewers), a.both_decided, a.agreed) for a in got] == [
            (p["reviewers"], p["both_decided"], p["agreed"]) for p in pairs
        ]
        assert [a.kappa for a in got] == pytest.approx([p["kappa"] for p in pairs])


def test_the_text_shows_every_box(example: tuple[dict[str, Any], Store]) -> None:
    _, store = example
    c = prisma.counts(store)
    text = prisma.to_text(c)
    assert f"Records identified: {c.identified:,}" in text
    assert f"Records screened: {c.screened:,}" in text
    assert f"Total studies included in review: {c.total_included:,}" in text
    for reason, n in c.excluded_reports.items():
        assert f"{reason}: {n:,}" in text


def test_the_dot_diagram_is_well_formed_and_carries_the_counts(
    example: tuple[dict[str, Any], Store],
) -> None:
    data, store = example
    assert data["templates"], "an example works out at least one template"
    for template in data["templates"]:
        c = prisma.counts(store, since_run=template["since_run"])
        dot = prisma.to_dot(c)
        assert dot.startswith("digraph PRISMA {\n") and dot.endswith("}\n")
        labels = dict(re.findall(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"\];$', dot, flags=re.M))
        nodes = set(re.findall(r"^  (\w+) -> (\w+);$", dot, flags=re.M))
        assert {n for edge in nodes for n in edge} <= set(labels), "every node has a label"
        assert f"Records screened\\n(n = {c.screened:,})" in labels["screened"]
        assert labels["included"].endswith(f"(n = {c.included:,})")
        assert ("total" in labels) == (c.template == "updated")
        assert dot.count("{") == dot.count("}")


def test_dot_labels_escape_quotes_and_backslashes(data_dir: Path) -> None:
    store = build(load(EXAMPLES[0]), data_dir)
    screening.add_exclusion_reason(store, 'wrong "dose" \\ route', reviewer="ana")
    screening.decide(store, [5], decision="exclude", reviewer="ana", stage="full-text",
                     reason='wrong "dose" \\ route')  # fmt: skip
    dot = prisma.to_dot(prisma.counts(store))
    assert 'wrong \\"dose\\" \\\\ route (n = 1)\\l' in dot
    assert all(line.count('"') % 2 == 0 for line in dot.splitlines() if "label" in line)


def test_an_updated_review_needs_a_finished_run(data_dir: Path) -> None:
    store = build(load(EXAMPLES[0]), data_dir)
    with pytest.raises(ScreeningError, match=r"No finished run 7: .*the search log lists"):
        prisma.counts(store, since_run=7)


def test_an_empty_store_counts_zero_everywhere(data_dir: Path) -> None:
    c = prisma.counts(Store(data_dir))
    assert (c.identified, c.screened, c.included, c.problems()) == (0, 0, 0, [])
    assert "digraph PRISMA" in prisma.to_dot(c)
