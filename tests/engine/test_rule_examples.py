"""Every rule's own examples run through the real pipeline (the semgrep habit)."""

from __future__ import annotations

from app.engine.analyzer import Engine
from app.engine.rule_schema import Examples, Rule
from app.engine.rulebook import load_rules
from app.engine.ruletests import run_examples
from app.settings import Settings

_RULES = load_rules(Settings().rules_dir)


def _example_sets(rule: Rule) -> list[Examples]:
    return [rule.examples, *(variant.examples for variant in rule.languages.values())]


def test_every_rule_example_on_both_page_types(engine: Engine) -> None:
    """Own-voice matches fire on any page, impersonal ones on a selling page, hard negatives on
    neither; Spanish examples go through the Spanish pipeline."""
    results = run_examples(engine)
    expected_runs = sum(
        2 * (len(ex.match) + len(ex.match_when_selling) + len(ex.no_match))
        for r in _RULES.rules
        for ex in _example_sets(r)
    )
    assert len(results) == expected_runs
    assert {r.language for r in results} == {"en", "es"}
    failed = [
        (r.rule_id, r.language, r.page_kind, r.expected, r.text) for r in results if not r.passed
    ]
    assert not failed


def test_every_matching_rule_speaks_spanish() -> None:
    """Each rule that reads sentences has Spanish words (or finds only identifiers, which any
    language has) and Spanish examples of both kinds."""
    for rule in _RULES.rules:
        if rule.match is None:
            continue
        variant = rule.languages.get("es")
        assert variant is not None, f"{rule.id} has no Spanish variant"
        assert variant.match is not None or rule.match.identifiers, f"{rule.id}: no Spanish words"
        matches = variant.examples.match + variant.examples.match_when_selling
        assert matches and variant.examples.no_match, f"{rule.id}: Spanish examples of both kinds"


def test_enough_examples_including_hard_negatives() -> None:
    matches = sum(len(r.examples.match) + len(r.examples.match_when_selling) for r in _RULES.rules)
    negatives = sum(len(r.examples.no_match) for r in _RULES.rules)
    assert matches + negatives >= 40
    assert negatives >= 20


def test_every_matching_rule_has_both_kinds_of_example() -> None:
    for rule in _RULES.rules:
        if rule.match is None:  # absence and registry rules judge whole sites, not sentences
            continue
        matches = rule.examples.match + rule.examples.match_when_selling
        assert matches, f"{rule.id} has no match example"
        assert rule.examples.no_match, f"{rule.id} has no no_match example"
