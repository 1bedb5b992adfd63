"""Every rule's own examples, run through the real pipeline (``redflags rules test`` and CI)."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.analyzer import Engine
from app.engine.types import ApplicabilityKind

PAGE_KINDS: tuple[ApplicabilityKind, ...] = ("offers_treatment", "discusses")


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """One rule example run through the engine on one page type, and whether it behaved."""

    rule_id: str
    text: str
    expected: bool  # True: the rule must fire; False: it must not
    fired: frozenset[str]
    page_kind: ApplicabilityKind = "offers_treatment"
    language: str = "en"

    @property
    def passed(self) -> bool:
        return (self.rule_id in self.fired) == self.expected


def run_examples(engine: Engine, only: str | None = None) -> list[ExampleResult]:
    """Run every rule's examples (or one rule's) through ``engine`` on both page types."""
    results = []
    for rule in engine.ruleset.rules:
        if only and rule.id != only:
            continue
        # Every example runs on both page types: a match in the site's own voice fires on any
        # page, an impersonal claim only where the page sells, a hard negative on none.
        sets = [("en", rule.examples)]
        sets += [(code, variant.examples) for code, variant in rule.languages.items()]
        for language, examples in sets:
            cases = [(t, True, kind) for t in examples.match for kind in PAGE_KINDS]
            cases += [
                (t, kind == "offers_treatment", kind)
                for t in examples.match_when_selling
                for kind in PAGE_KINDS
            ]
            cases += [(t, False, kind) for t in examples.no_match for kind in PAGE_KINDS]
            for text, expected, kind in cases:
                fired = frozenset(engine.rule_hits(text, kind, language))
                results.append(ExampleResult(rule.id, text, expected, fired, kind, language))
    return results
