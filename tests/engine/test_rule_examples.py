"""Every rule's own examples run through the real pipeline (the semgrep habit)."""

from __future__ import annotations

import pytest

from app.engine.analyzer import Engine
from app.engine.rulebook import load_rules
from app.settings import Settings

_RULES = load_rules(Settings().rules_dir)
CASES = [
    pytest.param(rule.id, text, expected, id=f"{rule.id}:{'match' if expected else 'no'}:{i}")
    for rule in _RULES.rules
    for i, (text, expected) in enumerate(
        [(t, True) for t in rule.examples.match] + [(t, False) for t in rule.examples.no_match]
    )
]


@pytest.mark.parametrize(("rule_id", "text", "expected"), CASES)
def test_rule_example(engine: Engine, rule_id: str, text: str, expected: bool) -> None:
    fired = engine.rule_hits(text)
    assert (rule_id in fired) == expected, f"fired: {sorted(fired)}"


def test_enough_examples_including_hard_negatives() -> None:
    matches = sum(len(r.examples.match) for r in _RULES.rules)
    negatives = sum(len(r.examples.no_match) for r in _RULES.rules)
    assert matches + negatives >= 40
    assert negatives >= 20


def test_every_matching_rule_has_both_kinds_of_example() -> None:
    for rule in _RULES.rules:
        if rule.match is None:  # absence and registry rules judge whole sites, not sentences
            continue
        assert rule.examples.match, f"{rule.id} has no match example"
        assert rule.examples.no_match, f"{rule.id} has no no_match example"
