"""Every rule's own examples run through the real pipeline (the semgrep habit)."""

from __future__ import annotations

from app.engine.analyzer import Engine
from app.engine.rulebook import load_rules
from app.engine.ruletests import run_examples
from app.settings import Settings

_RULES = load_rules(Settings().rules_dir)


def test_every_rule_example_on_both_page_types(engine: Engine) -> None:
    """Match examples fire on a selling page; hard negatives fire on neither page type."""
    results = run_examples(engine)
    assert len(results) == sum(
        len(r.examples.match) + 2 * len(r.examples.no_match) for r in _RULES.rules
    )
    failed = [(r.rule_id, r.page_kind, r.expected, r.text) for r in results if not r.passed]
    assert not failed


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
