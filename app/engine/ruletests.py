"""Every rule's own examples, run through the real pipeline (``redflags rules test`` and CI)."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.analyzer import Engine


@dataclass(frozen=True, slots=True)
class ExampleResult:
    rule_id: str
    text: str
    expected: bool  # True: the rule must fire; False: it must not
    fired: frozenset[str]

    @property
    def passed(self) -> bool:
        return (self.rule_id in self.fired) == self.expected


def run_examples(engine: Engine, only: str | None = None) -> list[ExampleResult]:
    results = []
    for rule in engine.ruleset.rules:
        if only and rule.id != only:
            continue
        cases = [(t, True) for t in rule.examples.match]
        cases += [(t, False) for t in rule.examples.no_match]
        for text, expected in cases:
            fired = frozenset(engine.rule_hits(text))
            results.append(ExampleResult(rule.id, text, expected, fired))
    return results
