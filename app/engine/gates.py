"""The gates a candidate passes after its context modifiers, in order.

Each gate looks at one thing and returns the reason it sets the candidate aside, or None. The
first reason wins and is what ``--explain`` shows, so the order below is the order a reader is
told things: where on the page the match is, what kind of block holds it, what its sentence is
about, and whose voice it is in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from app.engine.rule_schema import Rule
from app.engine.stage_config import ContextConfig
from app.extract.page import BlockKind, Region


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the gates know of one match."""

    rule: Rule
    text: str  # the page's text
    region: Region
    block_kind: BlockKind | None  # None when the page has no blocks (plain text, examples)
    sentence: tuple[int, int] | None  # character offsets of the match's sentence
    present: frozenset[str]  # the context modifiers found around the match
    page_kind: str  # the page type the match is judged under


Gate = Callable[[Candidate], str | None]


def region(candidate: Candidate) -> str | None:
    """Set aside a match in a page region the rule does not read (menus, footers...)."""
    if candidate.region not in candidate.rule.context.regions:
        return f"in the page's {candidate.region}, which this rule ignores"
    return None


def block_kind(candidate: Candidate) -> str | None:
    """Set aside a match in a kind of block the rule skips (buttons, links...)."""
    kind = candidate.block_kind
    if kind is not None and kind in candidate.rule.context.skip_kinds:
        return f"in a {kind.replace('_', ' ')}, which this rule ignores"
    return None


class SentenceWords:
    """A rule's ``sentence_mentions`` (one must be there) and ``sentence_excludes`` (none may)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.mentions = {
            r.id: _words(r.context.sentence_mentions) for r in rules if r.context.sentence_mentions
        }
        self.excludes = {
            r.id: _words(r.context.sentence_excludes) for r in rules if r.context.sentence_excludes
        }

    def __call__(self, candidate: Candidate) -> str | None:
        if candidate.sentence is None:
            return None
        rule, text = candidate.rule, candidate.text
        start, end = candidate.sentence
        mentions = self.mentions.get(rule.id)
        if mentions is not None and not mentions.search(text, start, end):
            words = ", ".join(rule.context.sentence_mentions[:4])
            return f"the sentence does not mention {words} or the like"
        excludes = self.excludes.get(rule.id)
        found = excludes.search(text, start, end) if excludes is not None else None
        if found:
            return f"the sentence is about something else (“{found.group(0)}”)"
        return None


class SiteVoice:
    """On a page of this type, a sign of this polarity needs these modifiers (``site_policy``
    in context.yaml): on a page that only discusses treatment, a red flag counts in the site's
    own voice only."""

    def __init__(self, config: ContextConfig) -> None:
        self.policy: dict[str, dict[str, list[str]]] = {
            kind: {polarity: names for polarity, names in needs.items()}  # noqa: C416 (str keys)
            for kind, needs in config.site_policy.items()
        }

    def needs(self, page_kind: str, polarity: str) -> list[str]:
        """The modifiers a sign of ``polarity`` needs on a page of ``page_kind``."""
        return self.policy.get(page_kind, {}).get(polarity, [])

    def __call__(self, candidate: Candidate) -> str | None:
        for modifier in self.needs(candidate.page_kind, candidate.rule.polarity):
            if modifier not in candidate.present:
                return (
                    f"the page {candidate.page_kind.replace('_', ' ')} stem-cell treatment and "
                    f"this sentence is not in its own voice (no {modifier.replace('_', ' ')} word)"
                )
        return None


class GateChain(NamedTuple):
    """The gates in the order they are asked: first those about where the match is and what
    its sentence says (``place``: they read neither the modifiers found nor the page type, so a
    candidate judged under two page types asks them once), then whose voice it is in."""

    place: tuple[Gate, ...]
    voice: SiteVoice

    @property
    def all(self) -> tuple[Gate, ...]:
        return (*self.place, self.voice)


def gates(rules: Sequence[Rule], config: ContextConfig) -> GateChain:
    """The gates in the order they are asked."""
    return GateChain((region, block_kind, SentenceWords(rules)), SiteVoice(config))


def first_reason(chain: Sequence[Gate], candidate: Candidate) -> str | None:
    """The reason of the first gate that sets the candidate aside, or None: it is kept."""
    for gate in chain:
        reason = gate(candidate)
        if reason is not None:
            return reason
    return None


def _words(words: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(map(re.escape, words))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
