"""Context around a match, in the spirit of medspacy's ConText, driven by ``rules/context.yaml``.

A modifier (negated, hedged, reported, question, hypothetical, own_voice) applies to a candidate
when one of its trigger phrases sits in the same sentence, on the configured side and within
``max_tokens`` words, with no terminator ("but", "however") in between. Pseudo-triggers ("not
only", "no doubt") cancel the triggers they overlap, and triggers inside the match itself never
apply to it: the negation in "no side effects" is part of that claim.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from app.engine.nlp import CONTEXT_PREFIX, NlpArtifacts, TermHit
from app.engine.rulebook import ContextPolicy, Rule
from app.engine.types import Adjustment

Direction = Literal["forward", "backward", "both"]


@dataclass(frozen=True, slots=True)
class ModifierSpec:
    name: str
    direction: Direction
    max_tokens: int


@dataclass(frozen=True, slots=True)
class Trigger:
    modifier: str
    text: str
    tok_start: int
    tok_end: int


class SentenceContext:
    """The usable context triggers of one page, grouped by sentence."""

    def __init__(self, by_sentence: dict[int, list[Trigger]], terminators: dict[int, list[int]]):
        self.by_sentence = by_sentence
        self.terminators = terminators


class ContextResolver:
    """Finds the modifiers that apply to a candidate and applies a rule's context policy."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.modifiers: dict[str, ModifierSpec] = {}
        for name, spec in config.get("modifiers", {}).items():
            self.modifiers[name] = ModifierSpec(
                name, spec.get("direction", "forward"), int(spec.get("max_tokens", 8))
            )
        self.site_policy: dict[str, dict[str, list[str]]] = config.get("site_policy", {})

    def index(self, text: str, artifacts: NlpArtifacts) -> SentenceContext:
        """Group a page's triggers by sentence, dropping those that a pseudo-trigger covers."""
        pseudo: list[TermHit] = []
        raw: list[tuple[str, TermHit]] = []
        terminators: dict[int, list[int]] = defaultdict(list)
        for hit in artifacts.triggers:
            if not hit.key.startswith(CONTEXT_PREFIX):
                continue
            kind = hit.key[len(CONTEXT_PREFIX) :].split("|", 1)[0]
            if kind == "pseudo":
                pseudo.append(hit)
            elif kind == "terminators":
                terminators[hit.sent].append(hit.tok_start)
            elif kind in self.modifiers:
                raw.append((kind, hit))
        by_sentence: dict[int, list[Trigger]] = defaultdict(list)
        for kind, hit in raw:
            if any(p.tok_start <= hit.tok_start and hit.tok_end <= p.tok_end for p in pseudo):
                continue
            by_sentence[hit.sent].append(
                Trigger(kind, text[hit.start : hit.end], hit.tok_start, hit.tok_end)
            )
        return SentenceContext(dict(by_sentence), dict(terminators))

    def modifiers_for(
        self, ctx: SentenceContext, sent: int, tok_start: int, tok_end: int, question: bool
    ) -> list[tuple[str, str]]:
        """Return (modifier, trigger text) pairs that apply to tokens [tok_start, tok_end)."""
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        stops = ctx.terminators.get(sent, [])
        for trig in ctx.by_sentence.get(sent, []):
            if trig.modifier in seen or (trig.tok_start < tok_end and tok_start < trig.tok_end):
                continue
            spec = self.modifiers[trig.modifier]
            if trig.tok_end <= tok_start and spec.direction in ("forward", "both"):
                gap, lo, hi = tok_start - trig.tok_end, trig.tok_end, tok_start
            elif trig.tok_start >= tok_end and spec.direction in ("backward", "both"):
                gap, lo, hi = trig.tok_start - tok_end, tok_end, trig.tok_start
            else:
                continue
            if gap > spec.max_tokens or any(lo <= s < hi for s in stops):
                continue
            seen.add(trig.modifier)
            found.append((trig.modifier, trig.text))
        if question:
            found.append(("question", "?"))
        return found

    @staticmethod
    def apply(
        policy: ContextPolicy, modifiers: list[tuple[str, str]], base_weight: float
    ) -> tuple[float, list[Adjustment], str | None]:
        """Apply a rule's policy; return (weight, adjustments, reason it was removed or None)."""
        adjustments: list[Adjustment] = []
        weight = base_weight
        reason = None
        present = {name for name, _ in modifiers}
        for name, trigger in modifiers:
            if name in policy.suppress:
                adjustments.append(Adjustment(modifier=name, trigger=trigger, effect="suppress"))
                reason = reason or f"{name} by “{trigger}”"
            elif name in policy.scale:
                factor = policy.scale[name]
                weight *= factor
                effect = "boost" if factor > 1 else "scale"
                adjustments.append(
                    Adjustment(modifier=name, trigger=trigger, effect=effect, factor=factor)
                )
        for needed in policy.require:
            if needed not in present and reason is None:
                reason = f"needs {needed.replace('_', ' ')} in the same sentence"
        return weight, adjustments, reason

    def site_requirement(self, applicability: str, rule: Rule) -> list[str]:
        """Modifiers a rule's candidates need on a site of this applicability kind."""
        return self.site_policy.get(applicability, {}).get(rule.polarity, [])
