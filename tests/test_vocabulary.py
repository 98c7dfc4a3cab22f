"""The evidence-tag vocabulary file: the default, a library's own copy, its checks, the CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.errors import TrackerError
from tracker.tagging import evidence, tag_record
from tracker.vocabulary import (
    DEFAULT_PATH,
    VocabularyError,
    load_vocabulary,
    vocabulary_path,
    write_default,
)

LEAFLET = {  # the patient leaflet's wording and frequencies, copied by hand from DESIGN.md
    "dizziness or lightheadedness": "common",
    "headache": "common",
    "nausea or vomiting": "common",
    "drowsiness": "common",
    "confusion": "less common",
    "disorientation": "less common",
    "altered perception": "less common",
    "hallucinations": "less common",
    "raised heart rate or blood pressure": "less common",
    "changes in appetite or sleep": "less common",
}
NOT_IN_LEAFLET = [
    "dissociation", "urinary symptoms", "blurred or double vision", "numbness or tingling",
    "taste disturbance", "anxiety", "euphoria", "fatigue", "dry mouth", "liver injury",
    "respiratory depression",
]  # fmt: skip


def _copy(data_dir: Path, old: str = "", new: str = "") -> Path:
    """The default vocabulary written into ``data_dir``, with one edit."""
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text, old
    path = data_dir / "vocabulary.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _error(data_dir: Path) -> str:
    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(data_dir)
    message = str(caught.value)
    assert str(data_dir / "vocabulary.toml") in message
    assert "fix the file or delete it to go back to the default" in message
    return message


def test_the_default_lists_the_facets_and_the_leaflets_effects_first() -> None:
    vocabulary = load_vocabulary(None)
    assert vocabulary.path == DEFAULT_PATH
    assert vocabulary.facet_names == ("design", "drug", "route", "condition", "adverse_effects")
    effects = vocabulary.facet_values()["adverse_effects"]
    assert list(effects) == [*LEAFLET, *NOT_IN_LEAFLET]
    assert vocabulary.claimed_effects() == LEAFLET


def test_the_fingerprint_is_the_sha256_of_the_file(data_dir: Path) -> None:
    default = load_vocabulary(None)
    assert default.fingerprint == hashlib.sha256(DEFAULT_PATH.read_bytes()).hexdigest()
    assert load_vocabulary(None).fingerprint == default.fingerprint
    _copy(data_dir, "reach = 50", "reach = 25")
    assert load_vocabulary(data_dir).fingerprint != default.fingerprint


def test_a_librarys_own_copy_wins_over_the_default(data_dir: Path) -> None:
    assert vocabulary_path(data_dir) == DEFAULT_PATH
    written = write_default(data_dir)
    assert written == data_dir / "vocabulary.toml"
    assert written.read_bytes() == DEFAULT_PATH.read_bytes()
    assert vocabulary_path(data_dir) == written
    assert load_vocabulary(data_dir).path == written


def test_writing_the_default_never_overwrites_an_edited_copy(data_dir: Path) -> None:
    path = _copy(data_dir, "reach = 50", "reach = 20")
    with pytest.raises(VocabularyError, match="already exists"):
        write_default(data_dir)
    assert "reach = 20" in path.read_text(encoding="utf-8")


def test_an_added_synonym_tags_records_without_touching_code(data_dir: Path) -> None:
    _copy(data_dir, "'\\bvertigo\\b']\n", "'\\bvertigo\\b', '\\bgiddiness\\b']\n")
    records = pd.DataFrame({
        "record_id": [1], "title": ["Oral ketamine in neuropathic pain"],
        "abstract": ["Giddiness was the commonest adverse effect."],
        "publication_types": [[]], "mesh_terms": [[]],
    })  # fmt: skip
    own = evidence(records, vocabulary=load_vocabulary(data_dir))
    assert own.loc[1, "adverse_effects"] == ["dizziness or lightheadedness"]
    assert evidence(records).loc[1, "adverse_effects"] == []


def test_a_new_value_gets_its_own_flag_column(data_dir: Path) -> None:
    _copy(data_dir, '[[drug]]\nvalue = "esketamine"',
          '[[drug]]\nvalue = "hydroxynorketamine"\ntext = [\'\\bhydroxynorketamine\\b\']\n\n'
          '[[drug]]\nvalue = "esketamine"')  # fmt: skip
    vocabulary = load_vocabulary(data_dir)
    assert vocabulary.facet_values()["drug"][0] == "hydroxynorketamine"
    tags = tag_record("Hydroxynorketamine in mice", "", [], [], vocabulary=vocabulary)
    assert tags["drug"] == ["hydroxynorketamine"]


def test_an_unknown_facet_is_named(data_dir: Path) -> None:
    _copy(data_dir, '[[design]]\nvalue = "open-label"', '[[desing]]\nvalue = "open-label"')
    assert "[[desing]] is not a facet" in _error(data_dir)


def test_a_value_cancelled_by_an_undeclared_value_is_named(data_dir: Path) -> None:
    _copy(data_dir, '"design:review"]', '"design:narrative review"]')
    message = _error(data_dir)
    assert '[[design]] "RCT" is cancelled by design:narrative review, which is not' in message


def test_a_value_declared_twice_is_named(data_dir: Path) -> None:
    _copy(data_dir, 'value = "open-label"', 'value = "cross-over"')
    assert '[[design]] "cross-over" is declared twice' in _error(data_dir)


def test_a_pattern_python_cannot_compile_is_named(data_dir: Path) -> None:
    _copy(data_dir, r"'\bdysgeusia\b'", r"'\bdysgeusia(\b'")
    message = _error(data_dir)
    assert '[[adverse_effects]] "taste disturbance"' in message
    assert "is not a valid regex" in message


def test_a_pattern_re2_refuses_is_named(data_dir: Path) -> None:
    _copy(data_dir, r"'\bdysgeusia\b'", r"'(?<!no )dysgeusia'")
    message = _error(data_dir)
    assert '"taste disturbance" text pattern' in message and "not accepted by RE2" in message


def test_a_value_without_a_name_is_named_by_its_position(data_dir: Path) -> None:
    _copy(data_dir, 'value = "oral"', 'valeu = "oral"')
    assert "[[route]] number 3 has no `value" in _error(data_dir)


def test_a_missing_negation_setting_is_named(data_dir: Path) -> None:
    _copy(data_dir, "reach = 50", "")
    assert "[negation] lacks 'reach'" in _error(data_dir)


def test_a_file_that_is_not_toml_is_named(data_dir: Path) -> None:
    _copy(data_dir, "[negation]", "[negation")
    assert "is not valid TOML" in _error(data_dir)


def test_a_vocabulary_error_is_a_tracker_error() -> None:
    assert issubclass(VocabularyError, TrackerError)


def test_the_command_shows_the_file_in_use_and_counts_its_cues(data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["vocabulary", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert f"Vocabulary in use: {DEFAULT_PATH} (the default)" in result.output
    assert "adverse_effects (21 values)" in result.output
    assert "  dizziness or lightheadedness: 3 text patterns, 2 MeSH terms, leaflet: common\n" in (
        result.output
    )
    assert "  RCT: 1 text pattern, 1 publication type\n" in result.output


def test_the_command_copies_the_default_once(data_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["vocabulary", "--init", "--data-dir", str(data_dir)])
    assert first.exit_code == 0 and "vocabulary.toml: edit it" in first.output
    again = runner.invoke(main, ["vocabulary", "--init", "--data-dir", str(data_dir)])
    assert again.exit_code == 1 and "already exists" in again.output
    shown = runner.invoke(main, ["vocabulary", "--data-dir", str(data_dir)])
    assert "(this library's own copy)" in shown.output


def test_the_check_passes_a_valid_file_and_fails_a_broken_one(data_dir: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(main, ["vocabulary", "--check", "--data-dir", str(data_dir)])
    assert good.exit_code == 0 and "is valid: 58 values" in good.output  # issue #17: +10 designs
    _copy(data_dir, r"'\bdysgeusia\b'", r"'(?<!no )dysgeusia'")
    bad = runner.invoke(main, ["vocabulary", "--check", "--data-dir", str(data_dir)])
    assert bad.exit_code == 1
    assert bad.output.startswith("Error: ") and "not accepted by RE2" in bad.output
