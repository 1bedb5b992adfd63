"""Every rule's own examples, run through the real pipeline (``redflags rules test`` and CI)."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.analyzer import Engine
from app.engine.types import ApplicabilityKind

PAGE_KINDS: tuple[ApplicabilityKind, ...] = ("offers_treatment", "discusses")


@dataclass(frozen=True, slots=True)
class ExampleResult:
    rule_id: str
    text: str
    expected: bool  # True: the rule must fire; False: it must not
    fired: frozenset[str]
    page_kind: ApplicabilityKind = "offers_treatment"

    @property
    def passed(self) -> bool:
        return (self.rule_id in self.fired) == self.expected


def run_examples(engine: Engine, only: str | None = None) -> list[ExampleResult]:
    results = []
    for rule in engine.ruleset.rules:
        if only and rule.id != only:
            continue
        # A match example must fire on a page that sells; a hard negative must fire on no page,
        # whether the page sells or only discusses treatment.
        cases = [(t, True, "offers_treatment") for t in rule.examples.match]
        cases += [(t, False, kind) for t in rule.examples.no_match for kind in PAGE_KINDS]
        for text, expected, kind in cases:
            fired = frozenset(engine.rule_hits(text, kind))
            results.append(ExampleResult(rule.id, text, expected, fired, kind))
    return results
