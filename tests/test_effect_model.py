"""The learned second opinion on adverse effects (tracker.effect_model, tracker.effect_mentions):
what it vetoes, what it leaves, that it needs no scikit-learn to score, and that the shipped
weights are what the training script makes of the labels."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from real_abstracts import screening_dir
from tagging_accuracy import Labelled, frame

from tracker import tagging
from tracker.effect_mentions import effect_cues, mentions
from tracker.effect_model import MODEL_PATH, EffectModel, doubted, packaged_model

ROOT = Path(__file__).resolve().parents[1]

# Text written for these tests, each in the shape of a class of error the rules let through on
# drug-class reviews of other drugs, and which the model vetoes.
CONDITION = (
    "Nifedipine in hypertensive urgency: a comparison of two formulations",
    "Forty patients with hypertensive urgency were given nifedipine or nitrendipine. Elevated "
    "blood pressure fell within one hour in both groups. Tolerability was good.",
)
CHALLENGE = (
    "Endothelin responses in essential hypertension",
    "Endothelin was infused in 12 volunteers. Blood pressure rose by 12 mmHg and enalapril "
    "attenuated the response.",
)
SYMPTOM = (
    "Clozapine for psychosis in Parkinson's disease",
    "Twelve patients with drug-induced psychosis received low-dose clozapine. Hallucinations "
    "resolved in ten patients within four weeks.",
)
REPORTED = (
    "Amlodipine in elderly patients",
    "In an open study of 60 patients, amlodipine lowered blood pressure. Headache occurred in 6 "
    "patients and dizziness in 3; ankle oedema was the most common adverse event.",
)


def _evidence(texts: list[tuple[str, str]], *, learned: bool = True) -> pd.DataFrame:
    records = [Labelled(str(n), title, abstract, {}) for n, (title, abstract) in enumerate(texts)]
    return tagging.evidence(frame(records), learned=learned)


CASES = {"condition": CONDITION, "challenge": CHALLENGE, "symptom": SYMPTOM}


@pytest.mark.parametrize("text", list(CASES.values()), ids=list(CASES))
def test_the_model_vetoes_what_the_rules_let_through(text: tuple[str, str]) -> None:
    rules_only = _evidence([text], learned=False).iloc[0]
    assert rules_only["adverse_effects"], "the rules no longer suggest it: pick another case"
    assert _evidence([text]).iloc[0]["adverse_effects"] == []


def test_a_reported_effect_stands_with_the_rules_span() -> None:
    rules_only, learned = (_evidence([REPORTED], learned=flag).iloc[0] for flag in (False, True))
    assert learned["adverse_effects"] == ["dizziness or lightheadedness", "headache"]
    assert learned["evidence"] == rules_only["evidence"]


def test_records_naming_a_vocabulary_drug_are_left_to_the_rules() -> None:
    """The model never saw a ketamine record: where a rise in pressure is a known effect."""
    title, abstract = CHALLENGE
    text = (title, abstract.replace("Endothelin was", "Ketamine was"))
    assert _evidence([text]).iloc[0]["adverse_effects"] == ["raised heart rate or blood pressure"]


def test_a_frame_is_vetoed_record_by_record() -> None:
    tags = _evidence([REPORTED, CONDITION, REPORTED, SYMPTOM])
    assert [bool(found) for found in tags["adverse_effects"]] == [True, False, True, False]


def test_mentions_carry_what_the_rules_said_of_them() -> None:
    cues = effect_cues(tagging.default_vocabulary())
    found = mentions(
        cues, "A trial", "There was no headache. Patients with severe hypertension took it."
    )
    by_value = {m.value: m.features for m in found}
    assert {"rules:negated", "neg<=15", "v=headache"} <= by_value["headache"]
    assert "rules:context" in by_value["raised heart rate or blood pressure"]
    assert all("rules:counted" not in features for features in by_value.values())


def test_mentions_of_one_value_are_counted_and_restricted_on_request() -> None:
    cues = effect_cues(tagging.default_vocabulary())
    title, abstract = "Headache after nitrates", "Headache occurred often; nausea was rare."
    found = mentions(cues, title, abstract, ["headache"])
    assert [(m.field, m.span) for m in found] == [("title", "Headache"), ("abstract", "Headache")]
    assert all({"named:twice", "named:in title"} <= m.features for m in found)


def test_a_score_is_the_logistic_of_the_weights_present() -> None:
    model = EffectModel({"a": 1.0, "b": -2.0}, bias=0.5, threshold=0.5)
    assert model.probability(["a"]) == pytest.approx(1 / (1 + math.exp(-1.5)))
    assert model.probability(["a", "b", "unknown"]) == pytest.approx(1 / (1 + math.exp(0.5)))
    assert model.probability([]) > 0.5 > model.probability(["b"])


def test_doubted_names_the_effects_below_the_threshold() -> None:
    cues = effect_cues(tagging.default_vocabulary())
    never = EffectModel({}, bias=-5.0, threshold=0.5)
    always = EffectModel({}, bias=5.0, threshold=0.5)
    suggested = {3: ["headache"], 7: ["headache", "liver injury"]}
    texts = {3: REPORTED, 7: ("A trial", "Headache occurred in two.")}
    assert doubted(always, cues, suggested, texts) == {}
    # liver injury is never mentioned in record 7: nothing to weigh, so it is not vetoed
    assert doubted(never, cues, suggested, texts) == {3: {"headache"}, 7: {"headache"}}


def test_the_packaged_model_is_small_and_readable() -> None:
    document: dict[str, Any] = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    model = packaged_model()
    assert model is not None and 0 < model.threshold < 1
    assert len(document["weights"]) < 5000 and MODEL_PATH.stat().st_size < 200_000


def test_scoring_needs_no_scikit_learn() -> None:
    """The modules that score import neither scikit-learn nor SciPy (training does)."""
    for module in ("effect_model", "effect_mentions", "effect_context"):
        tree = ast.parse((ROOT / "tracker" / f"{module}.py").read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not imported & {"sklearn", "scipy"}, module


def test_the_shipped_model_is_what_the_training_script_produces() -> None:
    if not screening_dir().is_dir():
        pytest.skip(f"the screening datasets are not at {screening_dir()}: cannot retrain")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_effect_model.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
