"""The rule loader: a bad rule names its file, id and field; YAML pitfalls are defused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.engine.rulebook import CONFIG_FILES, SCHEMA_FILE, RuleError, load_rules, pack_schema
from app.settings import Settings

GOOD_RULE = """
family: test
rules:
  - id: sample-rule
    title: A sample
    category: cure_claim
    polarity: red_flag
    weight: 10
    explanation: Why this matters to a patient.
    advice: What to ask the clinic.
    match:
      phrases: [no, cure]
"""


# The packs whose reassuring rules scoring.yaml names (floor_lifted_by).
FLOOR_PACKS = ("oversight.yaml", "registry.yaml")


def _rules_dir(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name in (*CONFIG_FILES, *FLOOR_PACKS):
        shutil.copy(Settings().rules_dir / name, folder / name)
    (folder / "pack.yaml").write_text(body, encoding="utf-8")
    return folder


def test_the_shipped_rules_load() -> None:
    ruleset = load_rules(Settings().rules_dir)
    assert len(ruleset.rules) >= 15
    assert len(ruleset.version) == 12


def test_yes_and_no_stay_words(tmp_path: Path) -> None:
    ruleset = load_rules(_rules_dir(tmp_path, GOOD_RULE))
    assert ruleset.by_id["sample-rule"].match.phrases == ["no", "cure"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("weight: 10", "wieght: 10"), "pack.yaml: rule sample-rule: wieght: unknown key"),
        (
            ("category: cure_claim", "category: cures"),
            "rule sample-rule: category: unknown category",
        ),
        (("polarity: red_flag", "polarity: mitigating"), "is not a mitigating category"),
        (("weight: 10", "weight: 500"), "rule sample-rule: weight"),
        (("id: sample-rule", "id: Sample Rule"), "id: String should match pattern"),
        (("    match:\n      phrases: [no, cure]\n", ""), "this rule needs a `match`"),
        (("phrases: [no, cure]", "phrasez: [cure]"), "match.phrasez: unknown key"),
        (("explanation: Why this matters to a patient.", "explanation: short"), "explanation"),
        (
            (
                "      phrases: [no, cure]\n",
                "      phrases: [no, cure]\n    context:\n      suppress: [negatd]\n",
            ),
            "pack.yaml: rule sample-rule: context.suppress: unknown modifier 'negatd'",
        ),
        (
            ("phrases: [no, cure]", "patterns: [[{LOWR: cure}]]"),
            "match.patterns.0.0.LOWR: unknown key",
        ),
        (
            ("phrases: [no, cure]", "patterns: [[{LOWER: stem}, {LOWER: cell, OP: '*'}]]"),
            "match.patterns.0.1.OP: String should match pattern",
        ),
        (
            ("phrases: [no, cure]", "patterns: [[{LEMMA: {IN: [cure], REGEX: cur}}]]"),
            "exactly one of IN, NOT_IN or REGEX",
        ),
    ],
)
def test_bad_rules_are_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    body = GOOD_RULE.replace(*change)
    assert body != GOOD_RULE
    with pytest.raises(RuleError) as excinfo:
        load_rules(_rules_dir(tmp_path, body))
    assert expected in str(excinfo.value)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    folder = _rules_dir(tmp_path, GOOD_RULE)
    (folder / "other.yaml").write_text(GOOD_RULE, encoding="utf-8")
    with pytest.raises(RuleError, match="also used in"):
        load_rules(folder)


def test_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules(_rules_dir(tmp_path, "rules: [unclosed"))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="does not exist"):
        load_rules(tmp_path / "nowhere")


def test_a_new_modifier_needs_no_python(tmp_path: Path) -> None:
    folder = _rules_dir(
        tmp_path,
        GOOD_RULE.replace(
            "      phrases: [no, cure]\n",
            "      phrases: [no, cure]\n    context:\n      suppress: [rumoured]\n",
        ),
    )
    context = (folder / "context.yaml").read_text(encoding="utf-8")
    context = context.replace(
        "modifiers:\n", "modifiers:\n  rumoured:\n    direction: both\n    phrases: [rumour]\n", 1
    )
    (folder / "context.yaml").write_text(context, encoding="utf-8")
    assert load_rules(folder).by_id["sample-rule"].context.suppress == ["rumoured"]


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (
            "context.yaml",
            ("max_tokens: 5", "max_tokns: 5"),
            "context.yaml: modifiers.negated.max_tokns",
        ),
        ("scoring.yaml", ("decay: 0.5", "decay: 5"), "scoring.yaml: decay"),
        (
            "scoring.yaml",
            ("  - free-participation", "  - sample-rule"),
            "floor_lifted_by: 'sample-rule' is not a reassuring (mitigating) rule",
        ),
        ("applicability.yaml", ("cues_shown:", "cues_shwn:"), "applicability.yaml: cues_shwn"),
        ("applicability.yaml", ("offers: 0.5", "offers: 1.5"), "applicability.yaml: offers"),
        (
            "context.yaml",
            ("    red_flag: [first_person]", "    red_flag: [first_persn]"),
            "context.yaml: site_policy.discusses.red_flag: unknown modifier 'first_persn'",
        ),
        (
            "context.yaml",
            ("  discusses:\n    red_flag:", "  discuses:\n    red_flag:"),
            "site_policy.discuses",
        ),
    ],
)
def test_stage_config_files_are_checked(
    tmp_path: Path, name: str, change: tuple[str, str], expected: str
) -> None:
    folder = _rules_dir(tmp_path, GOOD_RULE)
    original = (folder / name).read_text(encoding="utf-8")
    assert change[0] in original
    (folder / name).write_text(original.replace(*change, 1), encoding="utf-8")
    with pytest.raises(RuleError) as excinfo:
        load_rules(folder)
    assert expected in str(excinfo.value)


def test_the_published_schema_is_the_loaders_own() -> None:
    # rules/schema.json is generated from the models the loader validates with; a change to a
    # model without `redflags rules schema` leaves editors checking against an old schema.
    committed = (Settings().rules_dir / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == pack_schema(), "run: .venv/bin/redflags rules schema"
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False  # unknown keys are errors, as in the loader
    rule = schema["$defs"]["Rule"]
    assert {"id", "title", "category", "polarity", "weight", "languages"} <= set(rule["properties"])
