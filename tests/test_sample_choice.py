"""The learned sample-size choice (tracker.sample_choice): what it picks and why, that the
shipped weights are what the training script makes of the labels, and that scoring needs no
scikit-learn."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tracker import sample_choice, stated_counts, study_size
from tracker.tagging import tag_record

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

ARMS_APART = (
    "A randomized trial compared two regimens. Patients in the losartan arm (n = 97) were given "
    "50 mg of losartan once a day. Patients in the amlodipine group (n = 93) received 5 mg "
    "amlodipine. Blood pressure fell in both arms."
)
"""Each arm in a sentence of its own: the rules take the first arm (97), the whole is 190."""


def _value(text: str) -> int | None:
    found = sample_choice.sample_size(text)
    return found.value if found else None


@pytest.mark.parametrize(
    ("text", "value"),
    [("Patients were randomised to dexmedetomidine (n = 22) or placebo (n = 19).", 41),
     ("We randomly assigned 41 patients to drug A, 47 to drug B and 86 to placebo.", 174),
     (ARMS_APART, 190),
     ("Two trials compared quinapril with enalapril. In study I, 88 patients were randomised "
      "to quinapril or enalapril. In study II, 84 patients were randomised to quinapril or "
      "captopril.", 172),
     ("A total of 133 patients were screened, of which 121 patients were enrolled.", 121),
     ("Of 310 patients screened, 250 were randomised. Adverse events occurred in 12 patients.",
      250),
     ("Sixty patients were randomised. Headache occurred in 14 patients and dizziness in 9.", 60),
     ("Pain improved in 7 of 42 patients.", None),
     ("We reviewed the pharmacology of losartan.", None)],
)  # fmt: skip
def test_the_whole_sample_not_an_arm_a_screening_count_or_an_event(
    text: str, value: int | None
) -> None:
    assert _value(text) == value


def test_where_the_rules_read_no_sample_the_model_adds_none() -> None:
    """The model only chooses among numbers: "7 of 42" counts responders, and a review's
    numbers are no sample, so a record the rules leave without one gets none."""
    text = "Nausea occurred in 12 patients and 4 of 30 volunteers withdrew."
    assert study_size.sample_size(text) is None
    assert sample_choice.sample_size(text) is None


def test_a_learned_choice_says_what_it_replaced_and_why() -> None:
    found = sample_choice.sample_size(ARMS_APART)
    assert found is not None and found.value == 190
    assert "chosen by the learned model over the rules' 97" in found.span
    assert "n = 97 + 93" in found.span
    reasons = found.span.split("; it ", 1)[1].rstrip(")").split(", ")
    assert reasons and all(
        reason and "=" not in reason.replace('"n = N"', "") for reason in reasons
    )


def test_the_cues_are_said_in_words_and_the_meaningless_ones_not_at_all() -> None:
    assert sample_choice.plain_cue("largest_people") == "is the largest count of people"
    assert sample_choice.plain_cue("items=3") == "adds up 3 groups"
    assert sample_choice.plain_cue("l1=randomised") == 'comes after "randomised"'
    assert sample_choice.plain_cue("size=4") == ""
    assert sample_choice.plain_cue("bias") == ""
    assert sample_choice.plain_cue("l1=in") == ""


def test_where_model_and_rules_agree_the_rules_span_is_kept() -> None:
    text = "Sixty patients were randomised to ketamine or placebo."
    assert sample_choice.sample_size(text) == study_size.sample_size(text)


def test_the_people_flag_stays_the_rules_so_designs_do_not_move() -> None:
    """tracker.tagging reads "this text counts people" to tell a study from a narrative
    review; the learned choice must not change that."""
    rules = study_size.sample_size(ARMS_APART)
    found = sample_choice.sample_size(ARMS_APART)
    assert rules is not None and found is not None
    assert found.people == rules.people


def test_the_tagger_reports_the_learned_choice_with_its_evidence() -> None:
    tags = tag_record("Losartan or amlodipine in hypertension", ARMS_APART, [], [])
    assert tags["sample_size"] == 190
    proof = [e for e in tags["evidence"] if e["facet"] == "sample_size"]
    assert proof and "chosen by the learned model" in proof[0]["span"]


def test_candidates_carry_arms_apart_pairs_and_no_screening_counts() -> None:
    values = {c.value for c in stated_counts.candidates(ARMS_APART)}
    assert {97, 93, 190} <= values
    pair = "Five poor metabolizers and five extensive metabolizers were studied."
    assert 10 in {c.value for c in stated_counts.candidates(pair)}
    screened = "Of 310 patients screened, 250 were randomised."
    assert 310 not in {c.value for c in stated_counts.candidates(screened)}


def test_rule_features_only_when_asked() -> None:
    plain = stated_counts.candidates(ARMS_APART)
    ruled = stated_counts.candidates(ARMS_APART, rules=True)
    assert not any(f.startswith(("rule=", "kind=rule")) for c in plain for f in c.features)
    assert any("rule=chosen" in c.features for c in ruled)


def test_scoring_needs_no_scikit_learn() -> None:
    """Scoring is a sum of weights read from JSON: the modules it runs import no learning
    library (only the training script does). The tracker package imports scikit-learn for
    screening order, so this reads the modules' imports rather than blocking the library."""
    for module in (sample_choice, stated_counts, study_size):
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            for name in (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )
        }  # fmt: skip
        assert not imported & {"sklearn", "scipy", "numpy", "pandas"}, (module, imported)


def test_the_shipped_weights_are_what_the_training_script_produces() -> None:
    from real_abstracts import screening_dir

    if not screening_dir().is_dir():
        pytest.skip(f"the screening datasets are not at {screening_dir()}: cannot retrain")
    import train_sample_size_model as training

    train = training.examples(screening_dir())
    produced = training.model_file(training.fit(train), train)
    assert sample_choice.WEIGHTS.read_text(encoding="utf-8") == produced
