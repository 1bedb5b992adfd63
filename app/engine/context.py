"""Context around a match, in the spirit of medspacy's ConText, driven by ``rules/context.yaml``.

A modifier (negated, hedged, reported, question, hypothetical, own_voice) applies to a candidate
when one of its trigger phrases sits in the same sentence, on the configured side and within
``max_tokens`` words, with no terminator ("but", "however") in between. Pseudo-triggers ("not
only", "no doubt") cancel the triggers they overlap, and triggers inside the match itself never
apply to it (the negation in "no side effects" is part of that claim), except the ``self_evident``
voice modifiers: a match that says "call now" or "our lab" is in the site's own voice.

Quotation marks matter for voice: a trigger inside a quotation only reaches matches inside the
same quotation, own-voice words inside a quotation ("our lab is
FDA-registered", quoted by a consumer alert) are somebody else's words, and on a site that only
discusses treatment a match inside quotation marks is reported speech (``quotes`` in
context.yaml).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal, NamedTuple

from app.engine.nlp import CONTEXT_PREFIX, NlpArtifacts, TermHit
from app.engine.rule_schema import ContextPolicy
from app.engine.stage_config import ContextConfig
from app.engine.types import Adjustment

Direction = Literal["forward", "backward", "both"]


@dataclass(frozen=True, slots=True)
class ModifierSpec:
    """One context modifier as the resolver uses it: its name, direction and reach."""

    name: str
    direction: Direction
    max_tokens: int


class Trigger(NamedTuple):
    """A context word found in a page ("not", "may", "according to") and where (a named tuple:
    a page makes hundreds, see ``nlp.Sentence``)."""

    modifier: str
    text: str
    tok_start: int
    tok_end: int
    start: int = 0  # character offsets in the page text
    end: int = 0


class SentenceContext:
    """The usable context triggers of one page, grouped by sentence, and its quoted passages."""

    def __init__(
        self,
        by_sentence: dict[int, list[Trigger]],
        terminators: dict[int, list[int]],
        quotes: list[tuple[int, int]] | None = None,
    ):
        self.by_sentence = by_sentence
        self.terminators = terminators
        self.quotes = quotes or []
        self._quote_starts = [q[0] for q in self.quotes]

    def quote_of(self, start: int, end: int) -> int:
        """Index of the quoted passage holding the character span [start, end), or -1."""
        i = bisect.bisect_right(self._quote_starts, start) - 1
        return i if i >= 0 and self.quotes[i][0] <= start and end <= self.quotes[i][1] else -1

    def quoted(self, start: int, end: int) -> bool:
        return self.quote_of(start, end) >= 0


class ContextResolver:
    """Finds the modifiers that apply to a candidate and applies a rule's context policy."""

    def __init__(self, config: ContextConfig) -> None:
        self.modifiers: dict[str, ModifierSpec] = {}
        for name, spec in config.modifiers.items():
            self.modifiers[name] = ModifierSpec(name, spec.direction, spec.max_tokens)
        quotes = config.quotes
        self.quote_patterns = [_quote_pattern(o, c, quotes.max_chars) for o, c in quotes.pairs]
        # Modifiers whose trigger words do not count inside quotation marks (someone else's words).
        self.ignore_inside_quotes = set(quotes.ignore_triggers_inside)
        # Site kind -> modifier a match inside quotation marks gets ("discusses" -> "reported").
        self.quoted_match = quotes.match_inside
        # Modifiers whose trigger applies even inside the match ("call now" is own voice).
        self.self_evident = set(config.self_evident)
        # Page type -> modifiers every unquoted sentence of such a page has (a seller's voice).
        # Keyed by str (a candidate's page kind may be any string); a comprehension, because
        # dict() of a Literal-keyed dict does not type-check as dict[str, ...].
        self.page_voice: dict[str, list[str]] = {k: v for k, v in config.page_voice.items()}  # noqa: C416

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
        # Tokens inside some pseudo-trigger: a trigger whose first token is not among them
        # lies inside none (most do not), and only the others are compared with each.
        covered = {i for p in pseudo for i in range(p.tok_start, p.tok_end)}
        by_sentence: dict[int, list[Trigger]] = defaultdict(list)
        for kind, hit in raw:
            if hit.tok_start in covered and any(
                p.tok_start <= hit.tok_start and hit.tok_end <= p.tok_end for p in pseudo
            ):
                continue
            by_sentence[hit.sent].append(
                Trigger(
                    kind, text[hit.start : hit.end], hit.tok_start, hit.tok_end, hit.start, hit.end
                )
            )
        return SentenceContext(dict(by_sentence), dict(terminators), self._quotes(text))

    def _quotes(self, text: str) -> list[tuple[int, int]]:
        spans = [
            (m.start(1), m.end(1))
            for pattern in self.quote_patterns
            for m in pattern.finditer(text)
        ]
        spans.sort()
        merged: list[tuple[int, int]] = []
        for start, end in spans:  # keep the outer passage when quotations nest
            if merged and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def trigger_modifiers(
        self,
        ctx: SentenceContext,
        sent: int,
        tok_start: int,
        tok_end: int,
        span: tuple[int, int] | None = None,
    ) -> list[tuple[str, str]]:
        """(modifier, trigger text) pairs that trigger words of the sentence give tokens
        [tok_start, tok_end), whatever the page's type; ``span`` is the match's character span
        (quotation marks). ``with_page_voice`` adds what depends on the page: a candidate judged
        under two page types shares this part."""
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        stops = ctx.terminators.get(sent, [])
        for trig in ctx.by_sentence.get(sent, []):
            if trig.modifier in seen:
                continue
            if trig.tok_start < tok_end and tok_start < trig.tok_end:
                if trig.modifier in self.self_evident:
                    seen.add(trig.modifier)
                    found.append((trig.modifier, trig.text))
                continue
            quote = ctx.quote_of(trig.start, trig.end)
            if quote >= 0 and (
                trig.modifier in self.ignore_inside_quotes
                or (span is not None and ctx.quote_of(*span) != quote)
            ):
                # Words inside a quotation are the quoted person's: they neither give the site
                # its own voice nor modify a match outside that quotation.
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
        return found

    def with_page_voice(
        self,
        found: list[tuple[str, str]],
        quoted: bool,
        question: bool,
        applicability: str | None,
    ) -> list[tuple[str, str]]:
        """``found`` (from ``trigger_modifiers``) with what the page's type (``applicability``),
        quotation marks around the match and a question mark add: every modifier that applies."""
        seen = {name for name, _ in found}
        found = list(found)
        quoted_as = self.quoted_match.get(applicability or "")
        if quoted_as and quoted and quoted_as not in seen:
            found.append((quoted_as, "quotation marks"))
        for name in self.page_voice.get(applicability or "", ()):
            if name not in seen and not quoted:
                seen.add(name)
                found.append((name, "the page sells, so its unattributed sentences are its own"))
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


def _quote_pattern(open_mark: str, close_mark: str, max_chars: int) -> re.Pattern[str]:
    """A quoted passage within one paragraph; a closing mark that is also an apostrophe must not
    be followed by a letter (so "don’t" does not close a ‘quotation’)."""
    inner = f"[^\\n{re.escape(open_mark + close_mark)}]{{1,{max_chars}}}"
    after = r"(?!\w)" if close_mark in "’'" else ""
    return re.compile(f"{re.escape(open_mark)}({inner}){re.escape(close_mark)}{after}")
