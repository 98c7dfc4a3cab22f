"""The learned second opinion on designs (tracker/learned_design.py, tracker/design_words.py):
its features, its scoring without scikit-learn, how the tagger uses it, and that the shipped
model is what scripts/train_design_model.py produces."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from real_abstracts import screening_dir

from tracker.design_words import known_terms, record_terms
from tracker.learned_design import DesignModel, additions, packaged, stored, vetoed
from tracker.tagging import evidence, tag_record

ROOT = Path(__file__).resolve().parents[1]


def _terms(title: str, abstract: str) -> set[str]:
    found = record_terms(pa.array([title]), pa.array([abstract]))
    return set(found.terms.to_pylist())


def test_terms_are_lower_cased_words_pairs_and_title_words_with_numbers_as_hash() -> None:
    terms = _terms("A Randomised Trial", "We randomised 146 patients; double-blind.")
    assert {"randomised", "# patients", "double blind", "t:trial", "t:randomised"} <= terms
    assert "146" not in terms and "Randomised" not in terms
    assert "t:patients" not in terms  # only the title's words are title terms


def test_each_term_counts_once_per_record_and_rows_stay_apart() -> None:
    found = record_terms(pa.array(["trial trial", None]), pa.array([None, "review"]))
    pairs = list(zip(found.rows.tolist(), found.terms.to_pylist(), strict=True))
    assert pairs.count((0, "trial")) == 1
    assert (1, "review") in pairs and (0, "review") not in pairs
    assert not any(term == "trial review" for _, term in pairs)  # no pair across records


def _model(veto: float = 0.3, add: float = 0.9, rival_from: float = 0.0) -> DesignModel:
    """A hand-made model: "randomly" makes an RCT, "reviewed" a review."""
    text = stored(
        ["RCT", "review"],
        ["randomly", "reviewed"],
        np.array([[6.0, -2.0], [-2.0, 6.0]]),
        [-3.0, -3.0],
        {"RCT": veto, "review": veto},
        {"RCT": add, "review": None},
        rival_from,
        {"what": "test"},
    )
    return DesignModel.from_json(json.loads(text))


def test_scoring_is_the_logistic_of_bias_plus_weights_of_the_terms_present() -> None:
    model = _model()
    p = model.probabilities(pa.array(["x", "x"]), pa.array(["patients were randomly given", ""]))
    assert p[0, 0] == pytest.approx(1 / (1 + math.exp(-3.0)))
    assert p[0, 1] == pytest.approx(1 / (1 + math.exp(5.0)))
    assert p[1, 0] == pytest.approx(1 / (1 + math.exp(3.0)))


def test_the_stored_file_keeps_non_zero_weights_and_null_for_never_added() -> None:
    text = stored(
        ["RCT"], ["a", "b"], np.array([[0.00001], [1.23456]]), [0.5], {"RCT": 0.1},
        {"RCT": None}, 0.7, {},
    )  # fmt: skip
    assert '"a"' not in text and '"b": 1.2346' in text and '"add_from": null' in text
    assert DesignModel.from_json(json.loads(text)).add_from["RCT"] == math.inf


def test_veto_and_additions_follow_the_thresholds() -> None:
    model = _model(veto=0.3, add=0.9)
    rivalled = np.array([True, True, False])
    found = vetoed(model, "RCT", np.array([0.1, 0.5, 0.1]), rivalled)
    assert found.tolist() == [True, False, False]  # no rival: the cue stands
    assert not vetoed(model, "case report", np.array([0.0]), np.array([True])).any()
    probabilities = np.array([[0.95, 0.1], [0.95, 0.1], [0.5, 0.99]])
    added = additions(model, probabilities, settled=np.array([False, True, False]))
    assert [(value, rows.tolist()) for value, rows in added] == [("RCT", [0])]


def _tags(title: str, abstract: str, types: list[str], model: DesignModel) -> dict[str, Any]:
    return tag_record(title, abstract, types, [], design_model=model)


def test_the_tagger_vetoes_a_cue_design_the_model_finds_unlikely() -> None:
    title, abstract = "Losartan in hypertension", "Patients were randomised to losartan or placebo."
    assert _tags(title, abstract, [], DesignModel.empty())["design"] == ["RCT"]
    # the hand-made model sees no "randomly" here: p(RCT) = 0.047 < 0.3
    assert _tags(title, abstract, [], _model(veto=0.3))["design"] == []


def test_indexing_keeps_its_precedence() -> None:
    title, abstract = "Losartan in hypertension", "Patients were given losartan."
    tags = _tags(title, abstract, ["Randomized Controlled Trial"], _model(veto=0.9))
    assert tags["design"] == ["RCT"]  # a publication type is never vetoed
    tags = _tags(title, "Patients were randomly given losartan.", ["Review"], _model(add=0.5))
    assert tags["design"] == ["review"]  # nor added to


def test_an_addition_names_its_probability_and_words() -> None:
    abstract = "We studied 20 patients; the dose was randomly chosen."
    tags = _tags("Losartan", abstract, [], DesignModel.empty())
    assert tags["design"] == []  # no cue: "randomly chosen" is sampling
    tags = _tags("Losartan", abstract, [], _model(veto=0.0, add=0.9))
    assert tags["design"] == ["RCT"]
    proof = [e for e in tags["evidence"] if e["facet"] == "design"]
    assert proof == [
        {"facet": "design", "value": "RCT", "field": "learned",
         "span": "learned: p=0.95; words: randomly"}
    ]  # fmt: skip


def test_without_a_model_the_cues_alone_decide() -> None:
    frame = pd.DataFrame({
        "record_id": [1], "title": ["Review of losartan"],
        "abstract": ["Patients were randomly given losartan."],
        "publication_types": [[]], "mesh_terms": [[]], "mesh_qualified": [[]],
    })  # fmt: skip
    plain = evidence(frame)
    assert (
        plain["design"].tolist()
        == evidence(frame, design_model=DesignModel.empty())["design"].tolist()
    )


def test_the_packaged_model_loads_and_scores_every_value() -> None:
    model = packaged()
    p = model.probabilities(
        pa.array(["A randomized, double-blind, placebo-controlled trial"]),
        pa.array(["Patients were randomly assigned to losartan or placebo."]),
    )
    assert p.shape == (1, len(model.values))
    assert p[0, model.values.index("RCT")] > 0.9


@pytest.mark.skipif(
    not screening_dir().is_dir(),
    reason=f"the screening datasets the model is trained from are not at {screening_dir()}",
)
def test_the_shipped_model_is_what_the_training_script_produces() -> None:
    script = ROOT / "scripts" / "train_design_model.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_scoring_finds_exactly_the_training_terms_the_model_knows() -> None:
    titles = pa.array(["A randomised trial: review", None, "Crossover study"])
    abstracts = pa.array(["We randomised 20 patients, double-blind.", "open label", None])
    terms = ["randomised", "# patients", "double blind", "t:review", "open label", "t:study", "x y"]
    full = record_terms(titles, abstracts)
    index = {term: i for i, term in enumerate(terms)}
    want = sorted(
        (int(row), index[term])
        for row, term in zip(full.rows.tolist(), full.terms.to_pylist(), strict=True)
        if term in index
    )
    found = known_terms(titles, abstracts, terms)
    assert sorted(zip(found.rows.tolist(), found.terms.to_pylist(), strict=True)) == want
    assert (1, index["open label"]) in want and (2, index["t:study"]) in want


def test_a_veto_needs_a_rival_the_cues_did_not_give() -> None:
    title, abstract = "Losartan in hypertension", "Patients were randomised to losartan or placebo."
    # p(RCT) = 0.047 is below the veto, but p(review) = 0.047 is no rival at 0.5: the cue stands
    assert _tags(title, abstract, [], _model(veto=0.3, rival_from=0.5))["design"] == ["RCT"]
    reviewed = "Patients were randomised to losartan or placebo; trials were reviewed."
    # "reviewed": p(review) = 0.95, a rival, and p(RCT) = 0.007: the cue's RCT is vetoed
    assert _tags(title, reviewed, [], _model(veto=0.3, rival_from=0.5))["design"] == []
